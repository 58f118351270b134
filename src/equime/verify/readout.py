"""AU read-out, step 1: MediaPipe blendshapes and landmarks for every k-th frame of a video.

Videos come as MP4 (or anything PyAV decodes) or as a folder of frame images (real datasets:
CASME II `img1.jpg ...`, SAMM), sorted in natural order so `img10` follows `img9`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from equime.errors import EquimeError
from equime.faces.landmarker import N_LANDMARKS, Landmarker
from equime.facs.blendshapes import BLENDSHAPE_NAMES
from equime.video.frames import frame_files
from equime.video.mp4 import iter_video

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


@dataclass(frozen=True)
class Readout:
    """Per read frame: blendshape scores and landmarks (NaN where no face was found)."""

    frames: np.ndarray  # (n,) frame indices in the video
    blendshapes: pd.DataFrame  # (n, 52), indexed by frame
    landmarks: np.ndarray  # (n, 478, 2) float32 pixels
    n_frames: int  # frames in the video (read or not)
    first: np.ndarray | None = None  # the first frame with a face (RGB): the flow and landmark
    # read-outs render their AU templates on it
    path: Path | None = None  # the video, for read-outs that go back to its pixels (flow)

    @property
    def detected(self) -> np.ndarray:
        return ~np.isnan(self.landmarks[:, 0, 0])


def iter_frames(path: Path) -> Iterator[np.ndarray]:
    """RGB uint8 frames of a video file or a frame folder, decoded one at a time."""
    if path.is_dir():
        from equime.faces.images import load_rgb

        for file in frame_files(path):
            yield load_rgb(file)
        return
    yield from iter_video(path)


def read_out(path: Path, landmarker: Landmarker, every: int = 1) -> Readout:
    """Track the largest face through every `every`-th frame (`Landmarker.track`: the face region
    follows the face, so landmarks do not jitter with a fresh face detection in every frame); the
    other frames are decoded, not read."""
    indices, scores, points = [], [], []
    first = None
    n = 0

    def chosen() -> Iterator[np.ndarray]:
        nonlocal n
        for n, rgb in enumerate(iter_frames(path), start=1):
            if (n - 1) % every == 0:
                indices.append(n - 1)
                yield rgb

    for rgb, found in landmarker.track(chosen()):
        if found:
            if first is None:
                first = rgb
            scores.append([found[0].blendshapes.get(k, np.nan) for k in BLENDSHAPE_NAMES])
            points.append(found[0].landmarks)
        else:
            scores.append([np.nan] * len(BLENDSHAPE_NAMES))
            points.append(np.full((N_LANDMARKS, 2), np.nan, np.float32))
    if not indices:
        raise EquimeError(f"{path}: the video has no frames")
    frames = np.array(indices)
    table = pd.DataFrame(
        scores, columns=list(BLENDSHAPE_NAMES), index=pd.Index(frames, name="frame")
    )
    return Readout(frames, table, np.stack(points).astype(np.float32), n, first, path)
