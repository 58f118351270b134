"""One metadata row per video, and the consolidated metadata.parquet / metadata.csv.

Each finished sample leaves a small JSON row under .equime/rows/; the table is rebuilt from them,
so a run killed at any moment keeps every finished row, and resume knows exactly what is done.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from equime.dataset.atomic import write_bytes_atomic, write_text_atomic
from equime.dataset.layout import DatasetLayout
from equime.demographics.vocabulary import age_group, demographic_columns
from equime.facs.aus import all_codes, column_name

AU_COLUMNS = [column_name(code) for code in all_codes()]

COLUMNS = [
    "id",
    "file_name",
    "face_id",
    "source_path",
    "source_sha256",
    "source_licence",
    "target_emotion",
    "fz_emotion",
    "fz_score",
    "label",
    "label_noise",
    *AU_COLUMNS,
    "aus",
    "prompt",
    "seed",
    "noise_seed",
    "generator",
    "generator_version",
    "equime_version",
    "fps",
    "n_frames",
    "width",
    "height",
    "duration_s",
    "onset",
    "apex",
    "offset",
    "timing_source",
    *demographic_columns(),
    "face_notes",
    "sha256",
]


def aus_text(aus: dict[str, float]) -> str:
    """Z in compact FACS-like notation: '6:0.40+12:0.42'."""
    return "+".join(f"{code}:{value:.2f}" for code, value in aus.items() if value > 0)


def attribute_values(attributes: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {col: "" for col in demographic_columns()}
    values.update({k: v for k, v in attributes.items() if k in values})
    values["age_group"] = age_group(attributes.get("age"))
    return values


def write_row(layout: DatasetLayout, row: dict) -> None:
    write_text_atomic(layout.row_path(row["id"]), json.dumps(row, sort_keys=True), layout.tmp)


def read_rows(layout: DatasetLayout) -> dict[str, dict]:
    rows = {}
    for path in sorted(layout.rows.glob("*.json")) if layout.rows.exists() else []:
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # an unreadable row is simply not done; resume redoes that sample
        rows[row["id"]] = row
    return rows


def to_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for col in AU_COLUMNS:
        frame[col] = frame[col].fillna(0.0).astype("float64")
    return frame


def write_metadata(layout: DatasetLayout, rows: list[dict]) -> pd.DataFrame:
    """Write metadata.parquet and metadata.csv atomically, rows in a stable order."""
    frame = to_frame(sorted(rows, key=lambda r: r["id"]))
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    write_bytes_atomic(layout.metadata_parquet, buffer.getvalue(), layout.tmp)
    write_text_atomic(layout.metadata_csv, frame.to_csv(index=False), layout.tmp)
    return frame


def read_metadata(root: str | Path) -> pd.DataFrame:
    return pd.read_parquet(DatasetLayout(Path(root)).metadata_parquet)
