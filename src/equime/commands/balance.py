"""`equime balance`: a deterministic stratified subset of a dataset, written as a new split."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 40


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "balance", help="pick a subset balanced over emotion, gender, race, age (a new split)"
    )
    p.add_argument("dataset", help="dataset folder (with metadata.parquet)")
    p.add_argument(
        "--by", default="emotion,gender,race", help="comma list of columns (default %(default)s)"
    )
    p.add_argument(
        "--target",
        default="uniform",
        help="uniform, proportional, or a CSV of cells with a count or share column",
    )
    p.add_argument(
        "--size",
        type=int,
        help="rows in the subset (uniform: a multiple of the cells; default: every cell gets "
        "as many as the smallest non-empty cell has)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="split name (default balanced-<target>-<size>-s<seed>)")
    p.add_argument(
        "--links", action="store_true", help="also a folder of symbolic links to the videos"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from equime.dataset.metadata import read_metadata
    from equime.dataset.splits import write_split
    from equime.errors import EquimeError

    root = Path(args.dataset)
    if not (root / "metadata.parquet").is_file():
        raise EquimeError(f"{root}: not a dataset folder (no metadata.parquet)")
    from equime.dataset.balance import balance

    by = [b.strip() for b in args.by.split(",") if b.strip()]
    result = balance(read_metadata(root), by, args.target, args.size, args.seed)
    target_name = (
        Path(args.target).stem if args.target not in ("uniform", "proportional") else args.target
    )
    name = args.out or f"balanced-{target_name}-{args.size or 'all'}-s{args.seed}"
    config = {"by": by, "target": args.target, "size": args.size, "seed": args.seed}
    written = write_split(root, name, result, config, links=args.links)
    cells = result.cells
    print(
        f"{name}: {len(result.selected)} of {int(cells['target'].sum())} wanted rows, "
        f"{int((cells['status'] == 'filled').sum())}/{len(cells)} cells filled"
        + (
            f", {result.left_out_unknown} rows with unknown values left out"
            if result.left_out_unknown
            else ""
        )
    )
    print(cells.to_string(index=False))
    if result.unfillable:
        print("cannot be filled: " + "; ".join(result.unfillable))
    for path in written:
        print(f"  wrote {path}")
    return 0
