"""One metadata row per video, and the consolidated metadata.parquet / metadata.csv.

Each finished sample leaves a small JSON row under .equime/rows/; the table is rebuilt from them,
so a run killed at any moment keeps every finished row, and resume knows exactly what is done.
Later stages (verify, annotate) add columns through `update_columns`: each keeps its own table
under .equime/columns/, merged in on every rebuild, so regenerating never loses them.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from equime.attributes.vocabulary import age_group, demographic_columns
from equime.dataset.layout import DatasetLayout
from equime.facs.aus import all_codes, column_name
from equime.files import write_bytes_atomic, write_text_atomic

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
    "negative_prompt",
    "prompt_template",
    "prompt_template_sha256",
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
    "au_timing",  # per AU: 'code:onset/apex/offset' joined by '+' (frames; warp: ground truth)
    "timing_source",
    *demographic_columns(),
    "face_notes",
    "face_expression",  # the source face as measured: 'smile 0.90, upper lip raise 0.56'
    "face_start_expression",  # the face the video starts from (after neutralising)
    "face_neutralised",  # AUs the warp undid before the timeline: '12:1.50+25:1.50'
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
    """The schema's columns in order, then any others the rows carry."""
    extra = list(dict.fromkeys(k for row in rows for k in row if k not in COLUMNS))
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *extra])
    for col in AU_COLUMNS:
        frame[col] = frame[col].fillna(0.0).astype("float64")
    return frame


def _merge_columns(layout: DatasetLayout, frame: pd.DataFrame) -> pd.DataFrame:
    """Overlay every stage's added columns (by id); a value a stage left empty keeps the base's."""
    if not layout.columns.is_dir():
        return frame
    frame = frame.set_index("id", drop=False)
    for path in sorted(layout.columns.glob("*.parquet")):
        added = pd.read_parquet(path).drop_duplicates("id", keep="last").set_index("id")
        for col in added.columns:
            values = added[col].reindex(frame.index)
            if col in frame.columns:
                empty = values.isna() | values.astype(str).eq("")
                frame[col] = frame[col].astype(object).where(empty, values)
            else:
                frame[col] = values
    return frame.reset_index(drop=True)


def _base_rows(layout: DatasetLayout) -> list[dict]:
    """The per-sample rows; a published copy without run state falls back to its metadata."""
    rows = read_rows(layout)
    if rows or not layout.metadata_parquet.is_file():
        return list(rows.values())
    return pd.read_parquet(layout.metadata_parquet).to_dict("records")


def update_columns(root: str | Path, stage: str, table: pd.DataFrame) -> pd.DataFrame:
    """Add or replace columns computed by a later stage (`table` has an `id` column); returns
    the rewritten metadata. Calling it again for the same stage replaces that stage's columns."""
    layout = DatasetLayout(Path(root))
    if "id" not in table.columns:
        raise ValueError("update_columns needs an 'id' column")
    layout.tmp.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    base = _base_rows(layout)
    write_bytes_atomic(layout.columns / f"{stage}.parquet", buffer.getvalue(), layout.tmp)
    return write_metadata(layout, base)


def write_metadata(layout: DatasetLayout, rows: list[dict]) -> pd.DataFrame:
    """Write metadata.parquet and metadata.csv atomically, rows in a stable order."""
    frame = _merge_columns(layout, to_frame(sorted(rows, key=lambda r: r["id"])))
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    write_bytes_atomic(layout.metadata_parquet, buffer.getvalue(), layout.tmp)
    write_text_atomic(layout.metadata_csv, frame.to_csv(index=False), layout.tmp)
    return frame


def read_metadata(root: str | Path) -> pd.DataFrame:
    return pd.read_parquet(DatasetLayout(Path(root)).metadata_parquet)


def parse_au_timing(text: str) -> dict[str, tuple[int, int, int]]:
    """'12:60/66/74+6:61/66/73' -> {'12': (60, 66, 74), '6': (61, 66, 73)} ('' -> {})."""
    out = {}
    for item in filter(None, str(text or "").split("+")):
        code, _, frames = item.partition(":")
        onset, apex, offset = (int(v) for v in frames.split("/"))
        out[code] = (onset, apex, offset)
    return out
