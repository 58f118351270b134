"""`equime preview IMAGE`: one video per emotion for one photo, and a contact sheet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from equime.commands._settings import settings, synthesis_flags

ORDER = 20


def add_parser(sub: Any) -> None:
    p = sub.add_parser("preview", help="one video per emotion for one photo, and a contact sheet")
    p.add_argument("image", help="a face photo")
    p.add_argument("--out", default="preview", help="output folder (default ./preview)")
    synthesis_flags(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from equime.generation.config import GenerateConfig
    from equime.generation.preview import preview

    merged = settings(args, skip=("image", "out"))
    merged.setdefault("emotions", "all")
    cfg = GenerateConfig(**merged)
    sheet = preview(Path(args.image), Path(args.out), cfg)
    print(f"{sheet.parent}: {len(cfg.emotions)} videos and {sheet.name}")
    return 0
