"""`equime quality PATH`: the paper's Table-2 video quality metrics for a dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ORDER = 40


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "quality",
        help="video quality metrics (PSNR, SSIM, TV, BRISQUE, CLIP-IQA) and the Table-2 layout",
        description=(
            "Measure every video of PATH: an EquiME dataset (metadata.parquet), a folder of "
            "videos, or a real dataset's folders of frame images (SAMM / CASME II style)."
        ),
    )
    p.add_argument("path", help="dataset folder, folder of videos, or folder of frame folders")
    p.add_argument(
        "--out",
        help="report folder (default: PATH/reports/quality for an EquiME dataset, "
        "./quality_<name> otherwise)",
    )
    p.add_argument("--reference", help="a second folder to compare against (or its report)")
    p.add_argument(
        "--definition",
        choices=["paper", "exact"],
        default="paper",
        help="paper (default): the authors' Table-2 definitions (grey frames, identical "
        "consecutive frames scored PSNR 100 / SSIM 1, BRISQUE unclipped), so figures compare "
        "with the paper; exact: colour frames, identical pairs left out (counted)",
    )
    p.add_argument(
        "--grayscale", action="store_true", help="with --definition exact: grey frames first"
    )
    p.add_argument("--clip-model", help="CLIP model folder for CLIP-IQA (transformers format)")
    p.add_argument(
        "--every", type=int, default=1, metavar="K", help="use every K-th frame (default 1)"
    )
    p.add_argument("--fps", type=float, help="frame rate of frame-image folders (for bitrate)")
    p.add_argument("--workers", type=int, help="processes, one video each (default: all CPU cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from equime.errors import EquimeError
    from equime.quality import QualityOptions
    from equime.quality.run import run_quality

    if args.every < 1:
        raise EquimeError(f"--every {args.every}: must be 1 or more")
    if args.workers is not None and args.workers < 1:
        raise EquimeError(f"--workers {args.workers}: must be 1 or more")
    if args.grayscale and args.definition == "paper":
        raise EquimeError("--grayscale: only with --definition exact (paper is always grey)")
    options = QualityOptions(
        definition=args.definition,
        grayscale=args.grayscale,
        every=args.every,
        clip_model=args.clip_model,
        fps=args.fps,
    )
    report = run_quality(
        Path(args.path),
        args.out,
        args.reference,
        options,
        workers=args.workers,
        progress=not args.no_progress,
    )
    print(report.read_text(encoding="utf-8"))
    print(f"{report.parent}: quality.parquet, quality.csv, summary.csv, quality.md, PNG plots")
    return 0
