"""Real long-video datasets, each turned by its loader into one interval table shape
(`spot.intervals.COLUMNS`: video, subject, path, fps, type, onset, apex, offset, emotion, aus),
with frames as 0-based positions in the video's frame folder (sheets number frame files; the
loader maps a number to its file's place in natural order). One file per dataset registers
itself with `@register_loader(name)`; `load_long_dataset(name, root)` finds and runs it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from equime.errors import EquimeError
from equime.spot.intervals import COLUMNS, check_table
from equime.video.frames import IMAGE_SUFFIXES, natural_key

Loader = Callable[[Path], pd.DataFrame]
LOADERS: dict[str, Loader] = {}


def register_loader(name: str) -> Callable[[Loader], Loader]:
    def add(load: Loader) -> Loader:
        LOADERS[name] = load
        return load

    return add


def loader_names() -> list[str]:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return sorted(LOADERS)


def load_long_dataset(name: str, root: str | Path, fps: float | None = None) -> pd.DataFrame:
    """The interval table of dataset `name` under `root` (fps overrides the dataset's own)."""
    names = loader_names()
    if name not in LOADERS:
        raise EquimeError(f"unknown long-video dataset '{name}'; known: {', '.join(names)}")
    root = Path(root)
    if not root.is_dir():
        raise EquimeError(f"{root}: dataset folder not found")
    table = LOADERS[name](root)
    if fps:
        table["fps"] = float(fps)
    return check_table(table[list(COLUMNS)], f"{name} at {root}")


# --- helpers shared by the loaders -------------------------------------------------------------


def find_file(root: Path, patterns: Iterable[str], what: str) -> Path:
    for pattern in patterns:
        found = sorted(p for p in root.rglob(pattern) if not p.name.startswith("~$"))
        if found:
            return found[0]
    raise EquimeError(f"{root}: no {what} found (looked for {', '.join(patterns)})")


def _norm(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def read_sheet(
    path: Path, aliases: dict[str, tuple[str, ...]], sheet: int | str = 0
) -> pd.DataFrame:
    """A sheet whose header row is found by its names (SAMM-LV puts notes above it): the first
    row holding at least three of the wanted columns; columns renamed to the keys of `aliases`
    (a key starting with '?' is optional)."""
    try:
        raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    except (OSError, ValueError) as exc:
        raise EquimeError(f"{path}: cannot read the sheet ({exc})") from None
    wanted = {_norm(a) for names in aliases.values() for a in names}
    for i, row in raw.iterrows():
        cells = {_norm(v): j for j, v in reversed(list(row.items()))}  # first occurrence wins
        if len(wanted & set(cells)) >= 3:
            chosen = {}  # key -> column: the first of its names (in the order given) present
            for key, names in aliases.items():
                found = [cells[_norm(a)] for a in names if _norm(a) in cells]
                if found:
                    chosen[key.lstrip("?")] = found[0]
            table = raw.iloc[i + 1 :][list(chosen.values())]
            table.columns = list(chosen)
            break
    else:
        raise EquimeError(f"{path}: no header row with {', '.join(k.lstrip('?') for k in aliases)}")
    missing = [k for k in aliases if not k.startswith("?") and k not in table.columns]
    if missing:
        raise EquimeError(f"{path}: missing column {', '.join(missing)}")
    return table.dropna(how="all").reset_index(drop=True)


def frame_numbers(folder: Path) -> list[int]:
    """The numbers of a frame folder's files in natural order (the last number in each name)."""
    if not folder.is_dir():
        return []
    files = sorted(
        (p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key
    )
    numbers = []
    for name in files:
        found = re.findall(r"\d+", Path(name).stem)
        if found:
            numbers.append(int(found[-1]))
    return numbers


def to_positions(table: pd.DataFrame) -> pd.DataFrame:
    """Sheet frame numbers -> 0-based positions in each video's folder (number - first number
    where the folder is at hand, so img1 and 0001 both start at 0; number - 1 otherwise)."""
    out = table.copy()
    for path, rows in out.groupby("path").groups.items():
        numbers = frame_numbers(Path(path))
        first = numbers[0] if numbers else 1
        index = {n: i for i, n in enumerate(numbers)}
        for col in ("onset", "apex", "offset"):
            values = pd.to_numeric(out.loc[rows, col], errors="coerce")
            out.loc[rows, col] = [
                index.get(int(v), int(v) - first) if v == v else np.nan for v in values
            ]
    return out


def fix_frames(table: pd.DataFrame) -> pd.DataFrame:
    """Sheets leave some frames out: offset 0 -> the apex; apex 0 or missing -> the middle (as
    the MEGC 2020 baseline reads CAS(ME)^2)."""
    out = table.copy()
    for col in ("onset", "apex", "offset"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    no_offset = out["offset"].isna() | (out["offset"] <= 0)
    out.loc[no_offset, "offset"] = out.loc[no_offset, "apex"]
    no_apex = out["apex"].isna() | (out["apex"] <= 0)
    out.loc[no_apex, "apex"] = ((out["onset"] + out["offset"]) // 2)[no_apex]
    return out
