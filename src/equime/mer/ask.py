"""Clips a person asks a trained model about (`equime predict`, the web page): a video or frame
folder becomes clip-table rows (mer.datasets ROW_COLUMNS) that mer.predict reads like any
dataset's, with the timing the person gave or none to find.

A clip without an onset starts at its first frame; without an apex, the flow input finds it (the
frame whose flow from the onset is largest, as for SMIC: mer.flow). Intervals found by a spotter
come in as (onset, apex, offset) and keep their apex re-estimated the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets import finish_table
from equime.mer.datasets.folder import VIDEO_SUFFIXES, is_frame_folder

FACE_LOOKS = 8  # frames looked at, evenly over the clip, before saying a video has no face


def clip_row(
    video: Path,
    name: str,
    onset: int | None = None,
    apex: int | None = None,
    offset: int | None = None,
) -> dict[str, object]:
    """One clip of `video`: given positions, or -1 where the flow input is to find them."""
    return {
        "subject": name,
        "clip": name if onset is None else f"{name}@{onset}",
        "source": str(video),
        "onset": 0 if onset is None else onset,
        "apex": -1 if apex is None else apex,
        "offset": -1 if offset is None else offset,
        "apex_source": "" if apex is not None else "estimate",  # "" + apex: annotated
        "emotion": "",
    }


def clip_table(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows -> a finished clip table (every ROW_COLUMNS column, dataset 'predict')."""
    return finish_table(pd.DataFrame(rows), "predict")


def is_clip(path: Path) -> bool:
    """A video file or a folder of frame images."""
    return (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES) or is_frame_folder(path)


def videos_in(folder: Path) -> list[Path]:
    """Every video file and frame folder directly in `folder` (sorted by name)."""
    found = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".") and is_clip(p)]
    if not found:
        raise EquimeError(f"{folder}: no videos or frame folders in it")
    return found


def check_timing(video: Path, total: int, onset: int | None, apex: int | None) -> None:
    for name, value in (("onset", onset), ("apex", apex)):
        if value is not None and not 0 <= value < total:
            raise EquimeError(f"{video}: {name} {value} is outside its frames 0-{total - 1}")
    if onset is not None and apex is not None and apex <= onset:
        raise EquimeError(f"{video}: apex {apex} must come after onset {onset}")


def has_face(video: Path, start: int = 0, end: int | None = None) -> bool:
    """Whether MediaPipe finds a face in any of FACE_LOOKS frames spread over [start, end]."""
    from equime.faces.landmarker import Landmarker
    from equime.mer.clips import count_frames, read_frames

    total = count_frames(video)
    end = total - 1 if end is None or end < 0 else min(end, total - 1)
    picks = sorted({int(i) for i in np.linspace(max(0, start), end, FACE_LOOKS)})
    frames = read_frames(video, picks)
    with Landmarker(None, max_faces=1) as landmarker:
        return any(landmarker.detect(np.ascontiguousarray(f)) for f in frames)


def require_face(video: Path, start: int = 0, end: int | None = None) -> None:
    if not has_face(video, start, end):
        raise EquimeError(
            f"{video}: no face found (looked at {FACE_LOOKS} frames); predict needs a face"
        )
