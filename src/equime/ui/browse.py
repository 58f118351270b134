"""Browsing a dataset's metadata: which filters make sense, and the rows that pass them.

Columns filled by later stages (`verified` from `equime verify`, demographics from annotation) may
be missing or empty; a filter is only offered when its column holds something worth choosing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.dataset.layout import UNKNOWN, DatasetLayout

ALL = "all"
VERIFIED, NOT_VERIFIED = "verified", "not verified"
# filter name -> metadata column
FILTERS = {"emotion": "target_emotion", "gender": "gender", "race": "race", "verified": "verified"}
SHOWN = [
    "id",
    "target_emotion",
    "label",
    "gender",
    "race",
    "age_group",
    "verified",
    "verify_reasons",
    "file_name",
]


def is_dataset(folder: Path) -> bool:
    layout = DatasetLayout(folder)
    return layout.metadata_parquet.is_file() or layout.run_config.is_file()


def list_datasets(root: Path) -> list[str]:
    """Dataset folders directly under `root`, by name."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and is_dataset(p))


def load_metadata(folder: Path) -> pd.DataFrame:
    layout = DatasetLayout(folder)
    if layout.metadata_parquet.is_file():
        return pd.read_parquet(layout.metadata_parquet)
    if layout.metadata_csv.is_file():
        return pd.read_csv(layout.metadata_csv, keep_default_na=False)
    return pd.DataFrame(columns=SHOWN)


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    return None


def filter_choices(table: pd.DataFrame) -> dict[str, list[str]]:
    """For each filter, the values it may take; an empty list means 'no data: hide it'."""
    choices: dict[str, list[str]] = {}
    for name, column in FILTERS.items():
        if column not in table:
            choices[name] = []
        elif name == "verified":
            known = {_as_bool(v) for v in table[column]} - {None}
            choices[name] = [VERIFIED, NOT_VERIFIED] if known else []
        else:
            values = {str(v).strip() for v in table[column] if pd.notna(v)}
            values -= {"", UNKNOWN, "nan", "None"}
            choices[name] = sorted(values)
    return choices


def apply_filters(table: pd.DataFrame, selected: dict[str, str]) -> pd.DataFrame:
    """Rows matching every chosen filter (`all` or an unknown column leaves rows in)."""
    keep = pd.Series(True, index=table.index)
    for name, value in selected.items():
        column = FILTERS.get(name)
        if not value or value == ALL or column not in table:
            continue
        if name == "verified":
            want = value == VERIFIED
            keep &= table[column].map(_as_bool) == want
        else:
            keep &= table[column].astype(str).str.strip() == value
    return table[keep]


def shown_columns(table: pd.DataFrame) -> pd.DataFrame:
    return table[[c for c in SHOWN if c in table]].reset_index(drop=True)
