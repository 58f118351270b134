"""CAS(ME)^3 part A long videos (Li et al. 2023, IEEE TPAMI 45(3); MEGC 2022-2025): label
sheets such as `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx` (micro) and a macro sheet (`MaE` in
its name), with Subject, Filename, Onset, Apex, Offset, AU, emotion (or Objective class) and,
where present, a type column; without one the sheet's name says the type (frame numbers index
the jpgs, "JpgIndex"). Frames: `<Subject>/<Filename>/color/<k>.jpg` (or without `color`), 30 fps.
Video ids: `<Subject>_<Filename>`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.spot.datasets import fix_frames, read_sheet, register_loader, to_positions

FPS = 30.0
ALIASES = {
    "subject": ("Subject", "Sub"),
    "filename": ("Filename", "File name"),
    "onset": ("Onset", "Onset Frame"),
    "apex": ("Apex", "Apex Frame"),
    "offset": ("Offset", "Offset Frame"),
    "?type": ("Type", "Expression type"),
    "?aus": ("AU", "AUs", "Action Units"),
    "?emotion": ("emotion", "Emotion", "Objective class", "Estimated Emotion"),
}


def _sheet_type(path: Path) -> str:
    name = path.name.lower()
    return "mae" if "mae" in name or "macro" in name else "me"


@register_loader("casme3-lv")
def load(root: Path) -> pd.DataFrame:
    sheets = sorted(
        p
        for p in root.rglob("*.xlsx")
        if "part_a" in p.name.lower() and not p.name.startswith("~$")
    )
    if not sheets:
        raise EquimeError(f"{root}: no CAS(ME)^3 part A label sheet (*part_A*.xlsx)")
    parts = []
    for path in sheets:
        table = read_sheet(path, ALIASES)
        subject = table["subject"].map(lambda v: str(v).strip())
        clip = table["filename"].map(lambda v: str(v).strip().removesuffix(".0"))

        def folder(s: str, c: str) -> str:
            base = root / s / c
            return str(base / "color" if (base / "color").is_dir() else base)

        parts.append(
            pd.DataFrame(
                {
                    "video": subject + "_" + clip,
                    "subject": subject,
                    "path": [folder(s, c) for s, c in zip(subject, clip, strict=True)],
                    "fps": FPS,
                    "type": table["type"].astype(str).str.strip()
                    if "type" in table
                    else _sheet_type(path),
                    "onset": table["onset"],
                    "apex": table["apex"],
                    "offset": table["offset"],
                    "emotion": table["emotion"].astype(str).str.strip()
                    if "emotion" in table
                    else "",
                    "aus": table["aus"].astype(str).str.strip() if "aus" in table else "",
                }
            )
        )
    return to_positions(fix_frames(pd.concat(parts, ignore_index=True)))
