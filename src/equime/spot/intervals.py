"""One table shape for intervals: ground truth (intervals.csv, real datasets' sheets) and
predictions (spots.csv) alike, so the scorer, the plots and the loaders share it.

Columns: video, type (`me` / `mae`; rows of type `distractor` are dropped), onset, offset
(frames, inclusive, 0-based for EquiME and as each dataset numbers its frames for real ones),
and where known apex, emotion, aus, score, subject, path (the video file or frame folder), fps.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.errors import EquimeError

REQUIRED = ("video", "type", "onset", "offset")
COLUMNS = (
    "video",
    "subject",
    "path",
    "fps",
    "type",
    "onset",
    "apex",
    "offset",
    "emotion",
    "aus",
)
TYPES = ("me", "mae")
DISTRACTOR = "distractor"  # generated long videos list blinks, talking, turns...: never truths

_TYPE_SPELLINGS = {
    "me": "me",
    "micro": "me",
    "micro-expression": "me",
    "microexpression": "me",
    "micro expression": "me",
    "micro - 1/2": "me",  # SAMM-LV: a micro-expression judged as such by half the coders
    "mae": "mae",
    "macro": "mae",
    "macro-expression": "mae",
    "macroexpression": "mae",
    "macro expression": "mae",
}


def normalise_type(value: object) -> str:
    """'Micro', 'micro-expression', 'Micro - 1/2', 'me' -> 'me'; 'Macro', 'mae' -> 'mae'."""
    text = str(value).strip().lower()
    if text in _TYPE_SPELLINGS:
        return _TYPE_SPELLINGS[text]
    raise ValueError(f"unknown expression type '{value}' (micro / macro, me / mae)")


def check_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Required columns present, frames whole numbers with onset <= offset, types known; the
    result has normalised types and integer frames. Problems name `source` and the row."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise EquimeError(
            f"{source}: missing column {', '.join(missing)} (needs {', '.join(REQUIRED)})"
        )
    out = table[table["type"].astype(str).str.strip().str.lower() != DISTRACTOR].copy()
    out["video"] = out["video"].astype(str)
    for col in ("onset", "offset", "apex"):
        if col not in out:
            continue
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() if col != "apex" else pd.Series(False, index=out.index)
        if bad.any():
            row = int(bad.idxmax()) + 2  # header is line 1
            raise EquimeError(
                f"{source}: line {row}: {col} '{out.loc[bad.idxmax(), col]}' is not a frame number"
            )
        out[col] = values.round().astype("Int64" if col == "apex" else "int64")
    backwards = out["offset"] < out["onset"]
    if backwards.any():
        i = backwards.idxmax()
        onset, offset = out.loc[i, "onset"], out.loc[i, "offset"]
        raise EquimeError(f"{source}: line {int(i) + 2}: offset {offset} is before onset {onset}")
    try:
        out["type"] = out["type"].map(normalise_type)
    except ValueError as exc:
        raise EquimeError(f"{source}: {exc}") from None
    return out


def read_intervals(path: str | Path) -> pd.DataFrame:
    """A CSV of intervals (intervals.csv, spots.csv, or a converted sheet), checked."""
    p = Path(path)
    if p.is_dir():
        p = p / "intervals.csv"
    if not p.is_file():
        raise EquimeError(f"{p}: no such file (an intervals.csv or spots.csv)")
    try:
        table = pd.read_csv(p, dtype={"video": str}, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise EquimeError(f"{p}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    return check_table(table, str(p))
