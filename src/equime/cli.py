"""The `equime` command: one sub-command per stage (see equime.commands); parse, call, print."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from equime import __version__
from equime.commands import command_modules
from equime.errors import EquimeError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="equime", description="Synthetic, demographically fair micro-expression datasets."
    )
    parser.add_argument("--version", action="version", version=f"equime {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in command_modules():
        module.add_parser(sub)
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
