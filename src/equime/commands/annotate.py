"""`equime annotate`: demographic labels (value, confidence, source) for datasets or photos."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ORDER = 30


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "annotate", help="label gender / race / age of a dataset's faces or of source photos"
    )
    p.add_argument(
        "path",
        nargs="?",
        help="a dataset folder, a photo folder, or a CSV photo list (omit with --demo)",
    )
    p.add_argument(
        "--with",
        dest="annotator",
        default="age-gender",
        help="annotator: age-gender (embedded), table, deepface (optional extra)",
    )
    p.add_argument(
        "--table", help="table annotator: CelebA attribute file, CSV by image, or 'demo'"
    )
    p.add_argument(
        "--ignore-unknown",
        action="store_true",
        help="table: skip rows naming images that are not here (e.g. a full CelebA file)",
    )
    p.add_argument("--demo", action="store_true", help="annotate the bundled demo photos")
    p.add_argument(
        "--out", help="photos: the CSV to write (default <folder>/equime-annotations.csv)"
    )
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def _annotator(args: argparse.Namespace) -> Any:
    from equime.demographics.annotators import create_annotator
    from equime.errors import EquimeError

    if args.annotator == "table":
        return create_annotator("table", table=args.table, ignore_unknown=args.ignore_unknown)
    if args.table:
        raise EquimeError(f"--table is for --with table, not --with {args.annotator}")
    return create_annotator(args.annotator)


def _default_out(path: Path | None) -> Path:
    if path is None:
        return Path("equime-annotations.csv")
    if path.is_file():
        return path.with_name(f"{path.stem}-annotated.csv")
    return path / "equime-annotations.csv"


def run(args: argparse.Namespace) -> int:
    from equime.demographics.annotate import annotate_dataset, annotate_photos, is_dataset
    from equime.errors import EquimeError

    if args.demo == bool(args.path):
        raise EquimeError("give a dataset or photo folder, or --demo (not both)")
    path = Path(args.path) if args.path else None
    if path is not None and not path.exists():
        raise EquimeError(f"{path}: no such file or folder")
    annotator = _annotator(args)
    if path is not None and is_dataset(path):
        if args.out:
            raise EquimeError("--out is for photos; a dataset gets columns in its metadata")
        result = annotate_dataset(path, annotator, progress=args.progress)
    else:
        out = Path(args.out) if args.out else _default_out(path)
        result = annotate_photos(path, out, annotator, progress=args.progress)
    print(f"{annotator.name}: {len(result.labels)} face(s) annotated")
    for _, row in result.disagreements.iterrows():
        print(
            f"  disagrees: {row['key']} {row['attribute']}: {annotator.name} says "
            f"{row['annotator_value']} ({row['annotator_confidence']}), "
            f"{row['label_source']} says {row['label']} -> kept {row['kept']}"
        )
    for path_written in result.written:
        print(f"  wrote {path_written}")
    return 0
