"""`equime fetch-models` and `equime aus`: the face models, and the FACS catalogue as text."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 90


def add_parser(sub: Any) -> None:
    sub.add_parser(
        "fetch-models", help="fetch and cache the face landmarker and the real-data AU model"
    ).set_defaults(run=run_fetch_models)
    sub.add_parser("aus", help="list the Action Units and emotion prototypes").set_defaults(
        run=run_aus
    )


def run_fetch_models(args: argparse.Namespace) -> int:
    from equime.faces.au_mesh import au_mesh_path
    from equime.faces.model import ensure_landmarker_model

    print(ensure_landmarker_model())
    print(au_mesh_path())
    return 0


def run_aus(args: argparse.Namespace) -> int:
    from equime.facs.aus import AUS
    from equime.facs.emotions import PROTOTYPES

    for au in AUS.values():
        sided = " (may be one-sided: R/L)" if au.sided else ""
        print(f"AU{au.number:<3} {au.name:<22} {au.region:<7} {au.words}{sided}")
    print()
    for proto in PROTOTYPES.values():
        optional = ", ".join(f"{c} (p={p})" for c, p in proto.optional.items()) or "-"
        required = "+".join(proto.required) or "-"
        print(f"{proto.emotion:<10} required: {required:<14} optional: {optional}")
    return 0
