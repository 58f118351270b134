"""Dataset loaders behind a registry: each turns a dataset folder into one table shape (MEB-style).

One row per clip, columns `ROW_COLUMNS`:
  dataset, subject, clip     who and which clip (clip is unique within the dataset)
  source                     a video file or a folder of frame images
  frame_numbers              for frame folders: the frame files' numbers in order ('' for videos)
  n_frames                   frames in the source (-1: unknown, counted when sampled)
  onset, apex, offset        0-based positions in the source (-1: unknown)
  apex_source                'sheet' (annotated), 'errata' (a cited correction), 'midpoint' (the
                             loader filled the onset-offset midpoint: the sheet had none) or 'last'
                             (MiE-X: intensity rises to the last frame); downstream re-estimates
                             the apex from the frames where this is not 'sheet'
  fps                        the source's frame rate (dataset paper or metadata; NaN: unknown)
  emotion                    the dataset's label, normalised (mer.labels.normalize_emotion)
  aus                        FACS AU string, normalised ('R12+L14')
  gender, race, age, age_group   attributes when the dataset has them ('' otherwise)
Rows a loader leaves out are listed, with their reason, in `table.attrs["skipped"]`; corrections
applied to a sheet in `table.attrs["errata"]`; other remarks in `table.attrs["notes"]` (all shown
by `equime datasets check`).
Loaders never decode video: that is mer.cache's job, once.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from equime import plugins
from equime.errors import EquimeError
from equime.mer.labels import normalize_emotion

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
    "apex_source",
    "fps",
    "emotion",
    "aus",
    "gender",
    "race",
    "age",
    "age_group",
]
ATTRIBUTE_COLUMNS = ("gender", "race", "age_group")
APEX_SOURCES = ("sheet", "errata", "midpoint", "last")


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


def load_options(name: str) -> set[str]:
    """The keyword options dataset `name`'s loader takes (sheet, errata, modality, ...)."""
    import inspect

    return set(inspect.signature(get_dataset(name).load).parameters) - {"root"}


def load_dataset(name: str, root: str | Path, **options: object) -> pd.DataFrame:
    """The clip table of dataset `name` at `root` (columns ROW_COLUMNS, one row per clip)."""
    root = Path(root)
    if not root.exists():
        raise EquimeError(f"{root}: dataset folder not found")
    spec = get_dataset(name)
    unknown = sorted(set(options) - load_options(name))
    if unknown:
        raise EquimeError(f"dataset {spec.name} takes no option {', '.join(unknown)}")
    table = spec.load(root, **options)
    if table.empty:
        reasons = Counter(s["reason"] for s in table.attrs.get("skipped", []))
        why = "; ".join(f"{n} skipped: {r}" for r, n in reasons.most_common())
        raise EquimeError(
            f"{root}: no clips found for dataset {spec.name}{f' ({why})' if why else ''}"
        )
    return finish_table(table, spec.name)


def finish_table(table: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Fill missing columns and types, the apex = midpoint rule where only onset/offset exist
    (apex_source 'midpoint'), and leave out repeated clip names (listed as skipped)."""
    attrs = {k: list(v) if isinstance(v, list) else v for k, v in table.attrs.items()}
    table = table.copy()
    table["dataset"] = dataset
    for col in ROW_COLUMNS:
        if col not in table.columns:
            table[col] = (
                -1
                if col in ("n_frames", "onset", "apex", "offset")
                else math.nan
                if col == "fps"
                else ""
            )
    for col in ("n_frames", "onset", "apex", "offset"):
        table[col] = pd.to_numeric(table[col], errors="coerce").fillna(-1).astype("int64")
    table["fps"] = pd.to_numeric(table["fps"], errors="coerce").astype("float64")
    table["apex_source"] = table["apex_source"].fillna("").astype(str)
    given = (table["apex"] >= 0) & (table["apex_source"] == "")
    table.loc[given, "apex_source"] = "sheet"
    guess = (table["apex"] < 0) & (table["onset"] >= 0) & (table["offset"] >= table["onset"])
    table.loc[guess, "apex"] = (table.loc[guess, "onset"] + table.loc[guess, "offset"]) // 2
    table.loc[guess, "apex_source"] = "midpoint"
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
    repeated = table["clip"].duplicated()
    skipped = attrs.setdefault("skipped", [])
    for clip in table.loc[repeated, "clip"]:
        note_skip(skipped, dataset, clip, "duplicate", "the same clip name appears again")
    table = table.loc[~repeated]
    out = table[ROW_COLUMNS + [c for c in table.columns if c not in ROW_COLUMNS]].reset_index(
        drop=True
    )
    out.attrs = {**attrs, "skipped": skipped, "errata": attrs.get("errata", [])}
    return out


# ---- what a loader leaves out, and why -------------------------------------------------------


def note_skip(
    skipped: list[dict[str, str]], where: object, clip: str, reason: str, detail: str
) -> None:
    """Record a row left out (`reason` is a short category: 'missing frames', 'unknown label',
    'duplicate', ...), with a log line naming it."""
    log.info("%s: %s skipped (%s: %s)", where, clip, reason, detail)
    skipped.append({"clip": clip, "reason": reason, "detail": detail})


def summarise_skips(where: object, skipped: list[dict[str, str]]) -> None:
    """One warning per reason, so a sheet with 50 missing folders is one line, not 50."""
    for reason, n in Counter(s["reason"] for s in skipped).most_common():
        first = next(s for s in skipped if s["reason"] == reason)
        log.warning(
            "%s: %d rows skipped: %s (first: %s, %s)",
            where,
            n,
            reason,
            first["clip"],
            first["detail"],
        )


# ---- helpers shared by the loaders -----------------------------------------------------------


def _key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def read_sheet(
    path: Path, columns: dict[str, tuple[str, ...]], sheet: int | str = 0
) -> pd.DataFrame:
    """An annotation spreadsheet (xlsx/xls/csv) whose header row may sit anywhere in the first
    30 rows (SAMM's is spreadsheet row 14): returns the columns renamed to the keys of `columns`,
    whose values list accepted spellings (compared without case, spaces or punctuation); keys
    starting with '?' are optional. Columns with a blank header (CASME II has two) are kept as
    `_<i>`. Adds `data_row`: the row's 0-based number after the header, as pandas (and MEB's
    errata) count it, and `sheet_row`: the spreadsheet's own 1-based row number."""
    try:
        if path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, header=None, dtype=object)
        else:
            raw = pd.read_excel(path, header=None, dtype=object, sheet_name=sheet)
    except ImportError as exc:  # .xls needs xlrd
        raise EquimeError(f"{path}: cannot read this sheet ({exc}); save it as .xlsx") from exc
    except Exception as exc:  # openpyxl / pandas raise many kinds
        raise EquimeError(f"{path}: cannot read annotation sheet ({exc})") from exc
    wanted = {_key(alias): name for name, aliases in columns.items() for alias in aliases}
    for index in range(min(30, len(raw))):
        keys = [_key(v) if pd.notna(v) else "" for v in raw.iloc[index]]
        found = {wanted[k] for k in keys if k in wanted}
        if found >= {n for n in columns if not n.startswith("?")}:
            body = raw.iloc[index + 1 :].copy()
            body.columns = [wanted.get(k, f"_{i}") for i, k in enumerate(keys)]
            body = body.loc[:, ~body.columns.duplicated()]
            body["data_row"] = range(len(body))
            body["sheet_row"] = [i + 1 for i in body.index]
            body = body.dropna(
                how="all", subset=[c for c in body.columns if not c.endswith("_row")]
            )
            first = next(iter(columns))
            body = body[body[first].notna() & body[first].astype(str).str.strip().ne("")]
            body.columns = [c.lstrip("?") for c in body.columns]
            return body.reset_index(drop=True)
    need = ", ".join(n.lstrip("?") for n in columns if not n.startswith("?"))
    raise EquimeError(f"{path}: no header row with columns {need} in the first 30 rows")


def find_sheet(root: Path, patterns: tuple[str, ...], given: str | Path | None = None) -> Path:
    """The annotation sheet: `given`, else the one file under root matching the first pattern
    that matches anything (several matches are an error naming them). Patterns name the
    dataset's own sheets: an unrelated workbook beside them is never picked."""
    if given:
        path = Path(given)
        path = path if path.is_absolute() or path.exists() else root / path
        if not path.is_file():
            raise EquimeError(f"{path}: annotation sheet not found")
        return path
    for pattern in patterns:
        hits = sorted(root.glob(pattern)) or sorted(root.glob(f"*/{pattern}"))
        hits = [p for p in hits if not p.name.startswith("~$")]  # Excel's lock files
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


class SkipRow(Exception):
    """A sheet row that cannot become a clip: `reason` is its category, the message the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _has_frames(folder: Path) -> bool:
    from equime.video.frames import IMAGE_SUFFIXES

    return folder.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def _frame_numbers(folder: Path) -> list[int]:
    from equime.video.frames import frame_files

    if not _has_frames(folder):
        raise SkipRow("no frame folder", f"{folder} has no frame images")
    return [frame_number(p) for p in frame_files(folder)]


def frame_clip(
    folder: Path,
    onset: int,
    apex: int,
    offset: int,
    listings: dict[Path, list[int] | SkipRow] | None = None,
) -> dict[str, object]:
    """Map a sheet's frame numbers to 0-based positions in a frame folder.

    Sheets count frames by file number (CASME II img46.jpg, SAMM 006_5562.jpg). Every number the
    sheet gives must name a file: a number with no file raises SkipRow('missing frames') (it is
    never moved to the nearest file: a range 40-50 against files 100-109 is not frame 100).
    An apex of -1 (not coded) stays -1 for the midpoint rule. `listings` keeps each folder's
    frame numbers across calls (CAS(ME)^3 videos hold several clips of thousands of frames)."""
    listings = {} if listings is None else listings
    if folder not in listings:
        try:
            listings[folder] = _frame_numbers(folder)
        except SkipRow as skip:
            listings[folder] = skip
    numbers = listings[folder]
    if isinstance(numbers, SkipRow):
        raise numbers
    position = {}
    for i, n in enumerate(numbers):
        position.setdefault(n, i)
    span = f"files {numbers[0]}-{numbers[-1]}"
    if onset < 0 or offset < 0:
        raise SkipRow("no onset/offset", f"the sheet gives onset {onset}, offset {offset}")
    for name, number in (("onset", onset), ("apex", apex), ("offset", offset)):
        if number >= 0 and number not in position:
            raise SkipRow("missing frames", f"{name} frame {number} has no file ({span})")
    if not onset <= offset or (apex >= 0 and not onset <= apex <= offset):
        raise SkipRow("frames out of order", f"onset {onset}, apex {apex}, offset {offset}")
    return {
        "source": str(folder),
        "frame_numbers": " ".join(map(str, numbers)),
        "n_frames": len(numbers),
        "onset": position[onset],
        "apex": position[apex] if apex >= 0 else -1,
        "offset": position[offset],
    }


def rows_from_sheet(
    sheet: pd.DataFrame,
    folder_of: Callable[[pd.Series], Path],
    root: Path,
    clip_of: Callable[[pd.Series], str],
    labels: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Rows for every sheet line whose frames are on disk and whose label is one of `labels`
    (normalised; any label when empty). Lines left out are listed in attrs['skipped'] with
    their reason; attrs['errata'] is passed on from the sheet."""
    from equime.mer.datasets.aus import au_codes

    rows: list[dict[str, object]] = []
    skipped: list[dict[str, str]] = []
    listings: dict[Path, list[int] | SkipRow] = {}
    for _, line in sheet.iterrows():
        clip = clip_of(line)
        emotion = normalize_emotion(line.get("emotion", ""))
        try:
            if emotion in ("", "nan"):
                raise SkipRow("no emotion label", "the sheet has no emotion for this row")
            if labels and emotion not in labels:
                raise SkipRow(
                    "unknown label", f"{line.get('emotion')!r} is not one of {', '.join(labels)}"
                )
            frames = frame_clip(
                folder_of(line),
                to_int(line.get("onset")),
                to_int(line.get("apex")),
                to_int(line.get("offset")),
                listings,
            )
        except SkipRow as skip:
            note_skip(skipped, root, clip, skip.reason, str(skip))
            continue
        aus = line.get("aus", "")
        named = {k: v for k, v in line.items() if not re.fullmatch(r"_\d+", str(k))}
        rows.append(
            {
                **named,
                **frames,
                "clip": clip,
                "emotion": emotion,
                "aus": au_codes(aus),
                "aus_sheet": "" if pd.isna(aus) else str(aus),
            }
        )
    summarise_skips(root, skipped)
    table = pd.DataFrame(rows)
    table.attrs = {**sheet.attrs, "skipped": skipped}
    return table
