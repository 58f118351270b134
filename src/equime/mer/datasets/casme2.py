"""CASME II (Yan et al., "CASME II: An Improved Spontaneous Micro-Expression Database and the
Baseline Evaluation", PLOS ONE 2014): `CASME2-coding-*.xlsx` (several released versions: header
spellings differ, e.g. 'OnsetFrame' / 'Onset Frame', 'Estimated Emotion' / 'Emotion'; two columns
have a blank header; apex '/' when not coded; subjects as 1, '01' or 'sub01'), frames in
`sub<NN>/<Filename>/img<k>.jpg` with k the sheet's frame numbers. Recorded at 200 fps.
Emotions: happiness, disgust, repression, surprise, fear, sadness, others."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from equime.mer.datasets import find_sheet, read_sheet, register_dataset, rows_from_sheet
from equime.mer.datasets.errata import CASME2, apply_errata

FPS = 200.0  # Yan et al. 2014, "Acquisition and coding"
LABELS = ("happiness", "disgust", "repression", "surprise", "fear", "sadness", "others")
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


def _clip(line: pd.Series) -> str:
    return f"{line['subject']}/{line['clip']}"  # EP02_01f repeats across subjects


@register_dataset(
    "casme2", description="CASME II (CASME2-coding-*.xlsx + sub<NN>/<clip>/img<k>.jpg), 200 fps"
)
def load_casme2(root: Path, sheet: str | None = None, errata: bool = True) -> pd.DataFrame:
    path = find_sheet(root, ("CASME2-coding*.xlsx", "CASME2*coding*.xls*", "CASME2*.csv"), sheet)
    table = read_sheet(path, COLUMNS)
    table.attrs["sheet"] = str(path)
    table["subject"] = table["subject"].map(_subject)
    table["clip"] = table["clip"].astype(str).str.strip()
    table = apply_errata(table, CASME2, _clip, errata)

    def folder(line: pd.Series) -> Path:
        return root / line["subject"] / line["clip"]

    rows = rows_from_sheet(table, folder, root, _clip, LABELS)
    rows["fps"] = FPS
    return rows
