"""CAS(ME)^3 part A (Li et al., "CAS(ME)^3: A Third Generation Facial Spontaneous
Micro-Expression Database with Depth Information and High Ecological Validity", IEEE TPAMI 2022).

Sheets: the ME label sheet `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx` (Subject, Filename, Onset,
Apex, Offset, AU, Objective class, emotion) or the full part A sheet `CAS(ME)3_part_A_v2.xls`
(micro- and macro-expressions, told apart by its 'Expression type' column; it has no emotion
column: emotions come from the ME label sheet beside it, matched by subject, filename, onset and
offset). Frames: one folder per recorded video, `<Subject>/<Filename>/color/<k>.jpg` (or without
`color`), recorded at 30 fps. A video holds several expressions, so a clip is (subject, filename,
onset, offset): clip id `<Subject>/<Filename>/<onset>-<offset>` in sheet frame numbers.
Emotions: happy, disgust, fear, anger, sad, surprise, others."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets import (
    find_sheet,
    note_skip,
    read_sheet,
    register_dataset,
    rows_from_sheet,
    to_int,
)
from equime.mer.datasets.errata import CASME3, apply_errata

FPS = 30.0  # Li et al. 2022, part A: 30 fps colour and depth
LABELS = ("happiness", "disgust", "fear", "anger", "sadness", "surprise", "others")
EXPRESSIONS = ("micro", "macro", "all")
COLUMNS = {
    "subject": ("Subject", "Sub"),
    "clip": ("Filename", "File name"),
    "onset": ("Onset", "Onset Frame", "OnsetFrame"),
    "apex": ("Apex", "Apex Frame", "ApexFrame"),
    "offset": ("Offset", "Offset Frame", "OffsetFrame"),
    "?aus": ("AU", "AUs", "Action Units"),
    "?emotion": ("emotion", "Emotion", "Estimated Emotion"),
    "?expression": ("Expression type", "Type", "Expression"),
}
SHEETS = (
    "cas(me)3_part_A_ME_label*.xls*",
    "*part_A*ME*label*.xls*",
    "CAS(ME)3_part_A*.xls*",
    "*CAS(ME)3*part*A*.xls*",
)


def _video(line: pd.Series) -> str:
    return f"{line['subject']}/{line['clip']}"


def _clip(line: pd.Series) -> str:
    return f"{_video(line)}/{to_int(line['onset'])}-{to_int(line['offset'])}"


def _kind(value: object) -> str:
    text = str(value).strip().lower()
    return "macro" if text.startswith("macro") else "micro" if text.startswith("micro") else text


def _emotions_from_label_sheet(root: Path, path: Path, table: pd.DataFrame) -> list[str]:
    """The full part A sheet has no emotion column: take each row's emotion from the ME label
    sheet beside it, matched by (subject, filename, onset, offset); '' where none matches."""
    try:
        labels_path = find_sheet(root, SHEETS[:2])
    except EquimeError:
        return [""] * len(table)
    if labels_path == path:
        return [""] * len(table)
    labels = read_sheet(labels_path, {k: v for k, v in COLUMNS.items() if k != "?expression"})
    labels["subject"] = labels["subject"].astype(str).str.strip()
    labels["clip"] = labels["clip"].map(lambda v: str(v).strip().removesuffix(".0"))
    known = {_clip(line): line.get("emotion", "") for _, line in labels.iterrows()}
    return [str(known.get(_clip(line), "")) for _, line in table.iterrows()]


@register_dataset(
    "casme3", description="CAS(ME)^3 part A (label sheet + <Subject>/<Filename>/color/), 30 fps"
)
def load_casme3(
    root: Path, sheet: str | None = None, errata: bool = True, expression: str = "micro"
) -> pd.DataFrame:
    """`expression`: which rows of a sheet with an 'Expression type' column to keep."""
    if expression not in EXPRESSIONS:
        raise EquimeError(f"casme3: expression must be one of {', '.join(EXPRESSIONS)}")
    path = find_sheet(root, SHEETS, sheet)
    table = read_sheet(path, COLUMNS)
    table.attrs["sheet"] = str(path)
    table["subject"] = table["subject"].astype(str).str.strip()
    table["clip"] = table["clip"].map(lambda v: str(v).strip().removesuffix(".0"))
    if "emotion" not in table.columns:
        table["emotion"] = _emotions_from_label_sheet(root, path, table)
    if "expression" not in table.columns:
        table["expression"] = ""
    table = apply_errata(table, CASME3, _video, errata)
    kinds = table["expression"].map(_kind)
    keep = kinds.eq("") | kinds.eq(expression) | (expression == "all")
    skipped: list[dict[str, str]] = []
    for _, line in table.loc[~keep].iterrows():
        note_skip(
            skipped,
            root,
            _clip(line),
            f"{_kind(line['expression'])}-expression",
            f"not {expression}",
        )
    kept = table.loc[keep].reset_index(drop=True)
    kept["video"] = [_video(line) for _, line in kept.iterrows()]
    kept.attrs = table.attrs

    def folder(line: pd.Series) -> Path:
        base = root / line["subject"] / line["clip"]
        return base / "color" if (base / "color").is_dir() else base

    rows = rows_from_sheet(kept, folder, root, _clip, LABELS)
    rows.attrs["skipped"] = skipped + rows.attrs["skipped"]
    rows["fps"] = FPS
    if not rows.empty:
        rows["expression"] = [_kind(v) or "micro" for v in rows["expression"]]
    return rows
