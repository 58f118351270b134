"""The versions recorded beside every result (card, checkpoints, reports): equime, Python, and
the installed packages that shaped that result."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from equime import __version__


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def versions(*packages: str) -> dict[str, str]:
    return {
        "equime": __version__,
        "python": platform.python_version(),
        **{name: package_version(name) for name in packages},
    }
