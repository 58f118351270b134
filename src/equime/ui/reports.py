"""Reports on a dataset (`equime stats`, `quality`, `spot`): whether they exist, and their output.

The commands come from other stages; a version of EquiME without one says so on the page.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

# report command -> the module that computes it (an installation without it offers no button)
REPORT_MODULES = {
    "stats": "equime.demographics.report",
    "quality": "equime.quality.run",
    "spot": "equime.spot.run",  # long videos: spotted intervals against the truth, a plot each
}
REPORTS = tuple(REPORT_MODULES)
# a Markdown image with a relative target: the page shows these plots in its gallery instead
_LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?![a-z]+:)[^)]*\)")


def available_commands() -> set[str]:
    """Report commands whose module this installation has (found without importing it)."""
    return {name for name, module in REPORT_MODULES.items() if _has_module(module)}


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def report_dir(dataset: Path, name: str) -> Path:
    return dataset / "reports" / name


def report_argv(dataset: Path, name: str) -> list[str]:
    return [name, str(dataset), "--out", str(report_dir(dataset, name))]


def collect(folder: Path) -> tuple[list[Path], str]:
    """Every PNG (sorted) and the text of every Markdown file a report wrote."""
    if not folder.is_dir():
        return [], ""
    pngs = sorted(folder.rglob("*.png"))
    texts = [
        _LOCAL_IMAGE.sub("", p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(folder.rglob("*.md"))
    ]
    return pngs, "\n\n---\n\n".join(texts)
