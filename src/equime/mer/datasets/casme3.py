"""CAS(ME)^3 part A: the label sheet (e.g. `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx`) with
Subject, Filename, Onset, Apex, Offset, AU and emotion columns; frames in
`<Subject>/<Filename>/color/<k>.jpg` (or without the `color` level)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.mer.datasets import find_sheet, read_sheet, register_dataset, rows_from_sheet

COLUMNS = {
    "subject": ("Subject", "Sub"),
    "clip": ("Filename", "File name"),
    "onset": ("Onset", "Onset Frame", "OnsetFrame"),
    "apex": ("Apex", "Apex Frame", "ApexFrame"),
    "offset": ("Offset", "Offset Frame", "OffsetFrame"),
    "?aus": ("AU", "AUs", "Action Units"),
    "emotion": ("emotion", "Emotion", "Estimated Emotion"),
}


@register_dataset(
    "casme3", description="CAS(ME)^3 part A (label sheet + <Subject>/<Filename>/color/)"
)
def load_casme3(root: Path, sheet: str | None = None) -> pd.DataFrame:
    path = find_sheet(
        root, ("cas(me)3*part_A*.xlsx", "*part*A*label*.xlsx", "*CAS*ME*3*.xlsx", "*.xlsx"), sheet
    )
    table = read_sheet(path, COLUMNS)
    table["subject"] = table["subject"].astype(str).str.strip()
    table["clip"] = table["clip"].map(lambda v: str(v).strip().removesuffix(".0"))

    def folder(line: pd.Series) -> Path:
        base = root / line["subject"] / line["clip"]
        return base / "color" if (base / "color").is_dir() else base

    rows = rows_from_sheet(table, folder, root)
    if rows.empty:
        return rows
    rows["clip"] = rows["subject"] + "/" + rows["clip"]
    return rows
