"""Source photo -> the square face-centred crop (with landmarks) every generator starts from."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from equime.errors import InputRejected
from equime.faces.face import Face
from equime.faces.find import find_faces
from equime.faces.images import load_rgb
from equime.faces.landmarker import Landmarker
from equime.faces.sources import SourceImage

FACE_CHOICES = ("largest", "all")  # --faces: the largest face of a photo, or every face
CUT_TOLERANCE = 0.03  # landmarks more than this x face size beyond the photo's edge: face cut
SHIFT_TOLERANCE = 0.1  # the face centre may sit this x the crop side off the crop's centre
MIN_MARGIN = 0.3  # a shrunk crop keeps at least this margin (x face size) around the face


@dataclass(frozen=True)
class Prepared:
    """What one photo gave: its faces, the faces refused (face id, reason), and how many faces
    were found but not used (`faces="largest"`)."""

    faces: list[Face]
    rejected: list[tuple[str, str]]
    unused: int = 0


def prepare_faces(
    src: SourceImage,
    landmarker: Landmarker,
    size: int = 256,
    margin: float = 0.6,
    min_face: int = 64,
    faces: str = "largest",
) -> Prepared:
    """Find the faces of `src` (`faces.find`) and crop the largest, or each (face id + "-" + its
    index, largest first), to a `size`-pixel square with `margin` around it.

    Raises InputRejected when the photo is unreadable or has no face; a face smaller than
    `min_face` pixels (too little detail to animate credibly) or cut by the photo's edge is
    refused with its reason.
    """
    if faces not in FACE_CHOICES:
        raise ValueError(f"faces must be one of {FACE_CHOICES}, got {faces!r}")
    path = str(src.path)
    rgb = load_rgb(src.path)
    detections = find_faces(landmarker, rgb)
    if not detections:
        raise InputRejected(path, "no face found")
    if faces == "largest":
        chosen = [(src.face_id, detections[0])]
    else:
        chosen = [(f"{src.face_id}-{i}", d) for i, d in enumerate(detections)]
    notes = []
    if len(detections) > 1:
        used = "used the largest" if faces == "largest" else "each its own identity"
        notes.append(f"{len(detections)} faces found; {used}")
    done, rejected = [], []
    for face_id, found in chosen:
        try:
            crop, landmarks, how = fit_crop(rgb, found.landmarks, size, margin, min_face)
        except InputRejected as exc:
            rejected.append((face_id, exc.reason))
            continue
        face = Face(
            face_id=face_id,
            image=crop,
            landmarks=landmarks,
            source_path=src.shown_path,
            source_sha256=src.sha256,
            notes=tuple(notes + ([how] if how else [])),
        )
        done.append(face)
    unused = len(detections) - 1 if faces == "largest" else 0
    return Prepared(done, rejected, unused)


def prepare_face(
    src: SourceImage,
    landmarker: Landmarker,
    size: int = 256,
    margin: float = 0.6,
    min_face: int = 64,
) -> Face:
    """The largest face of `src` (`prepare_faces`); InputRejected when it cannot be used."""
    prepared = prepare_faces(src, landmarker, size, margin, min_face)
    if prepared.rejected:
        raise InputRejected(str(src.path), prepared.rejected[0][1])
    return prepared.faces[0]


def fit_crop(
    rgb: np.ndarray, landmarks: np.ndarray, size: int, margin: float, min_face: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """The face square of `crop_square`, kept inside the photo: moved (the face up to
    `SHIFT_TOLERANCE` off centre), else shrunk (margin down to `MIN_MARGIN`), else filled by
    reflection outside the photo (`reflect_square`); edge pixels are never stretched.

    Returns the crop, its landmarks and what was done ('' when the square fitted as it was).
    InputRejected when the face is smaller than `min_face` or cut by the photo's edge."""
    height, width = rgb.shape[:2]
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    face_side = max(x1 - x0, y1 - y0)
    if face_side < min_face:
        raise InputRejected("", f"face is {round(face_side)}px, below the minimum of {min_face}px")
    outside = max(-x0, -y0, x1 - width, y1 - height)
    if outside > CUT_TOLERANCE * face_side:
        raise InputRejected("", f"face cut by the photo's edge ({round(outside)}px outside)")
    left, top, side = square_box(landmarks, margin)
    if _inside(left, top, side, width, height):
        return (*crop_square(rgb, landmarks, size, margin), "")
    smallest = max(1, round(face_side * (1.0 + MIN_MARGIN)))
    for trial in range(side, smallest - 1, -1):  # largest square first
        box = _moved(landmarks, trial, width, height)
        if box is not None:
            crop, moved = cut_square(rgb, landmarks, box, size)
            dx, dy = box[0] - (left + (side - trial) // 2), box[1] - (top + (side - trial) // 2)
            how = f"crop moved ({dx:+d}, {dy:+d}) px" + (
                f", margin {trial / face_side - 1:.2f}" if trial < side else ""
            )
            return crop, moved, how + " to stay inside the photo"
    crop, moved = reflect_square(rgb, landmarks, (left, top, side), size)
    return crop, moved, "crop filled by reflection outside the photo"


def _inside(left: int, top: int, side: int, width: int, height: int) -> bool:
    return left >= 0 and top >= 0 and left + side <= width and top + side <= height


def _moved(
    landmarks: np.ndarray, side: int, width: int, height: int
) -> tuple[int, int, int] | None:
    """A `side` square inside the photo with the face centre within tolerance, or None."""
    if side > min(width, height):
        return None
    centre = (landmarks.min(axis=0) + landmarks.max(axis=0)) / 2.0
    left = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    top = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    off = np.abs(np.array([left, top]) + side / 2 - centre)
    return (left, top, side) if off.max() <= SHIFT_TOLERANCE * side else None


def square_box(landmarks: np.ndarray, margin: float) -> tuple[int, int, int]:
    """Integer square (left, top, side) around the landmarks' box; side = longer side * (1+margin).

    Integer corners keep the later landmark transform exact (a pure shift and scale).
    """
    x0, y0 = landmarks.min(axis=0).astype(np.float64)
    x1, y1 = landmarks.max(axis=0).astype(np.float64)
    side = max(1, round(max(x1 - x0, y1 - y0) * (1.0 + margin)))
    left = round((x0 + x1) / 2.0 - side / 2.0)
    top = round((y0 + y1) / 2.0 - side / 2.0)
    return left, top, side


def crop_square(
    rgb: np.ndarray, landmarks: np.ndarray, size: int, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the face square (`square_box`) out of `rgb` (edge-replicating where it leaves the
    image) and resize it; `fit_crop` keeps the square inside instead.

    Returns the (size, size, 3) uint8 crop and the landmarks moved into its pixel coordinates.
    """
    if margin < 0:
        raise ValueError(f"margin must not be negative, got {margin}")
    return cut_square(rgb, landmarks, square_box(landmarks, margin), size, cv2.BORDER_REPLICATE)


def cut_square(
    rgb: np.ndarray,
    landmarks: np.ndarray,
    box: tuple[int, int, int],
    size: int,
    border: int = cv2.BORDER_REPLICATE,
) -> tuple[np.ndarray, np.ndarray]:
    """The square `box` (left, top, side) of `rgb`, padded with `border` where it leaves the
    image, resized to `size`; the landmarks moved into it (a pure shift and scale)."""
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    height, width = rgb.shape[:2]
    left, top, side = box
    right, bottom = left + side, top + side
    inside = rgb[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    if inside.size == 0:  # cannot happen for landmarks on the image; guard against nonsense input
        raise ValueError("face square lies entirely outside the image")
    pads = (max(-top, 0), max(bottom - height, 0), max(-left, 0), max(right - width, 0))
    square = cv2.copyMakeBorder(inside, *pads, border)
    if side > size:
        crop = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)
    elif side < size:
        crop = cv2.resize(square, (size, size), interpolation=cv2.INTER_CUBIC)
    else:
        crop = square.copy()
    scale = size / side
    moved = (landmarks.astype(np.float64) - (left, top)) * scale
    return np.ascontiguousarray(crop, dtype=np.uint8), moved.astype(np.float32)


def reflect_square(
    rgb: np.ndarray, landmarks: np.ndarray, box: tuple[int, int, int], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """`cut_square` with the outside filled by reflection about the edge pixel (OpenCV's
    BORDER_REFLECT_101: the edge row is not doubled, so the fill continues the photo's own
    texture and no row repeats). A blur towards the outside was tried and dropped: upscaled, a
    blurred fill is itself a band of near-identical rows."""
    return cut_square(rgb, landmarks, box, size, cv2.BORDER_REFLECT_101)
