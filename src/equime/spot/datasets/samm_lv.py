"""SAMM Long Videos (Yap, Kendrick and Yap 2020, FG; MEGC 2019-2025): `SAMM_LongVideos_V2_
Release.xlsx`, notes above a header row with Subject, Filename (`006_1_2`: video `006_1`,
expression 2), Inducement Code, Onset, Apex, Offset, Duration, Type (`Macro`, `Micro - 1/2`),
Action Units, Notes (an Emotion column where a release has one). Frames:
`SAMM_longvideos/006_1/006_1_0001.jpg ...`, 200 fps. Apex -1 means not coded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.spot.datasets import find_file, fix_frames, read_sheet, register_loader, to_positions

FPS = 200.0
ALIASES = {
    "subject": ("Subject",),
    "filename": ("Filename", "File name"),
    "onset": ("Onset", "Onset Frame"),
    "apex": ("Apex", "Apex Frame"),
    "offset": ("Offset", "Offset Frame"),
    "type": ("Type",),
    "?aus": ("Action Units", "AU", "AUs"),
    "?emotion": ("Emotion", "Estimated Emotion"),
}


@register_loader("samm-lv")
def load(root: Path) -> pd.DataFrame:
    path = find_file(root, ("SAMM_LongVideos*.xlsx", "*SAMM*Long*.xlsx", "*.xlsx"), "SAMM-LV sheet")
    table = read_sheet(path, ALIASES)
    frames = root / "SAMM_longvideos" if (root / "SAMM_longvideos").is_dir() else root
    video = table["filename"].map(lambda v: "_".join(str(v).strip().split("_")[:2]))
    out = pd.DataFrame(
        {
            "video": video,
            "subject": table["subject"].map(lambda v: str(v).strip().removesuffix(".0").zfill(3)),
            "path": [str(frames / v) for v in video],
            "fps": FPS,
            "type": table["type"].astype(str).str.strip(),
            "onset": table["onset"],
            "apex": table["apex"],
            "offset": table["offset"],
            "emotion": table["emotion"].astype(str).str.strip() if "emotion" in table else "",
            "aus": table["aus"].astype(str).str.strip() if "aus" in table else "",
        }
    )
    return to_positions(fix_frames(out))
