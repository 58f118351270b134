"""The `equime` command: one sub-command per stage; parse, call, print. No logic lives here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from equime import __version__
from equime.errors import EquimeError

log = logging.getLogger("equime")

# CLI flag -> generator option name; the flags are shared by `generate` and `preview`.
GENERATOR_FLAGS = {
    "strength": "strength",
    "head_motion": "head_motion_px",
    "light_drift": "light_drift",
    "sensor_noise": "sensor_noise",
}


def _synthesis_flags(parser: argparse.ArgumentParser) -> None:
    """Flags that change what a video shows (default None: 'not given', so config files apply)."""
    add = parser.add_argument
    add("--emotions", help="comma list, 'paper' (the paper's five, default) or 'all' (seven)")
    add(
        "--seed",
        type=int,
        help="run seed (default 0); each sample's seed derives from it and its id",
    )
    add("--noise-seed", type=int, help="seed of eps_X only (head motion, lighting, sensor noise)")
    add("--do", metavar="AUS", help="intervention on Z, e.g. '12=0.4,R14=0,6B' (0 removes an AU)")
    add("--do-only", action="store_true", default=None, help="Z is exactly --do; nothing sampled")
    add("--size", type=int, help="output width and height in pixels (default 256)")
    add("--fps", type=float, help="frames per second (default 24)")
    add("--frames", dest="n_frames", type=int, help="frames per clip (default 161)")
    add("--generator", help="video generator (default warp)")
    add("--strength", type=float, help="warp: global movement gain (default 1)")
    add("--head-motion", type=float, help="warp: eps_X head motion in pixels")
    add("--light-drift", type=float, help="warp: eps_X relative lighting drift")
    add("--sensor-noise", type=float, help="warp: eps_X sensor noise (grey levels, std)")
    add("--face-model", help="path to face_landmarker.task (default: fetched once and cached)")
    add("--config", help="YAML or JSON file of settings; flags given here override it")


def _generate_parser(sub: Any) -> None:
    p = sub.add_parser("generate", help="make a labelled micro-expression video dataset")
    p.add_argument(
        "path", nargs="?", help="face photos: a folder, a CSV list, or a CelebA-HQ folder"
    )
    p.add_argument("--source", choices=["auto", "demo", "folder", "csv", "celeba"], default="auto")
    p.add_argument("--demo", action="store_true", help="use the bundled public-domain demo photos")
    p.add_argument("--out", help="dataset folder (default runs/demo)")
    p.add_argument("--per-face", type=int, help="videos per face and emotion (default 1)")
    p.add_argument("--limit", type=int, help="use at most this many faces")
    p.add_argument("--label-noise", type=float, help="eps_Y: probability a label is flipped (0-1)")
    p.add_argument(
        "--non-smiling", action="store_true", default=None, help="CelebA: Smiling == -1 only"
    )
    p.add_argument(
        "--min-face", type=int, help="smallest usable face in source pixels (default 64)"
    )
    p.add_argument("--margin", type=float, help="crop margin around the face (default 0.6)")
    p.add_argument("--crf", type=int, help="H.264 quality, 0-51 (default 18)")
    p.add_argument("--preset", help="x264 preset (default medium)")
    p.add_argument("--workers", type=int, help="parallel workers (default: all cores)")
    p.add_argument(
        "--overwrite", action="store_true", default=None, help="replace the --out folder"
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    _synthesis_flags(p)
    p.set_defaults(run=_run_generate)


def _preview_parser(sub: Any) -> None:
    p = sub.add_parser("preview", help="one video per emotion for one photo, and a contact sheet")
    p.add_argument("image", help="a face photo")
    p.add_argument("--out", default="preview", help="output folder (default ./preview)")
    _synthesis_flags(p)
    p.set_defaults(run=_run_preview)


def _settings(args: argparse.Namespace, skip: Sequence[str]) -> dict[str, Any]:
    """Config-file values, overridden by every flag the user actually gave."""
    from equime.config import load_config_file

    settings = load_config_file(args.config) if args.config else {}
    options = dict(settings.pop("generator_options", {}) or {})
    for key, value in vars(args).items():
        if value is None or key in skip:
            continue
        if key in GENERATOR_FLAGS:
            options[GENERATOR_FLAGS[key]] = value
        else:
            settings[key] = value
    settings["generator_options"] = options
    return settings


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


def _run_generate(args: argparse.Namespace) -> int:
    from equime.config import GenerateConfig
    from equime.run.generate import generate

    source, path = _source_kind(args)
    settings = _settings(
        args, skip=("command", "run", "config", "verbose", "demo", "source", "path")
    )
    cfg = GenerateConfig(**{"source": source, "path": path, **settings})
    report = generate(cfg)
    print(
        f"{report.root}: {report.made} videos made, {report.skipped} already done, "
        f"{len(report.rejected)} rejected (see rejected.csv)"
    )
    return 0


def _run_preview(args: argparse.Namespace) -> int:
    from equime.config import GenerateConfig
    from equime.preview_run import preview

    settings = _settings(args, skip=("command", "run", "config", "verbose", "image", "out"))
    settings.setdefault("emotions", "all")
    cfg = GenerateConfig(**settings)
    sheet = preview(Path(args.image), Path(args.out), cfg)
    print(f"{sheet.parent}: {len(cfg.emotions)} videos and {sheet.name}")
    return 0


def _run_fetch_models(args: argparse.Namespace) -> int:
    from equime.faces.model import ensure_landmarker_model

    print(ensure_landmarker_model())
    return 0


def _run_aus(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="equime", description=__doc__)
    parser.add_argument("--version", action="version", version=f"equime {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _generate_parser(sub)
    _preview_parser(sub)
    sub.add_parser("fetch-models", help="fetch and cache the face landmarker model").set_defaults(
        run=_run_fetch_models
    )
    sub.add_parser("aus", help="list the Action Units and emotion prototypes").set_defaults(
        run=_run_aus
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="equime: %(message)s"
    )
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except EquimeError as exc:
        print(f"equime: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "equime: interrupted; finished work is kept, run the same command to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
