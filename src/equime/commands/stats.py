"""`equime stats`: demographic distributions, plots and dataset bias metrics of a dataset."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 50


def add_parser(sub: Any) -> None:
    p = sub.add_parser("stats", help="who is in a dataset, per emotion, and bias metrics")
    p.add_argument("dataset", help="dataset folder, or a metadata .csv / .parquet (e.g. a split)")
    p.add_argument("--out", help="report folder (default <dataset>/reports/stats)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from equime.demographics.report import write_stats
    from equime.errors import EquimeError

    src = Path(args.dataset)
    if src.is_dir() and (src / "metadata.parquet").is_file():
        frame = pd.read_parquet(src / "metadata.parquet")
        default_out = src / "reports" / "stats"
    elif src.is_file() and src.suffix in (".csv", ".parquet"):
        frame = pd.read_parquet(src) if src.suffix == ".parquet" else pd.read_csv(src, dtype=str)
        default_out = src.parent / "reports" / f"stats-{src.stem}"
    else:
        raise EquimeError(f"{src}: not a dataset folder or a metadata .csv/.parquet file")
    if "label" not in frame.columns:
        raise EquimeError(f"{src}: no 'label' column (the emotion of each video)")
    out = Path(args.out) if args.out else default_out
    written = write_stats(frame, out, src.name)
    print(f"{src}: {len(frame)} videos; report in {out}")
    for path in written:
        print(f"  wrote {path}")
    return 0
