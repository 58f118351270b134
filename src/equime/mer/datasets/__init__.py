"""Dataset loaders behind a registry: each turns a dataset folder into one table shape (MEB-style).

One row per clip, columns `ROW_COLUMNS`:
  dataset, subject, clip     who and which clip (clip is unique within the dataset)
  source                     a video file or a folder of frame images
  frame_numbers              for frame folders: the frame files' numbers in order ('' for videos)
  n_frames                   frames in the source (-1: unknown, counted when sampled)
  onset, apex, offset        0-based positions in the source (-1: unknown)
  emotion                    the dataset's label, normalised (mer.labels.normalize_emotion)
  aus                        FACS AU string, normalised ('R12+L14')
  gender, race, age, age_group   attributes when the dataset has them ('' otherwise)
Loaders never decode video: that is mer.cache's job, once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from equime import plugins
from equime.errors import EquimeError
from equime.mer.labels import aus_string, normalize_emotion

log = logging.getLogger(__name__)

ROW_COLUMNS = [
    "dataset",
    "subject",
    "clip",
    "source",
    "frame_numbers",
    "n_frames",
    "onset",
    "apex",
    "offset",
    "emotion",
    "aus",
    "gender",
    "race",
    "age",
    "age_group",
]
ATTRIBUTE_COLUMNS = ("gender", "race", "age_group")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    load: Callable[..., pd.DataFrame]
    sampling: str  # default clip sampling: 'onset-offset', 'apex' or 'first'
    real: bool  # real recordings: evaluated leave-one-subject-out
    description: str


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(
    name: str, sampling: str = "onset-offset", real: bool = True, description: str = ""
) -> Callable[[Callable[..., pd.DataFrame]], Callable[..., pd.DataFrame]]:
    def wrap(load: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
        DATASETS[name] = DatasetSpec(
            name, load, sampling, real, description or (load.__doc__ or "")
        )
        return load

    return wrap


def _load_all() -> None:
    """Import every loader module in this package (each registers itself): one file per dataset;
    other packages add loaders through the `equime.datasets` entry-point group."""
    plugins.load_all(__name__, "register_dataset", "equime.datasets")


def dataset_names() -> list[str]:
    _load_all()
    return sorted(DATASETS)


def get_dataset(name: str) -> DatasetSpec:
    _load_all()
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    aliases = {re.sub(r"[^a-z0-9]", "", n): n for n in DATASETS}
    aliases.update({"casmeii": "casme2", "casme3": "casme3", "casmecubed": "casme3", "mie": "miex"})
    if key not in aliases:
        raise EquimeError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[aliases[key]]


def load_dataset(name: str, root: str | Path, **options: object) -> pd.DataFrame:
    """The clip table of dataset `name` at `root` (columns ROW_COLUMNS, one row per clip)."""
    root = Path(root)
    if not root.exists():
        raise EquimeError(f"{root}: dataset folder not found")
    spec = get_dataset(name)
    import inspect

    accepted = set(inspect.signature(spec.load).parameters) - {"root"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise EquimeError(f"dataset {spec.name} takes no option {', '.join(unknown)}")
    table = spec.load(root, **options)
    if table.empty:
        raise EquimeError(f"{root}: no clips found for dataset {spec.name}")
    return finish_table(table, spec.name)


def finish_table(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Fill missing columns, types, and the apex = midpoint rule where only onset/offset exist."""
    table = table.copy()
    table["dataset"] = dataset
    for col in ROW_COLUMNS:
        if col not in table.columns:
            table[col] = -1 if col in ("n_frames", "onset", "apex", "offset") else ""
    for col in ("n_frames", "onset", "apex", "offset"):
        table[col] = pd.to_numeric(table[col], errors="coerce").fillna(-1).astype("int64")
    guess = (table["apex"] < 0) & (table["onset"] >= 0) & (table["offset"] >= table["onset"])
    table.loc[guess, "apex"] = (table.loc[guess, "onset"] + table.loc[guess, "offset"]) // 2
    for col in (
        "subject",
        "clip",
        "source",
        "frame_numbers",
        "emotion",
        "aus",
        *ATTRIBUTE_COLUMNS,
        "age",
    ):
        table[col] = table[col].fillna("").astype(str)
    if table["clip"].duplicated().any():
        dup = table.loc[table["clip"].duplicated(), "clip"].iloc[0]
        raise EquimeError(f"{dataset}: clip name {dup!r} appears twice")
    return table[ROW_COLUMNS + [c for c in table.columns if c not in ROW_COLUMNS]].reset_index(
        drop=True
    )


# ---- helpers shared by the loaders -----------------------------------------------------------


def _key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def read_sheet(
    path: Path, columns: dict[str, tuple[str, ...]], sheet: int | str = 0
) -> pd.DataFrame:
    """An annotation spreadsheet (xlsx/xls/csv) whose header row may sit anywhere in the first
    30 rows (SAMM's is row 12): returns the columns renamed to the keys of `columns`, whose values
    list accepted spellings (compared without case, spaces or punctuation). Required: all keys."""
    try:
        if path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, header=None, dtype=object)
        else:
            raw = pd.read_excel(path, header=None, dtype=object, sheet_name=sheet)
    except Exception as exc:  # openpyxl / pandas raise many kinds
        raise EquimeError(f"{path}: cannot read annotation sheet ({exc})") from exc
    wanted = {_key(alias): name for name, aliases in columns.items() for alias in aliases}
    for index in range(min(30, len(raw))):
        keys = [_key(v) for v in raw.iloc[index]]
        found = {wanted[k] for k in keys if k in wanted}
        if found >= {n for n in columns if not n.startswith("?")}:
            body = raw.iloc[index + 1 :].copy()
            body.columns = [wanted.get(k, f"_{i}") for i, k in enumerate(keys)]
            body = body.loc[:, ~body.columns.duplicated()]
            body = body.dropna(how="all")
            first = next(iter(columns))
            body = body[body[first].notna() & body[first].astype(str).str.strip().ne("")]
            body.columns = [c.lstrip("?") for c in body.columns]
            return body.reset_index(drop=True)
    need = ", ".join(n.lstrip("?") for n in columns if not n.startswith("?"))
    raise EquimeError(f"{path}: no header row with columns {need} in the first 30 rows")


def find_sheet(root: Path, patterns: tuple[str, ...], given: str | Path | None = None) -> Path:
    """The annotation sheet: `given`, else the one file under root matching the first pattern
    that matches anything (several matches are an error naming them)."""
    if given:
        path = Path(given)
        path = path if path.is_absolute() or path.exists() else root / path
        if not path.is_file():
            raise EquimeError(f"{path}: annotation sheet not found")
        return path
    for pattern in patterns:
        hits = sorted(root.glob(pattern)) or sorted(root.glob(f"*/{pattern}"))
        if len(hits) > 1:  # e.g. two CASME II versions: which one is a choice, not a guess
            names = ", ".join(p.name for p in hits)
            raise EquimeError(f"{root}: several annotation sheets ({names}); choose one with sheet")
        if hits:
            return hits[0]
    raise EquimeError(f"{root}: no annotation sheet ({' or '.join(patterns)})")


def frame_number(path: Path) -> int:
    """The last number in a frame's file name: img46.jpg -> 46; 006_05562.jpg -> 5562."""
    numbers = re.findall(r"\d+", path.stem)
    return int(numbers[-1]) if numbers else -1


def to_int(value: object) -> int:
    """A sheet cell to a frame number; '/', '', NaN and other unknowns -> -1."""
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return -1


def frame_clip(folder: Path, onset: int, apex: int, offset: int) -> dict[str, object] | None:
    """Map a sheet's frame numbers to 0-based positions in a frame folder (None if no folder).

    Sheets count frames by file number (CASME II img46.jpg, SAMM 006_5562.jpg); a number with no
    exact file maps to the nearest one."""
    from equime.video.frames import IMAGE_SUFFIXES, frame_files

    if not folder.is_dir() or not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
        return None
    files = frame_files(folder)
    numbers = [frame_number(p) for p in files]

    def position(number: int) -> int:
        if number < 0:
            return -1
        return min(range(len(numbers)), key=lambda i: (abs(numbers[i] - number), i))

    return {
        "source": str(folder),
        "frame_numbers": " ".join(map(str, numbers)),
        "n_frames": len(files),
        "onset": position(onset),
        "apex": position(apex),
        "offset": position(offset),
    }


def rows_from_sheet(
    sheet: pd.DataFrame, folder_of: Callable[[pd.Series], Path], root: Path
) -> pd.DataFrame:
    """Rows for every sheet line whose frame folder exists (missing folders are logged), with the
    emotion and AU strings normalised."""
    rows, missing = [], []
    for _, line in sheet.iterrows():
        folder = folder_of(line)
        clip = frame_clip(
            folder, to_int(line.get("onset")), to_int(line.get("apex")), to_int(line.get("offset"))
        )
        if clip is None:
            missing.append(str(folder))
            continue
        rows.append({**line.to_dict(), **clip})
    if missing:
        log.warning(
            "%s: %d clips in the sheet have no frame folder (first: %s)",
            root,
            len(missing),
            missing[0],
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["emotion"] = table["emotion"].map(normalize_emotion)
    table["aus"] = table.get("aus", pd.Series("", index=table.index)).map(aus_string)
    return table
