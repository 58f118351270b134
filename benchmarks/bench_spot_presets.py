"""Every spotting method on generated long videos of each difficulty preset (MEGC overall F1 at
IoU 0.5), and the default method's speed against decoding.

    python benchmarks/bench_spot_presets.py [--duration 60] [--per-face 1] [--seed 0]
        [--presets easy,realistic,hard] [--methods motion,mdmd,lbp-chi2] [--workers 2]

For each preset: `equime generate --demo --long` (both demo faces, 256x256, 24 fps) with
`long: {preset: P, duration_s: D}`, then each method through `equime spot`'s own code
(`spot.run.spot_items`), scored against intervals.csv (distractors are never truths: a spot
on a talking burst or a blink is a false positive). Speed, on the realistic preset: every video
decoded in this process (the baseline), then spotted with the default method on `--workers`
cores; ratios in the same process, on a machine shared with others.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from equime.generation.config import GenerateConfig
from equime.generation.pipeline import generate
from equime.spot.intervals import check_table, read_intervals
from equime.spot.methods import method_names
from equime.spot.run import dataset_items, spot_items
from equime.spot.score import score_spots
from equime.spot.spotter import SpotConfig
from equime.video.mp4 import iter_video


def decode_all(paths: list[str]) -> float:
    start = time.perf_counter()
    for path in paths:
        for _ in iter_video(path):
            pass
    return time.perf_counter() - start


def make(root: Path, preset: str, args: argparse.Namespace) -> Path:
    if not (root / "intervals.csv").is_file():
        generate(
            GenerateConfig(
                source="demo",
                out=str(root),
                per_face=args.per_face,
                seed=args.seed,
                long={"preset": preset, "duration_s": args.duration},
                progress=False,
                workers=args.workers,
            )
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--per-face", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--presets", default="easy,realistic,hard")
    parser.add_argument("--methods", default=",".join(method_names()))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="keep the datasets here (default: temporary)")
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="bench_spot_presets_"))
    rows = []
    for preset in args.presets.split(","):
        root = make(base / preset, preset, args)
        items, _ = dataset_items(root)
        truth = read_intervals(root / "intervals.csv")
        seconds = float(pd.read_parquet(root / "metadata.parquet")["duration_s"].sum())
        for method in args.methods.split(","):
            start = time.perf_counter()
            results, errors = spot_items(
                items, SpotConfig(method=method), workers=args.workers, progress=False
            )
            spot_s = time.perf_counter() - start
            spots = pd.DataFrame(
                [s for r in results for s in r["spots"]],
                columns=["video", "type", "onset", "apex", "offset", "score"],
            )
            table = score_spots(truth, check_table(spots, "spots")).table
            row = {"preset": preset, "method": method, "videos": len(items), "seconds": seconds}
            for kind in ("me", "mae", "overall"):
                row[f"{kind}_f1"] = round(float(table.loc[kind, "f1"]), 3)
            row["tp/truth/pred"] = (
                f"{int(table.loc['overall', 'tp'])}/{int(table.loc['overall', 'truth'])}"
                f"/{int(table.loc['overall', 'pred'])}"
            )
            row["spot_s"] = round(spot_s, 1)
            if preset == "realistic" and method == "motion":
                decode_s = decode_all([i.path for i in items])
                row["decode_s"] = round(decode_s, 2)
                row["x_real_time"] = round(seconds / spot_s, 1)
                row["x_decode"] = round(spot_s / decode_s, 1)
            row["errors"] = len(errors)
            rows.append(row)
            print(row, flush=True)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    print(f"datasets: {base}")


if __name__ == "__main__":
    main()
