"""`equime score-spots TRUTH PRED`: the MEGC spotting score (and STRS) of any spotted intervals."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ORDER = 36


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "score-spots",
        help="MEGC spotting recall / precision / F1 per type and overall (+ STRS)",
        description="TRUTH and PRED are CSV tables with video, type (me/mae or micro/macro), "
        "onset, offset (frames, inclusive); a PRED `emotion` column adds STRS. A TRUTH folder "
        "means its intervals.csv.",
    )
    p.add_argument("truth", help="ground truth: intervals.csv (or a dataset folder holding it)")
    p.add_argument("pred", help="predictions: spots.csv")
    p.add_argument("--iou", type=float, default=0.5, help="IoU for a true positive (default 0.5)")
    p.add_argument("--out", help="folder for score.csv, score.json and tp_pairs.csv")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from equime.spot.intervals import read_intervals
    from equime.spot.report import write_score
    from equime.spot.score import score_spots

    truth, pred = read_intervals(args.truth), read_intervals(args.pred)
    score = score_spots(truth, pred, args.iou)
    with pd.option_context("display.width", 140, "display.precision", 3):
        print(score.table.to_string())
    if args.out:
        out = Path(args.out)
        write_score(out, score, {"truth": str(args.truth), "pred": str(args.pred), "iou": args.iou})
        print(f"{out}: score.csv, score.json, tp_pairs.csv")
    return 0
