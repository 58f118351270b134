"""A generic folder of labelled videos: `<root>/<label>/<clip>.mp4` (or a frame folder per clip),
or any layout listed in `<root>/labels.csv` with columns path, label and optionally subject,
onset, apex, offset, gender, race, age."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets import register_dataset
from equime.mer.labels import normalize_emotion
from equime.video.frames import IMAGE_SUFFIXES

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def _is_frame_folder(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())


@register_dataset(
    "folder", sampling="first", real=False, description="<label>/<clip> or labels.csv"
)
def load_folder(root: Path) -> pd.DataFrame:
    listing = root / "labels.csv"
    if listing.is_file():
        table = pd.read_csv(listing, dtype=str).fillna("")
        if not {"path", "label"} <= set(table.columns):
            raise EquimeError(f"{listing}: needs columns path and label")
        table["source"] = [str(root / p) for p in table["path"]]
        for source in table["source"]:
            if not Path(source).exists():
                raise EquimeError(f"{listing}: {source} not found")
        table["clip"] = table.get("clip", pd.Series(table["path"]))
        table["subject"] = table.get("subject", table["clip"])
        table["emotion"] = [normalize_emotion(v) for v in table["label"]]
        if "age" in table.columns and "age_group" not in table.columns:
            from equime.attributes.vocabulary import age_group

            table["age_group"] = [age_group(a) for a in table["age"]]
        return table.drop(columns=["path", "label"])
    rows = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for item in sorted(label_dir.iterdir()):
            if item.suffix.lower() in VIDEO_SUFFIXES or _is_frame_folder(item):
                clip = f"{label_dir.name}/{item.stem if item.is_file() else item.name}"
                rows.append(
                    {
                        "subject": clip,
                        "clip": clip,
                        "source": str(item),
                        "emotion": normalize_emotion(label_dir.name),
                    }
                )
    return pd.DataFrame(rows)
