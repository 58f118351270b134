"""`equime spot PATH`: spot micro- and macro-expressions in long videos; score against ground
truth where it is known (an EquiME long dataset's intervals.csv, a real dataset's sheet,
--truth)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

ORDER = 35


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "spot",
        help="spot micro- and macro-expressions in long videos (spots.csv; MEGC score if truth)",
        description="PATH: a dataset made by `equime generate --long` (scored against its "
        "intervals.csv), a real long-video dataset with --format, a folder of videos / frame "
        "folders, or one video.",
    )
    p.add_argument("path", help="dataset folder, real dataset root (--format), folder or video")
    p.add_argument(
        "--format", dest="dataset_format", help="real dataset loader: casme2-lv, samm-lv, casme3-lv"
    )
    p.add_argument("--truth", help="ground-truth intervals CSV (video, type, onset, offset)")
    p.add_argument("--out", help="output folder (default PATH/spot, or PATH_spot beside it)")
    p.add_argument("--fps", type=float, help="frame rate of frame folders (default 30)")
    p.add_argument("--iou", type=float, default=0.5, help="IoU for a true positive (default 0.5)")
    p.add_argument(
        "--method",
        default="motion",
        help="spotting method: motion (default), mdmd (MEGC 2020 baseline), lbp-chi2 (MEGC 2019 "
        "baseline)",
    )
    p.add_argument(
        "--z-threshold", type=float, help="motion: peak rise in noise SDs (default: the method's)"
    )
    p.add_argument(
        "--workers", type=int, default=1, help="parallel processes (default 1; 0 = all cores)"
    )
    p.add_argument(
        "--recognise",
        action="store_true",
        help="name each interval's emotion from its apex AUs (f_Z): spots.csv gets emotion, "
        "the score STRS",
    )
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the per-video PNGs")
    p.add_argument("--face-model", help="path to face_landmarker.task")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from equime.errors import EquimeError
    from equime.spot.intervals import read_intervals
    from equime.spot.run import dataset_items, folder_items, loader_items, run_spot
    from equime.spot.spotter import SpotConfig

    root = Path(args.path)
    if not root.exists():
        raise EquimeError(f"{root}: no such file or folder")
    truth = None
    if args.dataset_format:
        from equime.spot.datasets import load_long_dataset

        truth = load_long_dataset(args.dataset_format, root, args.fps)
        items = loader_items(truth)
    elif (root / "metadata.parquet").is_file():
        items, truth = dataset_items(root)
    else:
        items = folder_items(root, args.fps)
    if args.truth:
        truth = read_intervals(args.truth)
    default = (
        root / "spot"
        if root.is_dir() and (root / "metadata.parquet").is_file()
        else root.parent / f"{root.stem}_spot"
    )
    out = Path(args.out) if args.out else default
    from equime.spot.methods import spot_method

    spot_method(args.method)  # an unknown name is one line, before any video is read
    cfg = SpotConfig(method=args.method)
    if args.z_threshold is not None:
        cfg = replace(cfg, z_threshold=args.z_threshold)
    spots, score, errors = run_spot(
        items,
        out,
        cfg,
        truth,
        args.face_model,
        args.workers,
        args.progress,
        args.plots,
        args.iou,
        str(root),
        args.recognise,
    )
    for e in errors:
        print(f"equime: {e['error']}")
    print(f"{out}: {len(items) - len(errors)} videos spotted, {len(spots)} intervals (spots.csv)")
    if score is not None:
        with pd.option_context("display.width", 140, "display.precision", 3):
            print(score.table.to_string())
    return 0
