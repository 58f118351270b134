"""Neutral start faces: undo a source photo's expression with the warp, before any timeline.

`faces.expression` measures the photo (blendshape channels: smile, frown, ...). A channel above
the threshold names the AUs that make it; the warp moves them backwards (their E fields times -k,
fold-limited, `warp._limit_folding`) in small steps, the landmarks re-detected after each, until
the landmarker reads every such channel below `MARGIN` x the threshold (at most `ROUNDS` steps).
A smile shows teeth through parted lips, and a warp cannot remove teeth: where the undone AUs
include lip or jaw motion, the gap left between the inner lips is filled from the lips around it
(OpenCV inpainting), so the mouth reads closed. The landmarks are then re-detected on the
neutralised image, so every later AU moves from neutral positions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from equime.faces import regions
from equime.faces.au_readout import read_face_aus
from equime.faces.expression import (
    NEUTRAL_THRESHOLD,
    beyond,
    describe,
    limit,
    measure,
    undo_codes,
)
from equime.faces.face import Face
from equime.facs.aus import parse_code
from equime.synth.warp import _limit_folding, au_field

# The undo keeps the hand-written table: its smile undo was tuned against the blendshape check; a
# neutraliser that reads every AU with the real-data model is the start-face issue's work.
UNDO_SOURCE = "table"
STEP = 0.5  # undo per round, in E units (landmarks are re-detected after each round)
ROUNDS = 5  # at most this many rounds (2.5 E in all)
MARGIN = 0.5  # a neutralised channel must read below MARGIN * threshold (well inside neutral)
GEOMETRY_DONE = 0.1  # and the geometry read-out (faces.au_readout) below this for a shape AU
_SHAPE_AUS = frozenset({"12", "26"})  # AUs it reads well against the mean face (see the docs)
_MOUTH_AUS = frozenset({10, 12, 16, 25, 26})  # undoing these may leave teeth between the lips


@dataclass(frozen=True)
class Neutralised:
    face: Face  # the face to animate (unchanged when nothing was beyond the threshold)
    before: dict[str, float]  # channel scores of the prepared photo
    after: dict[str, float]  # channel scores of `face`
    undone: dict[str, float]  # AU code -> intensity moved backwards (empty: untouched)

    @property
    def changed(self) -> bool:
        return bool(self.undone)


def _close_lips(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Fill the area between the inner lips (teeth, mouth interior) from the surrounding lips."""
    pts = np.asarray(landmarks, np.float64)
    poly = np.concatenate(
        [pts[list(regions.UPPER_LIP_INNER)], pts[list(regions.LOWER_LIP_INNER)][::-1]]
    )
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
    if mask.sum() < 4:
        return image
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)


# The band from the nose wing past the mouth corner into the lower cheek, per side: where a smile
# folds the skin (nasolabial fold) and dimples it; MediaPipe Face Mesh indices.
_FOLD_BAND = {
    "R": (129, 98, 64, 61, 146, 185, 205, 187, 207, 216, 212, 57, 186, 92),
    "L": (358, 327, 294, 291, 375, 409, 425, 411, 427, 436, 432, 287, 410, 322),
}
_FOLD_AUS = frozenset({6, 10, 12, 13, 14})  # AUs whose undo leaves a fold's shading behind
_FOLD_FINE, _FOLD_COARSE = 0.025, 0.12  # band-pass sigmas, x IOD: a crease's width lies between


def _flatten_folds(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Remove the shading a fold leaves in the nasolabial band: the undo warp moves the cheek back
    but carries the crease's dark line and the dimple with it. Inside the band the middle
    spatial frequencies (a crease is a few pixels wide) are taken out and the fine ones (skin
    texture) kept, feathered into the face around it (a band-pass split as in frequency-separation
    retouching); the lips are left alone."""
    pts = np.asarray(landmarks, np.float64)
    iod = float(np.linalg.norm(pts[33] - pts[263]))
    size = image.shape[0]
    mask = np.zeros(image.shape[:2], np.float32)
    for band in _FOLD_BAND.values():
        hull = cv2.convexHull(np.round(pts[list(band)]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0)
    lips = np.round(pts[list(regions.UPPER_LIP_OUTER + regions.LOWER_LIP_OUTER)]).astype(np.int32)
    cv2.fillConvexPoly(mask, cv2.convexHull(lips), 0.0)
    feather = max(_FOLD_FINE * iod * 2, 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), feather)[..., None]
    if size < 8 or mask.max() <= 0:
        return image
    img = image.astype(np.float32)
    fine = cv2.GaussianBlur(img, (0, 0), max(_FOLD_FINE * iod, 0.5))
    coarse = cv2.GaussianBlur(img, (0, 0), _FOLD_COARSE * iod)
    flattened = img - (fine - coarse)
    return np.clip(np.round(img * (1 - mask) + flattened * mask), 0, 255).astype(np.uint8)


def _undo(face: Face, codes: dict[str, float], k: float) -> np.ndarray:
    size = face.size
    total = -sum(
        np.float32(k * w) * au_field(face.landmarks, c, size, UNDO_SOURCE) for c, w in codes.items()
    )
    total = _limit_folding(np.asarray(total, np.float32))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    grid = np.stack([xs + total[..., 0], ys + total[..., 1]], -1)
    return cv2.remap(face.image, grid, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def neutralise(face: Face, landmarker, threshold: float = NEUTRAL_THRESHOLD) -> Neutralised:
    """Measure `face` and, if any channel is beyond `threshold`, undo it (see the module doc)."""
    found = landmarker.detect(face.image)
    before = measure(found[0].blendshapes) if found else {}
    over = beyond(before, threshold)
    if not over:
        return Neutralised(face, before, before, {})
    codes = undo_codes(over)
    mouth = any(parse_code(c)[1] in _MOUTH_AUS for c in codes)
    folds = any(parse_code(c)[1] in _FOLD_AUS for c in codes)
    current, after, undone = face, before, 0.0
    for _ in range(ROUNDS):  # small steps, landmarks re-detected between them: no fold-over
        image = _undo(current, codes, STEP)
        found = landmarker.detect(image)
        if not found:
            break
        if mouth:
            image = _close_lips(image, found[0].landmarks)
            found = landmarker.detect(image) or found
        if folds:
            image = _flatten_folds(image, found[0].landmarks)
            found = landmarker.detect(image) or found
        current = replace(
            current,
            image=np.ascontiguousarray(image, np.uint8),
            landmarks=np.asarray(found[0].landmarks, np.float32),
        )
        after, undone = measure(found[0].blendshapes), undone + STEP
        shape = read_face_aus(found[0].landmarks)
        if all(after[name] < MARGIN * limit(name, threshold) for name in over) and all(
            shape.get(parse_code(c)[1], 0.0) < GEOMETRY_DONE for c in codes if c in _SHAPE_AUS
        ):
            break
    if undone == 0:  # the face was lost at the first step: keep the photo as it is
        return Neutralised(face, before, before, {})
    now = {name: after[name] for name in over}
    note = f"neutralised: {describe(over, 0.0)} -> {describe(now, -1.0)}"
    new = replace(current, notes=(*face.notes, note))
    return Neutralised(new, before, after, {c: round(undone * w, 3) for c, w in codes.items()})
