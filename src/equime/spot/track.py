"""The face through a video, for every spotting method: an aligned grey face crop per frame and
which frames are usable.

1. Landmarks (MediaPipe, VIDEO mode: the face region follows the face) every `landmark_s`
   seconds; the frames between take landmarks interpolated from the two around them.
2. Re-alignment: every frame is warped by the similarity transform that moves its stable
   landmarks (nose bridge, eye corners, upper face outline: `faces.regions.STABLE`, which no AU
   moves much) onto the segment's first frame, then cropped to the face box and resized to
   `face_px`. Head shifts, in-plane turns and zooms are gone before any method looks; this is
   the re-cropping of He et al. 2021 ("Micro expression spotting based on optical flow
   features", Pattern Recognition Letters), done with stable landmarks instead of the nose tip.
3. Unusable frames (`spot.usable`): no face, a face covered (a hand over the mouth or across
   the face), a shot change. A new segment (and reference) starts after each stretch of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from equime.errors import EquimeError
from equime.faces import regions
from equime.faces.align import similarity_matrix
from equime.spot.usable import CoverConfig, cover_measures, unusable_stretches

_BOX_MARGIN = 0.08


@dataclass(frozen=True)
class TrackConfig:
    face_px: int = 96  # the crop's side: the same cost and motion resolution at any video size
    landmark_s: float = 0.2  # landmarks every this many seconds (interpolated between): the
    # landmarker is the largest cost (12 ms a call on the shared VM); a head turning at 1 IOD/s
    # moves 0.2 IOD between two calls, which the interpolation follows
    cut_level: float = 40.0  # grey levels: mean change of a 32 px thumbnail that is a shot change
    cover: CoverConfig = field(default_factory=CoverConfig)


@dataclass
class FaceTrack:
    crops: np.ndarray  # (n, S, S) uint8 grey, aligned to its segment's first frame
    landmarks: np.ndarray  # (n, 478, 2) in crop pixels (NaN where no face)
    usable: np.ndarray  # (n,) bool
    segment: np.ndarray  # (n,) int: frames of one segment share a reference (-1: unusable)
    stretches: list[dict]  # unusable stretches: start, end (inclusive), reason
    fps: float
    iod: float  # inter-ocular distance in crop pixels

    @property
    def n(self) -> int:
        return len(self.crops)


def _frames_with_landmarks(
    frames: Iterable[np.ndarray], landmarker, step: int
) -> Iterator[tuple[np.ndarray, np.ndarray | None, bool]]:
    """(rgb, landmarks or None, measured here) for every frame; landmarks are measured every
    `step` frames and interpolated between (held after the last measured frame)."""
    waiting: deque = deque()

    def every() -> Iterator[np.ndarray]:
        for i, rgb in enumerate(frames):
            waiting.append(rgb)
            if i % step == 0:
                yield rgb

    previous = None
    for _rgb, found in landmarker.track(every()):
        current = np.asarray(found[0].landmarks, np.float64) if found else None
        last = waiting.pop()
        gap = len(waiting) + 1
        for j in range(len(waiting)):
            w = (j + 1) / gap
            between = (
                (1 - w) * previous + w * current
                if previous is not None and current is not None
                else None
            )
            yield waiting.popleft(), between, False
        yield last, current, True
        previous = current
    while waiting:
        yield waiting.popleft(), previous, False


def track_face(
    frames: Iterable[np.ndarray], fps: float, landmarker, cfg: TrackConfig, name: str
) -> FaceTrack:
    """One pass over the frames: aligned crops, crop landmarks and usable frames."""
    step = max(1, round(cfg.landmark_s * fps))
    size = cfg.face_px
    crops, marks, measures, cuts = [], [], [], []
    ref = None  # (stable landmarks of the segment's first frame, its crop matrix)
    thumb_prev = None
    iod = 0.0
    stable = list(regions.STABLE)
    for rgb, pts, measured in _frames_with_landmarks(frames, landmarker, step):
        grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        thumb = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
        cut = thumb_prev is not None and float(np.abs(thumb - thumb_prev).mean()) > cfg.cut_level
        thumb_prev = thumb
        cuts.append(cut)
        if pts is None:
            crops.append(np.zeros((size, size), np.uint8))
            marks.append(np.full((regions.N_LANDMARKS, 2), np.nan))
            measures.append((np.nan, np.nan))
            ref = None
            continue
        if ref is None or cut:
            y0, y1, x0, x1 = regions.face_box(pts, rgb.shape[:2], _BOX_MARGIN)
            scale = size / max(x1 - x0, y1 - y0)
            to_crop = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
            ref = (pts[stable], to_crop)
            iod = iod or regions.face_frame(pts).iod * scale
        align = similarity_matrix(pts[stable], ref[0])  # this frame onto the segment's first
        lin = ref[1][:, :2]
        m = np.concatenate([lin @ align[:, :2], (lin @ align[:, 2] + ref[1][:, 2])[:, None]], 1)
        crop_rgb = cv2.warpAffine(
            rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        in_crop = pts @ m[:, :2].T + m[:, 2]
        crops.append(cv2.cvtColor(crop_rgb, cv2.COLOR_RGB2GRAY))
        marks.append(in_crop)
        measures.append(cover_measures(crop_rgb, in_crop) if measured else (np.nan, np.nan))
    if not crops:
        raise EquimeError(f"{name}: no frames")
    lip, edge = np.array(measures, np.float64).T
    usable, segment, stretches = unusable_stretches(
        lip,
        edge,
        np.array([not np.isnan(p[0, 0]) for p in marks]),
        np.array(cuts),
        fps,
        cfg.cover,
    )
    return FaceTrack(np.stack(crops), np.stack(marks), usable, segment, stretches, fps, iod)
