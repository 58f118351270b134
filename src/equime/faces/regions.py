"""Facial regions on the MediaPipe Face Mesh (478 landmarks), as data plus a few geometric helpers.

Index sets name landmarks in MediaPipe order. "R" is the subject's right, which is the image's left
in a frontal photo (MediaPipe's "right eye" 33/133 sits on the image's left too).

`face_frame` gives a coordinate frame tied to the face rather than the image (origin between the
eyes, x along the eye line, unit = inter-ocular distance), so motion rules and masks work the same
for tilted or differently sized faces. `region_mask` / `au_mask` say where an Action Unit may
legitimately change the image; everything outside them should stay identical to the source face,
which is how identity drift is measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from equime.errors import EquimeError
from equime.facs.aus import AUS, REGIONS, parse_code

N_LANDMARKS = 478

# --- landmark index sets (per side: R = subject's right = image left) -------------------------

BROW_INNER = {"R": (55, 65, 107, 66), "L": (285, 295, 336, 296)}
BROW_MIDDLE = {"R": (52, 105), "L": (282, 334)}
BROW_OUTER = {"R": (46, 53, 70, 63), "L": (276, 283, 300, 293)}

EYE_CORNERS = {"R": (33, 133), "L": (263, 362)}  # (outer, inner)
UPPER_LID = {"R": (246, 161, 160, 159, 158, 157, 173), "L": (466, 388, 387, 386, 385, 384, 398)}
LOWER_LID = {"R": (7, 163, 144, 145, 153, 154, 155), "L": (249, 390, 373, 374, 380, 381, 382)}
UPPER_LID_CREASE = {"R": (247, 30, 29, 27, 28, 56, 190), "L": (467, 260, 259, 257, 258, 286, 414)}
LOWER_LID_RING = {
    "R": (130, 25, 110, 24, 23, 22, 26, 112, 243),
    "L": (359, 255, 339, 254, 253, 252, 256, 341, 463),
}
UNDER_EYE = {
    "R": (226, 31, 228, 229, 230, 231, 232, 233, 244),
    "L": (446, 261, 448, 449, 450, 451, 452, 453, 464),
}
IRIS = {"R": (468, 469, 470, 471, 472), "L": (473, 474, 475, 476, 477)}

CHEEK = {
    "R": (116, 117, 118, 119, 100, 101, 50, 36, 205, 187, 123, 147, 206, 120, 47, 126, 142, 203),
    "L": (345, 346, 347, 348, 329, 330, 280, 266, 425, 411, 352, 376, 426, 349, 277, 355, 371, 423),
}
NOSE_WING = {
    "R": (64, 98, 240, 235, 219, 48, 129, 102, 49, 115, 220, 218, 237, 97, 99, 75, 60, 166, 79),
    "L": (
        294,
        327,
        460,
        455,
        439,
        278,
        358,
        331,
        279,
        344,
        440,
        438,
        457,
        326,
        328,
        305,
        290,
        392,
        309,
    ),
}
FOREHEAD = {"R": (108, 69, 104, 68, 71, 103, 54, 67), "L": (337, 299, 333, 298, 301, 332, 284, 297)}
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2)
GLABELLA = (9, 8, 107, 336, 55, 285, 193, 417, 122, 351)

LIP_CORNERS = {"R": (61, 78, 62, 76, 146, 185), "L": (291, 308, 292, 306, 375, 409)}
UPPER_LIP_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
UPPER_LIP_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_LIP_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LOWER_LIP_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_LIP = UPPER_LIP_OUTER + UPPER_LIP_INNER
LOWER_LIP = LOWER_LIP_OUTER + LOWER_LIP_INNER
PHILTRUM = (164, 167, 393, 165, 391, 92, 322, 186, 410)  # skin between nose and upper lip

CHIN = (18, 83, 313, 200, 201, 421, 199, 208, 428, 175, 171, 396, 152, 148, 377, 176, 400, 32, 262)
JAW_LINE = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361)
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
MIDLINE = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164,
    0, 11, 12, 13, 14, 15, 16, 17, 18, 200, 199, 175, 152,
)  # fmt: skip

# Landmarks no AU moves much: the upper face outline, the nose bridge, the eye corners (jaw and chin
# are left out: AU26 moves them). Similarity fits on them remove head motion (shift, turn, scale).
STABLE = tuple(
    sorted(
        (set(FACE_OVAL) - set(JAW_LINE) - set(CHIN))
        | set(NOSE_BRIDGE)
        | set(EYE_CORNERS["R"])
        | set(EYE_CORNERS["L"])
    )
)

# --- regions: each is a list of parts; a part's filled convex hull is one piece of the mask ------

Part = tuple[int, ...]


def _both(*sets: dict[str, tuple[int, ...]]) -> list[Part]:
    return [tuple(i for s in sets for i in s[side]) for side in ("R", "L")]


# Regions are drawn generously around the moving landmarks: the warp moves skin within about
# 0.2 IOD of them, and that skin belongs to the AU, not to identity drift.
REGION_PARTS: dict[str, list[Part]] = {
    "brows": [
        *_both(BROW_INNER, BROW_MIDDLE, BROW_OUTER, UPPER_LID_CREASE, FOREHEAD),
        (9, 151, 8, 108, 337, 107, 336),  # the forehead between the brows (inner brows pull it)
    ],
    "eyes": _both(UPPER_LID, LOWER_LID, UPPER_LID_CREASE, LOWER_LID_RING, UNDER_EYE, EYE_CORNERS),
    "cheeks": _both(CHEEK, UNDER_EYE),
    "nose": [NOSE_BRIDGE + GLABELLA + tuple(NOSE_WING["R"]) + tuple(NOSE_WING["L"])],
    "mouth": [UPPER_LIP + LOWER_LIP + PHILTRUM + LIP_CORNERS["R"] + LIP_CORNERS["L"]],
    "chin": [CHIN + LOWER_LIP_OUTER],
    "jaw": [JAW_LINE + CHIN + LOWER_LIP_OUTER],
}

# Dilation of every hull, in inter-ocular distances (the warp's smooth fall-off around landmarks).
REGION_MARGIN = {
    "brows": 0.22,
    "eyes": 0.12,
    "cheeks": 0.15,
    "nose": 0.15,
    "mouth": 0.2,
    "chin": 0.15,
    "jaw": 0.15,
}

# Regions that also cover where their skin moves to: (down, IODs) adds each part shifted down the
# face by that much (a dropped jaw lands on the neck, which then belongs to the AU).
REGION_REACH: dict[str, float] = {"jaw": 0.3}

# Regions an AU visibly changes beyond its catalogue region (it moves their landmarks too).
AU_EXTRA_REGIONS: dict[int, tuple[str, ...]] = {
    4: ("nose",),  # the glabella bunches between the brows
    5: ("brows",),
    6: ("eyes",),
    7: ("cheeks",),
    9: ("brows", "mouth", "cheeks"),
    10: ("nose",),
    12: ("cheeks",),
    14: ("cheeks",),
    15: ("chin",),
    16: ("chin",),
    17: ("mouth",),
    20: ("cheeks", "jaw"),
    25: ("chin",),
    26: ("mouth", "chin"),
}


@dataclass(frozen=True)
class FaceFrame:
    """Face-aligned frame: x from subject's right eye to left eye, y down the face, unit = IOD."""

    origin: np.ndarray  # (2,) pixel position between the eyes
    ex: np.ndarray  # (2,) unit vector along the eye line, toward the subject's left eye
    ey: np.ndarray  # (2,) unit vector perpendicular, pointing down the face
    iod: float  # inter-ocular distance in pixels

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """Pixel points (N, 2) -> face coordinates (N, 2) in IODs."""
        d = np.asarray(points, np.float64) - self.origin
        return np.stack([d @ self.ex, d @ self.ey], axis=-1) / self.iod

    def to_pixels(self, vectors: np.ndarray) -> np.ndarray:
        """Displacements (N, 2) in face units -> pixel displacements (N, 2)."""
        v = np.asarray(vectors, np.float64)
        return (v[..., :1] * self.ex + v[..., 1:] * self.ey) * self.iod


def _check(landmarks: np.ndarray) -> np.ndarray:
    pts = np.asarray(landmarks, np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < 468:
        raise EquimeError(f"expected (478, 2) MediaPipe landmarks, got shape {pts.shape}")
    return pts


def face_box(
    landmarks: np.ndarray, shape: tuple[int, ...], margin: float
) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the landmarks' bounding box grown by `margin` of its larger
    side and clipped to an image of `shape` (so flow windows see past the face outline)."""
    pts = np.asarray(landmarks, np.float64)
    h, w = shape[:2]
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    pad = margin * max(x1 - x0, y1 - y0)
    return (
        int(max(y0 - pad, 0)),
        int(min(y1 + pad + 1, h)),
        int(max(x0 - pad, 0)),
        int(min(x1 + pad + 1, w)),
    )


def face_frame(landmarks: np.ndarray) -> FaceFrame:
    """The frame from eye centres (mean of each eye's corners: insensitive to gaze)."""
    pts = _check(landmarks)
    right = pts[list(EYE_CORNERS["R"])].mean(axis=0)
    left = pts[list(EYE_CORNERS["L"])].mean(axis=0)
    axis = left - right
    iod = float(np.hypot(*axis))
    if iod < 1e-6:
        raise EquimeError("degenerate landmarks: both eyes at the same place")
    ex = axis / iod
    return FaceFrame(origin=(left + right) / 2, ex=ex, ey=np.array([-ex[1], ex[0]]), iod=iod)


def midline_distance(landmarks: np.ndarray) -> np.ndarray:
    """Signed distance (IODs) of each landmark from the facial midline; < 0 is the subject's right.

    The midline is a straight line fitted through the mesh's midline landmarks in the face frame,
    so a slightly turned head still splits at the nose rather than at the eye centre.
    """
    pts = _check(landmarks)
    q = face_frame(pts).to_face(pts)
    mid = q[list(MIDLINE)]
    slope, intercept = np.polyfit(mid[:, 1], mid[:, 0], 1)  # x as a function of y
    return q[:, 0] - (slope * q[:, 1] + intercept)


def side_of(landmarks: np.ndarray, tolerance: float = 0.02) -> np.ndarray:
    """'R', 'L' or '' (midline: a midline landmark or within `tolerance` IODs) per landmark."""
    dist = midline_distance(landmarks)
    sides = np.where(dist < 0, "R", "L").astype("<U1")
    sides[np.abs(dist) <= tolerance] = ""
    sides[list(MIDLINE)] = ""
    return sides


def side_share(landmarks: np.ndarray, side: str) -> np.ndarray:
    """(478,) share of a one-sided AU's motion each landmark takes: 1 on `side`, 0.5 on the
    midline (both sides pull), 0 on the other side; 1 everywhere when `side` is ''."""
    if not side:
        return np.ones(len(_check(landmarks)))
    sides = side_of(landmarks)
    return np.where(sides == side, 1.0, np.where(sides == "", 0.5, 0.0))


def _hull_mask(points: np.ndarray, size: int, margin_px: float) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    hull = cv2.convexHull(np.round(points * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    r = round(margin_px)
    if r > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        mask = cv2.dilate(mask, kernel)
    return mask.astype(bool)


def region_mask(landmarks: np.ndarray, region: str, size: int) -> np.ndarray:
    """Bool (size, size) mask: the filled convex hull of each part of `region`, dilated."""
    if region not in REGION_PARTS:
        raise EquimeError(f"unknown face region '{region}'; known: {', '.join(REGIONS)}")
    pts = _check(landmarks)
    frame = face_frame(pts)
    margin = REGION_MARGIN[region] * frame.iod
    reach = frame.to_pixels(np.array([[0.0, REGION_REACH.get(region, 0.0)]]))[0]
    mask = np.zeros((size, size), bool)
    for part in REGION_PARTS[region]:
        hull_pts = pts[list(part)]
        mask |= _hull_mask(np.concatenate([hull_pts, hull_pts + reach]), size, margin)
    return mask


def side_mask(landmarks: np.ndarray, side: str, size: int, overlap: float = 0.1) -> np.ndarray:
    """Bool mask of one half of the image, split at the facial midline, reaching `overlap` IODs
    across it (the skin at the midline is pulled by either side)."""
    pts = _check(landmarks)
    frame = face_frame(pts)
    q = frame.to_face(pts)
    mid = q[list(MIDLINE)]
    slope, intercept = np.polyfit(mid[:, 1], mid[:, 0], 1)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    d = np.stack([xs - frame.origin[0], ys - frame.origin[1]], axis=-1)
    fx = (d @ frame.ex) / frame.iod
    fy = (d @ frame.ey) / frame.iod
    dist = fx - (slope * fy + intercept)
    return dist <= overlap if side == "R" else dist >= -overlap


def au_regions(code: str) -> tuple[str, ...]:
    """The regions an AU code changes: its catalogue region plus those its motion reaches."""
    _, number, _ = parse_code(code)
    return (AUS[number].region, *AU_EXTRA_REGIONS.get(number, ()))


def au_mask(landmarks: np.ndarray, code: str, size: int) -> np.ndarray:
    """Bool mask of where AU `code` may change the face; a sided code keeps only its side."""
    side, _, _ = parse_code(code)
    mask = np.zeros((size, size), bool)
    for region in au_regions(code):
        mask |= region_mask(landmarks, region, size)
    if side:
        mask &= side_mask(landmarks, side, size)
    return mask


def union_mask(landmarks: np.ndarray, codes: list[str] | tuple[str, ...], size: int) -> np.ndarray:
    """Union of `au_mask` over several codes (an emotion prototype, a Z vector)."""
    mask = np.zeros((size, size), bool)
    for code in codes:
        mask |= au_mask(landmarks, code, size)
    return mask
