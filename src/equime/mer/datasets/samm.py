"""SAMM (Davison et al., "SAMM: A Spontaneous Micro-Facial Movement Dataset", IEEE TAFFC 2018):
`SAMM_Micro_FACS_Codes_v2.xlsx`, a preamble and the header on spreadsheet row 14 (found wherever
it is), frames in `<Subject>/<Filename>/` (subject zero-padded to 3 digits, e.g. 006/006_1_2/),
files numbered by absolute frame index (006_05562.jpg) as the sheet's frame numbers are.
Recorded at 200 fps. An uncoded apex is -1. AU cells may list alternatives ('R12 or R15').
Emotions: Anger, Contempt, Disgust, Fear, Happiness, Sadness, Surprise, Other."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.mer.datasets import find_sheet, read_sheet, register_dataset, rows_from_sheet
from equime.mer.datasets.errata import SAMM, apply_errata

FPS = 200.0  # Davison et al. 2018, section 3
LABELS = ("anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise", "others")
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


def _clip(line: pd.Series) -> str:
    return str(line["clip"]).strip()


@register_dataset("samm", description="SAMM (xlsx sheet + frame folders), 200 fps")
def load_samm(root: Path, sheet: str | None = None, errata: bool = True) -> pd.DataFrame:
    path = find_sheet(root, ("SAMM_Micro_FACS_Codes*.xlsx", "*SAMM*.xlsx", "*SAMM*.csv"), sheet)
    table = read_sheet(path, COLUMNS)
    table.attrs["sheet"] = str(path)
    table["subject"] = table["subject"].map(_subject)
    table["clip"] = table["clip"].astype(str).str.strip()
    table = apply_errata(table, SAMM, _clip, errata)

    def folder(line: pd.Series) -> Path:
        return root / line["subject"] / line["clip"]

    rows = rows_from_sheet(table, folder, root, _clip, LABELS)
    rows["fps"] = FPS
    return rows
