"""`equime ui`: the web page, on this computer only unless told otherwise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ORDER = 90
LOCAL = "127.0.0.1"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("ui", help="open the web page (preview, datasets, reports)")
    p.add_argument(
        "--folder",
        default="equime-ui",
        help="working folder: uploads, previews, datasets and jobs live here (default ./equime-ui)",
    )
    p.add_argument(
        "--photos",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of photos the page may read (repeatable); nothing else is readable",
    )
    p.add_argument("--port", type=int, help="port (default: 7860 or the next free one)")
    p.add_argument(
        "--host",
        default=LOCAL,
        help="address to listen on (default 127.0.0.1: this computer only). "
        "0.0.0.0 lets other computers in: the page has no login",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from equime.errors import EquimeError
    from equime.ui.safety import Roots

    photos = tuple(Path(p) for p in args.photos)
    for folder in photos:
        if not folder.is_dir():
            raise EquimeError(f"{folder}: --photos needs an existing folder")
    if args.host not in (LOCAL, "localhost", "::1"):
        print(
            f"equime: warning: listening on {args.host}: anyone who can reach this computer "
            "can use the page, upload photos and start jobs (there is no login)",
            file=sys.stderr,
        )
    from equime.ui.app import launch

    roots = Roots(Path(args.folder).resolve(), photos)
    launch(roots, host=args.host, port=args.port, block=True)
    return 0
