"""`equime datasets check`: read a real dataset as the loaders do and say what is in it."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 55


def add_parser(sub: Any) -> None:
    p = sub.add_parser("datasets", help="check a micro-expression dataset before training")
    actions = p.add_subparsers(dest="action", required=True)
    c = actions.add_parser(
        "check",
        help="clips per label and subject, rows skipped and why, errata, apexes, frame rate",
    )
    c.add_argument("path", help="the dataset folder")
    c.add_argument(
        "--format", required=True, help="samm, casme2, casme3, smic, miex, equime, folder"
    )
    c.add_argument("--sheet", help="the annotation sheet (file name under PATH, or a path)")
    c.add_argument(
        "--no-errata", action="store_true", help="read the sheet as released (no corrections)"
    )
    c.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a loader option, e.g. modality=HS (smic), expression=all (casme3)",
    )
    c.add_argument(
        "--out",
        help="also write the report as JSON to this file (default: printed only)",
    )
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    import logging
    from pathlib import Path

    from equime.errors import EquimeError
    from equime.files import write_text_atomic
    from equime.mer.datasets import get_dataset, load_options
    from equime.mer.datasets.check import check_dataset, format_report

    spec = get_dataset(args.format)
    accepted = load_options(spec.name)
    options: dict[str, object] = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep:
            raise EquimeError(f"--option {item!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    if args.sheet:
        options["sheet"] = args.sheet
    if args.no_errata:
        if "errata" not in accepted:
            raise EquimeError(f"dataset {spec.name} has no errata to switch off")
        options["errata"] = False
    quiet = logging.getLogger("equime.mer.datasets")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the report says it all, once
    try:
        report = check_dataset(spec.name, args.path, **options)
    finally:
        quiet.setLevel(level)
    lines = format_report(report)
    if args.out:  # JSON only when asked for: a check writes nothing where it was started
        out = Path(args.out)
        write_text_atomic(out, json.dumps(report, indent=2, default=str) + "\n")
        lines = [*lines[:-1], f"report: {out}", lines[-1]]
    print("\n".join(lines))
    return 0 if report["usable"] else 1
