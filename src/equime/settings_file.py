"""A YAML or JSON file of settings for a dataclass: read, checked, and every problem in one line."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from equime.errors import EquimeError


def read_settings(path: str | Path, known: Iterable[str], what: str, noun: str) -> dict[str, Any]:
    """The file's mapping; unknown keys are named with the known ones, never ignored. `what` names
    the file's role in messages ('config', 'experiment'), `noun` its keys ('setting', 'keys')."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise EquimeError(f"{p}: cannot read {what} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise EquimeError(f"{p}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise EquimeError(f"{p}: the {what} must be a mapping of settings")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise EquimeError(
            f"{p}: unknown {noun} {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return data
