"""SAMM: `SAMM_Micro_FACS_Codes_v2.xlsx` (header on row 12 in the released sheet; found wherever
it is), frames in `<Subject>/<Filename>/` (subject zero-padded to 3 digits, e.g. 006/006_1_2/),
frame files numbered by absolute frame index (006_05562.jpg) as the sheet's frame numbers are.
Emotions: Anger, Contempt, Disgust, Fear, Happiness, Sadness, Surprise, Other."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.mer.datasets import find_sheet, read_sheet, register_dataset, rows_from_sheet

COLUMNS = {
    "subject": ("Subject",),
    "clip": ("Filename", "File name"),
    "onset": ("Onset Frame", "Onset"),
    "apex": ("Apex Frame", "Apex"),
    "offset": ("Offset Frame", "Offset"),
    "?aus": ("Action Units", "AU", "AUs"),
    "emotion": ("Estimated Emotion", "Emotion"),
}


def _subject(value: object) -> str:
    text = str(value).strip()
    text = text[:-2] if text.endswith(".0") else text
    return text.zfill(3) if text.isdigit() else text


@register_dataset("samm", description="SAMM (xlsx sheet + frame folders)")
def load_samm(root: Path, sheet: str | None = None) -> pd.DataFrame:
    path = find_sheet(root, ("SAMM_Micro_FACS_Codes*.xlsx", "*SAMM*.xlsx", "*SAMM*.csv"), sheet)
    table = read_sheet(path, COLUMNS)
    table["subject"] = table["subject"].map(_subject)
    table["clip"] = table["clip"].astype(str).str.strip()

    def folder(line: pd.Series) -> Path:
        return root / line["subject"] / line["clip"]

    return rows_from_sheet(table, folder, root)
