"""Similarity alignment of a face to one canonical template (five points: eye centres, nose tip,
mouth corners), the usual preparation before a face model sees a crop (e.g. the 5-point template
of ArcFace, Deng et al. 2019; MEB aligns and crops every micro-expression dataset the same way).

The template here is looser than ArcFace's 112 px one: micro-expressions live in the brows and the
chin too, so the crop keeps the forehead above the brows and the chin below the mouth.
"""

from __future__ import annotations

import numpy as np

from equime.faces import regions

# canonical positions in a unit square (x right, y down): eye centres, nose tip, mouth corners
TEMPLATE = np.array(
    [[0.32, 0.40], [0.68, 0.40], [0.50, 0.60], [0.37, 0.76], [0.63, 0.76]], np.float64
)
NOSE_TIP = 1
MOUTH_CORNERS = (61, 291)  # MediaPipe face mesh: right, left mouth corner (image left, right)


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(478, 2) MediaPipe landmarks -> (5, 2): image-left eye centre, image-right eye centre,
    nose tip, image-left and image-right mouth corners."""
    pts = np.asarray(landmarks, np.float64)
    right = pts[list(regions.EYE_CORNERS["R"])].mean(0)  # the subject's right: image left
    left = pts[list(regions.EYE_CORNERS["L"])].mean(0)
    return np.stack([right, left, pts[NOSE_TIP], pts[MOUTH_CORNERS[0]], pts[MOUTH_CORNERS[1]]])


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, shift) that best maps src to dst (least
    squares, Umeyama 1991); no reflection."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    sm, dm = src.mean(0), dst.mean(0)
    a, b = src - sm, dst - dm
    u, s, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    rot = u @ np.diag([1.0, d]) @ vt
    scale = (s * [1.0, d]).sum() / max((a**2).sum(), 1e-12)
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = dm - scale * rot @ sm
    return matrix


def template_matrix(landmarks: np.ndarray, size: int) -> np.ndarray:
    """2x3 matrix taking the image to a size x size crop with the face on the template."""
    return similarity_matrix(five_points(landmarks), TEMPLATE * size)


def centre_matrix(height: int, width: int, size: int) -> np.ndarray:
    """2x3 matrix of the largest centred square, scaled to size (when no face is found)."""
    side = min(height, width)
    scale = size / side
    return np.array(
        [[scale, 0.0, -(width - side) / 2 * scale], [0.0, scale, -(height - side) / 2 * scale]]
    )


def apply_matrix(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]
