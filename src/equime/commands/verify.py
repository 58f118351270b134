"""`equime verify DATASET`: read the AUs back from every video; check them against the request."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from equime.errors import EquimeError
from equime.verify.config import READOUTS

ORDER = 30


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="measure the AUs every video shows (optical flow on AU templates) and check them",
        description="A dataset made by `equime generate`: verify columns in its metadata. "
        "Any other folder of videos or frame folders: AU curves and estimated spotting in --out.",
    )
    p.add_argument("dataset", help="a dataset folder, or a folder of videos / frame folders")
    p.add_argument(
        "--readout",
        choices=READOUTS,
        default=READOUTS[0],
        help="AU read-out: optical flow on AU templates (default), landmark geometry on AU "
        "templates, landmark geometry on the real-data AU model (mesh), or MediaPipe blendshapes",
    )
    p.add_argument("--every", type=int, default=1, help="read every k-th frame (default 1)")
    p.add_argument("--lead-in", type=float, default=0.25, help="neutral share at the clip start")
    p.add_argument(
        "--detrend", type=int, default=31, help="frames of slow drift removed (default 31; 0 = off)"
    )
    p.add_argument("--reject", action="store_true", help="move failures to rejected.csv")
    p.add_argument("--plots", action="store_true", help="one AU-curve PNG per emotion")
    p.add_argument(
        "--out", help="output folder for a plain folder (default DATASET/../<name>_verify)"
    )
    p.add_argument(
        "--workers", type=int, default=1, help="parallel processes (default 1; 0 = all cores)"
    )
    p.add_argument("--face-model", help="path to face_landmarker.task")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from equime.dataset.layout import DatasetLayout
    from equime.verify.config import VerifyConfig
    from equime.verify.run import (
        reject_failures,
        summary_by_au,
        summary_by_emotion,
        verify_dataset,
        verify_folder,
    )

    root = Path(args.dataset)
    if not root.is_dir():
        raise EquimeError(f"{root}: not a folder")
    cfg = VerifyConfig(
        readout=args.readout, every=args.every, lead_in=args.lead_in, detrend=args.detrend
    )
    layout = DatasetLayout(root)
    if not layout.metadata_parquet.is_file():
        out = Path(args.out) if args.out else root.parent / f"{root.name}_verify"
        table, results = verify_folder(root, out, cfg, args.face_model, args.progress, args.workers)
        if args.plots:
            from equime.verify.plots import plot_results

            plot_results(
                results, out / "plots", lambda r: Path(r.video).parts[0], None, cfg.z_threshold
            )
        shown = int(table["expression"].sum())
        print(f"{out}: {len(table)} videos read, {shown} with an expression (timing estimated)")
        return 0
    if args.out:
        raise EquimeError("--out is for plain folders; a dataset's columns go into its metadata")
    from equime.dataset.metadata import update_columns

    table, results = verify_dataset(root, cfg, args.face_model, args.progress, args.workers)
    meta = update_columns(root, "verify", table)
    with pd.option_context("display.width", 120, "display.precision", 2):
        print(summary_by_emotion(meta, table).to_string())
        print(summary_by_au(meta, table).to_string())
    if args.plots:
        from equime.verify.plots import plot_results

        emotion = dict(zip(meta["id"], meta["target_emotion"], strict=True))
        plot_results(
            results, root / "verify" / "plots", group=lambda r: emotion[r.video], meta=meta
        )
    passed = int(table["verified"].sum())
    print(f"{root}: {passed} of {len(table)} videos verified")
    if args.reject:
        n = reject_failures(root, table)
        print(f"{root}: {n} rejected (rejected.csv; usable = False; videos kept on disk)")
    return 0
