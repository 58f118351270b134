"""CASME II: `CASME2-coding-*.xlsx` (several released versions: header spellings differ, e.g.
'OnsetFrame' / 'Onset Frame', 'Estimated Emotion' / 'Emotion', apex '/' when not coded; subjects
as 1, '01' or 'sub01'), frames in `sub<NN>/<Filename>/img<k>.jpg` with k the sheet's frame numbers.
Emotions: happiness, disgust, repression, surprise, fear, sadness, others."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from equime.mer.datasets import find_sheet, read_sheet, register_dataset, rows_from_sheet

COLUMNS = {
    "subject": ("Subject", "Sub"),
    "clip": ("Filename", "File name", "Clip"),
    "onset": ("OnsetFrame", "Onset Frame", "Onset"),
    "apex": ("ApexFrame", "Apex Frame", "Apex", "ApexF1"),
    "offset": ("OffsetFrame", "Offset Frame", "Offset"),
    "?aus": ("Action Units", "Action Unit", "AU", "AUs"),
    "emotion": ("Estimated Emotion", "Emotion", "Estimated Emotions"),
}


def _subject(value: object) -> str:
    digits = re.findall(r"\d+", str(value))
    return f"sub{int(digits[0]):02d}" if digits else str(value).strip()


@register_dataset(
    "casme2", description="CASME II (CASME2-coding-*.xlsx + sub<NN>/<clip>/img<k>.jpg)"
)
def load_casme2(root: Path, sheet: str | None = None) -> pd.DataFrame:
    path = find_sheet(root, ("CASME2-coding*.xlsx", "CASME2*coding*.xls*", "CASME2*.csv"), sheet)
    table = read_sheet(path, COLUMNS)
    table["subject"] = table["subject"].map(_subject)
    table["clip"] = table["clip"].astype(str).str.strip()

    def folder(line: pd.Series) -> Path:
        return root / line["subject"] / line["clip"]

    rows = rows_from_sheet(table, folder, root)
    if rows.empty:
        return rows
    rows["clip"] = rows["subject"] + "/" + rows["clip"]  # EP02_01f repeats across subjects
    return rows
