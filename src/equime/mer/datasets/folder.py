"""A generic folder of labelled videos: `<root>/<label>/<clip>.mp4` (or a frame folder per clip),
or any layout listed in `<root>/labels.csv` with columns path, label and optionally clip, subject,
onset, apex, offset, gender, race, age.

Each labels.csv row is its own clip, so one recording may hold several expressions: the clip id
is the `clip` column, else the path, else (a path listed more than once) `path@onset`. Two rows
with one id are an error naming both lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets import register_dataset
from equime.mer.labels import normalize_emotion
from equime.video.frames import IMAGE_SUFFIXES

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def is_frame_folder(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())


def clip_ids(table: pd.DataFrame, listing: Path) -> list[str]:
    """One id per labels.csv row (see the module's docstring); a repeated id is an error."""
    given = table["clip"] if "clip" in table.columns else pd.Series([""] * len(table))
    onsets = table["onset"] if "onset" in table.columns else pd.Series([""] * len(table))
    repeated = table["path"].duplicated(keep=False)
    ids = [
        c or (f"{p}@{o}" if again and o else p)
        for c, p, o, again in zip(given, table["path"], onsets, repeated, strict=True)
    ]
    seen: dict[str, int] = {}
    for line, clip in enumerate(ids, start=2):  # line 1 is the header
        if clip in seen:
            raise EquimeError(
                f"{listing}: lines {seen[clip]} and {line} are both clip {clip!r}; give each row "
                "its own onset or a clip column"
            )
        seen[clip] = line
    return ids


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
        table["clip"] = clip_ids(table, listing)
        table["subject"] = table.get("subject", table["clip"])
        table["emotion"] = [normalize_emotion(v) for v in table["label"]]
        if "age" in table.columns and "age_group" not in table.columns:
            from equime.attributes.vocabulary import age_group

            table["age_group"] = [age_group(a) for a in table["age"]]
        return table.drop(columns=["path", "label"])
    rows = []
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for item in sorted(label_dir.iterdir()):
            if item.suffix.lower() in VIDEO_SUFFIXES or is_frame_folder(item):
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
