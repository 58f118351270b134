"""Close parted lips by moving the real lower lip up against the upper lip (teeth skipped).

A smile or an open mouth shows teeth and the mouth interior between the inner lip contours.
Painting that gap over (inpainting) makes a band of invented lip colour: a pout, not a closed
mouth. Here the gap is removed instead: across the mouth, each column below the upper lip's inner
contour takes its pixels from the gap's height further down, so the lower lip's own texture
(its inner edge, where real lips meet and shade) lands on the upper lip's. Below the lower lip
the shift fades out smoothly by the chin (a smoothstep), so the chin shortens a little as when a
jaw closes, and nothing outside the mouth's width moves. Each column's map stays monotonic (the
shift is capped below the fade length), so no skin folds over.
"""

from __future__ import annotations

import cv2
import numpy as np

from equime.faces import regions

CHIN = 152  # MediaPipe Face Mesh: the chin's lowest midline point
_MAX_SHIFT = 0.6  # of the lower lip -> chin fade: a larger shift would fold the chin's skin


def _contour(uv: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A lip contour's depth (v) at each u, from its landmarks in mouth coordinates."""
    order = np.argsort(uv[:, 0])
    return np.interp(u, uv[order, 0], uv[order, 1])


def lip_gap(landmarks: np.ndarray) -> float:
    """The gap between the inner lips at the middle (landmarks 13, 14), in IODs."""
    pts = np.asarray(landmarks, np.float64)
    return float(np.linalg.norm(pts[13] - pts[14]) / regions.face_frame(pts).iod)


def close_lips(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`image` with the gap between the inner lip contours closed (see the module doc)."""
    pts = np.asarray(landmarks, np.float64)
    frame = regions.face_frame(pts)
    origin = pts[regions.UPPER_LIP_OUTER[0]]  # the right mouth corner: mouth coordinates' zero

    def to_uv(p: np.ndarray) -> np.ndarray:
        d = p - origin
        return np.stack([d @ frame.ex, d @ frame.ey], -1)

    upper = to_uv(pts[list(regions.UPPER_LIP_INNER)])
    lower = to_uv(pts[list(regions.LOWER_LIP_INNER)])
    lower_out = to_uv(pts[list(regions.LOWER_LIP_OUTER)])
    chin = float(to_uv(pts[CHIN])[1])
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = to_uv(np.stack([xs, ys], -1)).transpose(2, 0, 1)
    left = max(upper[:, 0].min(), lower[:, 0].min())
    right = min(upper[:, 0].max(), lower[:, 0].max())
    top, bottom = _contour(upper, u), _contour(lower, u)
    fade = max(chin - float(lower_out[:, 1].max()), 4.0)
    gap = np.where((u > left) & (u < right), np.maximum(bottom - top, 0.0), 0.0)
    gap = np.minimum(gap, _MAX_SHIFT * fade)
    depth = v - top  # below the upper lip's inner contour
    lip = np.maximum(_contour(lower_out, u) - bottom, 1.0)  # the lower lip's own thickness
    s = np.clip((depth - lip) / fade, 0.0, 1.0)
    weight = np.where(depth < 0, 0.0, 1.0 - s * s * (3.0 - 2.0 * s))
    source = v + gap * weight
    grid = origin + u[..., None] * frame.ex + source[..., None] * frame.ey
    grid = grid.astype(np.float32)
    return cv2.remap(image, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REFLECT)
