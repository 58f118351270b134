"""AU read-out speed and warp fidelity, measured on the demo faces at default settings (25 fps).

    python benchmarks/bench_verify.py [--emotions all] [--out DIR] [--per-face N] [--seed S]
        [--readouts flow,landmarks,blendshapes]

Makes `equime generate --demo --fps 25 --emotions all` (161 frames, 256x256, default eps_X), then
(a) decodes every video (baseline), (b) reads every frame (decode + MediaPipe landmarks and
blendshapes, tracked), (c) every 2nd and (d) every 4th frame; then runs the full verification with
each read-out (flow = the default; landmarks and blendshapes for comparison) and prints the
per-emotion fidelity table (AU F1 of the read-out and of the second opinion, FACS region
directions, `facs_au_f1`; the share of videos where they disagree on a requested AU), the per-AU
table, the share of unrequested (video, AU) pairs that stayed within baseline noise, the list of
disagreements, and the no-expression check.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from equime.faces.landmarker import Landmarker
from equime.generation.config import GenerateConfig
from equime.generation.pipeline import generate
from equime.verify.config import VerifyConfig
from equime.verify.readout import iter_frames, read_out
from equime.verify.run import summary_by_au, summary_by_emotion, verify_dataset


def markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (pandas' to_markdown needs the `tabulate` package)."""
    cols = [frame.index.name or "", *map(str, frame.columns)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for key, row in frame.astype(object).iterrows():
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(key), *cells]) + " |")
    return "\n".join(lines)


def quiet_share(meta: pd.DataFrame, table: pd.DataFrame) -> str:
    """How many (video, AU) pairs that were not requested did not rise at apex."""
    from equime.facs.aus import AUS
    from equime.verify.fidelity import requested_numbers
    from equime.verify.run import requested_aus

    asked = {r["id"]: len(requested_numbers(requested_aus(r))) for _, r in meta.iterrows()}
    pairs = sum(len(AUS) - asked[i] for i in table["id"])
    rose = sum(len([a for a in str(u).split("+") if a]) for u in table["verify_unrequested_aus"])
    return f"{pairs - rose} of {pairs} ({1 - rose / pairs:.1%})"


def demo_config(args: argparse.Namespace, out: Path, do_only: bool = False) -> GenerateConfig:
    """The demo at 25 fps (161 frames, 256x256, default eps_X); `do_only`: nothing requested."""
    return GenerateConfig(
        source="demo",
        out=str(out),
        fps=25.0,
        emotions=args.emotions,
        per_face=args.per_face,
        seed=args.seed,
        do_only=do_only,
        progress=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emotions", default="all")
    parser.add_argument("--out", help="dataset folder (default: a temporary one)")
    parser.add_argument("--readouts", default="flow,landmarks,blendshapes")
    parser.add_argument("--per-face", type=int, default=1, help="videos per face and emotion")
    parser.add_argument("--seed", type=int, default=0, help="Z, timing and eps_X seed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out or Path(tmp) / "demo25")
        generate(demo_config(args, root))
        meta = pd.read_parquet(root / "metadata.parquet")
        videos = [root / f for f in meta["file_name"]]

        start = time.perf_counter()
        frames = sum(1 for v in videos for _ in iter_frames(v))
        decode_s = time.perf_counter() - start
        rows = [("(a) decode only (baseline)", frames, frames, decode_s)]
        with Landmarker(max_faces=1) as landmarker:
            for every, label in ((1, "(b) read-out, every frame"), (2, "(c) every 2nd"),
                                 (4, "(d) every 4th")):  # fmt: skip
                start = time.perf_counter()
                read = sum(len(read_out(v, landmarker, every).frames) for v in videos)
                rows.append((label, frames, read, time.perf_counter() - start))
        print(f"{len(videos)} videos, {frames} frames, 256x256 at 25 fps\n")
        print("| step | video frames/s | read frames/s | ms per read frame | time / decode |")
        print("|---|---|---|---|---|")
        for label, n, read, seconds in rows:
            print(
                f"| {label} | {n / seconds:.0f} | {read / seconds:.0f} | "
                f"{1000 * seconds / read:.1f} | {seconds / decode_s:.1f} |"
            )

        readouts = args.readouts.split(",")
        for readout in readouts:
            start = time.perf_counter()
            table, _ = verify_dataset(root, VerifyConfig(readout=readout), progress=False)
            rate = frames / (time.perf_counter() - start)
            print(f"\n## read-out: {readout}; full verify (every frame): {rate:.0f} frames/s\n")
            print(markdown(summary_by_emotion(meta, table)))
            print()
            print(markdown(summary_by_au(meta, table)))
            print(f"\nunrequested (video, AU) pairs within noise: {quiet_share(meta, table)}")
            worst = {c: table[f"{c}_error_frames"].abs().max() for c in ("onset", "offset")}
            print(
                f"\nspotting vs the warp's ground truth: max |onset error| {worst['onset']:.0f}, "
                f"max |offset error| {worst['offset']:.0f} frames"
            )
            if "verify_disagree_aus" in table:
                print("\nsecond opinion (FACS region directions) disagreeing on a requested AU:")
                flagged = table[table["verify_disagree_aus"].fillna("") != ""]
                for _, row in flagged.iterrows():
                    print(f"- {row['id']}: {row['verify_disagreement']}")
                print(f"({len(flagged)} of {len(table)} videos)")

        blank = Path(tmp) / "blank25"  # nothing requested: eps_X only
        generate(demo_config(args, blank, do_only=True))
        for readout in readouts:
            table, _ = verify_dataset(blank, VerifyConfig(readout=readout), progress=False)
            none = int((table["verify_reasons"] == "no expression").sum())
            failed = int((~table["verified"].astype(bool)).sum())
            others = sorted(set(table["verify_reasons"]) - {"no expression"})
            print(f"\n{readout}: no AU requested (--do-only): {len(table)} videos, {failed} fail,")
            print(f"{none} reported as 'no expression'; the others: {others}")


if __name__ == "__main__":
    main()
