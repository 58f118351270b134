"""`equime generate`: face photos -> a labelled micro-expression video dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from equime.commands._settings import settings, synthesis_flags
from equime.errors import EquimeError
from equime.generation.long_config import PRESETS

ORDER = 10


def add_parser(sub: Any) -> None:
    p = sub.add_parser("generate", help="make a labelled micro-expression video dataset")
    p.add_argument(
        "path", nargs="?", help="face photos: a folder, a CSV list, or a CelebA-HQ folder"
    )
    p.add_argument("--source", choices=["auto", "demo", "folder", "csv", "celeba"], default="auto")
    p.add_argument("--demo", action="store_true", help="use the bundled public-domain demo photos")
    p.add_argument("--out", help="dataset folder (default runs/demo)")
    p.add_argument("--per-face", type=int, help="videos per face and emotion (default 1)")
    p.add_argument("--limit", type=int, help="use at most this many faces")
    p.add_argument(
        "--balance-by",
        help="comma list of gender, race, age: equal faces per group (with --limit: its share)",
    )
    p.add_argument("--label-noise", type=float, help="eps_Y: probability a label is flipped (0-1)")
    p.add_argument(
        "--non-smiling", action="store_true", default=None, help="CelebA: Smiling == -1 only"
    )
    p.add_argument(
        "--neutral",
        choices=["neutralise", "reject", "keep"],
        help="a source face that is not neutral (smiling, frowning, ...): undo its expression "
        "(default), reject it, or keep it",
    )
    p.add_argument(
        "--neutral-threshold",
        type=float,
        help="blendshape score above which a face is not neutral (default 0.5)",
    )
    p.add_argument(
        "--min-face", type=int, help="smallest usable face in source pixels (default 64)"
    )
    p.add_argument(
        "--faces",
        choices=["largest", "all"],
        help="a photo with several faces: use the largest (default) or each, as its own identity",
    )
    p.add_argument("--margin", type=float, help="crop margin around the face (default 0.6)")
    p.add_argument("--crf", type=int, help="H.264 quality, 0-51 (default 18)")
    p.add_argument("--preset", help="x264 preset (default medium)")
    p.add_argument(
        "--workers", type=int, help="parallel workers (default: all cores; ltx: one per GPU)"
    )
    p.add_argument("--executor", choices=["local", "ray"], help="where videos are made")
    p.add_argument("--address", help="ray: cluster address (default: start a local cluster)")
    p.add_argument("--retries", type=int, help="ray: retries after a worker dies (default 2)")
    p.add_argument(
        "--write-on-workers",
        action=argparse.BooleanOptionalAction,
        help="ray: workers write into --out (a disk every node shares) instead of returning "
        "videos to this machine (default: only on a local cluster)",
    )
    p.add_argument(
        "--overwrite", action="store_true", default=None, help="replace the --out folder"
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    p.add_argument(
        "--long",
        action="store_true",
        default=None,  # absent: not a setting at all, so a config file's `long:` stands
        help="long videos with micro- and macro-expressions, blinks and head drift "
        "(+ intervals.csv); settings under `long:` in --config",
    )
    p.add_argument("--duration", type=float, help="--long: seconds per video (default 20)")
    p.add_argument(
        "--difficulty",
        choices=tuple(PRESETS),
        help="--long: distractors as in real footage (talking, head turns and nods, occlusion, "
        "light and noise): easy (none), realistic (default), hard",
    )
    synthesis_flags(p)
    p.set_defaults(run=run)


def _source_kind(args: argparse.Namespace) -> tuple[str, str | None]:
    if args.demo or (args.path is None and args.source in ("auto", "demo")):
        return "demo", None
    if args.path is None:
        raise EquimeError(f"--source {args.source} needs a PATH")
    if args.source != "auto":
        return args.source, args.path
    path = Path(args.path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return "csv", args.path
    if (path / "CelebAMask-HQ-attribute-anno.txt").is_file():
        return "celeba", args.path
    return "folder", args.path


def run(args: argparse.Namespace) -> int:
    from equime.generation.config import GenerateConfig
    from equime.generation.pipeline import generate

    source, path = _source_kind(args)
    merged = settings(args, skip=("demo", "source", "path", "long", "duration", "difficulty"))
    flags = {"duration_s": args.duration, "preset": args.difficulty}
    flags = {k: v for k, v in flags.items() if v is not None}
    if args.long or flags:  # the flags add to a config file's `long:`
        prior = merged.get("long")
        merged["long"] = {**(prior if isinstance(prior, dict) else {}), **flags}
    cfg = GenerateConfig(**{"source": source, "path": path, **merged})
    report = generate(cfg)
    print(
        f"{report.root}: {report.made} videos made, {report.skipped} already done, "
        f"{len(report.rejected)} rejected (see rejected.csv)"
    )
    if report.unused_faces:
        print(
            f"{report.unused_faces} more faces found in group photos and not used "
            "(--faces all uses each)"
        )
    for note in report.notes:
        print(note)
    return 0
