"""Spotting on long videos: MEGC scores on the demo, speed against decoding, and intervals.csv
against verify's read-out.

    python benchmarks/bench_spot.py [--out DIR] [--per-face N] [--seed S] [--duration SECONDS]
        [--workers 2] [--no-verify]

Makes `equime generate --demo --long` (both demo faces, 256x256, 24 fps, default 20 s, the
default `realistic` preset with its distractors), then (a) decodes every video in this process
(the baseline), (b) spots every video on `--workers` cores (`equime spot`'s own code with its
default method, `motion`: the face tracked and re-aligned, flow with head motion removed, spotted
against each video's own baseline and noise on its usable stretches; with no more videos than
cores the cores go to flow threads inside one process, else to processes) and the first video on
one core, then spots again naming each interval's emotion (`--recognise`), (c) scores the spots
against intervals.csv (MEGC: IoU >= 0.5, per type and overall; distractor rows are no
expressions to find), and (d) cuts every
micro-expression out of its long video with a neutral lead-in and reads it with verify (flow
read-out, spotting): onset, apex and offset against intervals.csv.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from equime.generation.config import GenerateConfig
from equime.generation.pipeline import generate
from equime.spot.intervals import check_table, read_intervals
from equime.spot.run import dataset_items, spot_items
from equime.spot.score import score_spots
from equime.spot.spotter import SpotConfig
from equime.video.mp4 import iter_video


def decode_all(paths: list[str]) -> tuple[float, int]:
    start, n = time.perf_counter(), 0
    for path in paths:
        for _ in iter_video(path):
            n += 1
    return time.perf_counter() - start, n


def verify_micro(root: Path, tmp: Path) -> pd.DataFrame:
    """Per micro-expression: verify's onset/apex/offset minus intervals.csv's (frames)."""
    import cv2

    from equime.faces.landmarker import Landmarker
    from equime.verify.config import VerifyConfig
    from equime.verify.fidelity import Truth
    from equime.verify.run import requested_aus, verify_video
    from equime.video.mp4 import read_mp4

    intervals = pd.read_csv(root / "intervals.csv", keep_default_na=False)
    rows = []
    with Landmarker(max_faces=1) as landmarker:
        for video, events in intervals[intervals["type"] == "me"].groupby("video"):
            frames = read_mp4(root / events["file_name"].iloc[0])
            for e in events.itertuples():
                start = e.onset - 12
                folder = tmp / f"{video}-{e.onset}"
                folder.mkdir(parents=True)
                for k, frame in enumerate(frames[start : e.offset + 14]):
                    cv2.imwrite(
                        str(folder / f"img{k + 1}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
                    )
                truth = Truth(e.onset - start, e.apex - start, e.offset - start)
                aus = requested_aus(pd.Series({"aus": e.aus}))
                res = verify_video(folder, landmarker, aus, VerifyConfig(), truth)
                rows.append(
                    {
                        "video": video,
                        "onset": e.onset,
                        "d_onset": res.spot.onset - truth.onset,
                        "d_apex": res.spot.apex - truth.apex,
                        "d_offset": res.spot.offset - truth.offset,
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="dataset folder (default: a temporary one)")
    parser.add_argument("--per-face", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out) if args.out else Path(tmp) / "long"
        cfg = GenerateConfig(
            source="demo",
            out=str(root),
            per_face=args.per_face,
            seed=args.seed,
            long={"duration_s": args.duration},
            progress=False,
        )
        generate(cfg)
        items, _ = dataset_items(root)
        seconds = sum(pd.read_parquet(root / "metadata.parquet")["duration_s"])
        decode_s, n_frames = decode_all([i.path for i in items])
        start = time.perf_counter()
        results, errors = spot_items(items, SpotConfig(), workers=args.workers, progress=False)
        spot_s = time.perf_counter() - start
        start = time.perf_counter()
        spot_items(items[:1], SpotConfig(), workers=1, progress=False)
        one_s = time.perf_counter() - start
        start = time.perf_counter()
        results, _ = spot_items(
            items, SpotConfig(), workers=args.workers, progress=False, recognise=True
        )
        recognise_s = time.perf_counter() - start
        spots = pd.DataFrame([s for r in results for s in r["spots"]])
        score = score_spots(read_intervals(root / "intervals.csv"), check_table(spots, "spots"))
        cols = [
            "truth",
            "pred",
            "tp",
            "fp",
            "fn",
            "precision",
            "recall",
            "f1",
            "analysis_f1",
            "strs",
        ]
        table = score.table[cols]
        print(
            f"videos: {len(items)} ({seconds:.0f} s, {n_frames} frames, 256x256); errors: {errors}"
        )
        print(table.round(3).to_string())
        print(
            f"decode (1 process): {decode_s:.2f} s = {seconds / decode_s:.0f}x real time\n"
            f"spot ({args.workers} cores, {len(items)} videos): {spot_s:.2f} s = "
            f"{seconds / spot_s:.1f}x real time, {spot_s / decode_s:.1f}x decode time\n"
            f"spot (1 core, first video incl. face detection): {one_s:.2f} s = "
            f"{seconds / len(items) / one_s:.1f}x real time\n"
            f"spot + recognise ({args.workers} cores): {recognise_s:.2f} s = "
            f"{seconds / recognise_s:.1f}x real time"
        )
        record = {
            "videos": len(items),
            "seconds": seconds,
            "decode_s": decode_s,
            "spot_s": spot_s,
            "one_video_one_process_s": one_s,
            "spot_and_recognise_s": recognise_s,
            "score": json.loads(table.to_json(orient="index")),
        }
        if args.verify:
            d = verify_micro(root, Path(tmp) / "windows")
            worst = d[["d_onset", "d_apex", "d_offset"]].abs().max()
            print(f"verify vs intervals.csv on {len(d)} micro-expressions (frames):")
            print(d.to_string(index=False))
            parts = ", ".join(f"{k[2:]} {worst[k]}" for k in worst.index)
            print(f"largest |difference|: {parts}")
            record["verify_max_abs"] = {k: int(v) for k, v in worst.items()}
            record["verify_mean_abs"] = {k: float(np.abs(d[k]).mean()) for k in worst.index}
        print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
