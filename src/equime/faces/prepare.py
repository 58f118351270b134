"""Source photo -> the square face-centred crop (with landmarks) every generator starts from."""

from __future__ import annotations

import cv2
import numpy as np

from equime.errors import InputRejected
from equime.faces.face import Face
from equime.faces.images import load_rgb
from equime.faces.landmarker import Landmarker
from equime.faces.sources import SourceImage


def prepare_face(
    src: SourceImage,
    landmarker: Landmarker,
    size: int = 256,
    margin: float = 0.6,
    min_face: int = 64,
) -> Face:
    """Detect the largest face in `src`; crop it to a `size`-pixel square with `margin` around it.

    Raises InputRejected when the photo is unreadable, has no face, or its face is smaller than
    `min_face` pixels (too little detail to animate credibly).
    """
    path = str(src.path)
    rgb = load_rgb(src.path)
    detections = landmarker.detect(rgb)
    if not detections:
        raise InputRejected(path, "no face found")
    face = detections[0]
    notes: list[str] = []
    if len(detections) > 1:
        notes.append(f"{len(detections)} faces found; used the largest")
    if face.size < min_face:
        raise InputRejected(
            path, f"face is {round(face.size)}px, below the minimum of {min_face}px"
        )
    crop, landmarks = crop_square(rgb, face.landmarks, size=size, margin=margin)
    return Face(
        face_id=src.face_id,
        image=crop,
        landmarks=landmarks,
        source_path=src.shown_path,
        source_sha256=src.sha256,
        notes=tuple(notes),
    )


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
    """Cut the face square out of `rgb` (edge-replicating where it leaves the image) and resize it.

    Returns the (size, size, 3) uint8 crop and the landmarks moved into its pixel coordinates.
    """
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    if margin < 0:
        raise ValueError(f"margin must not be negative, got {margin}")
    height, width = rgb.shape[:2]
    left, top, side = square_box(landmarks, margin)
    right, bottom = left + side, top + side
    inside = rgb[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    if inside.size == 0:  # cannot happen for landmarks on the image; guard against nonsense input
        raise ValueError("face square lies entirely outside the image")
    square = cv2.copyMakeBorder(
        inside,
        max(-top, 0),
        max(bottom - height, 0),
        max(-left, 0),
        max(right - width, 0),
        cv2.BORDER_REPLICATE,
    )
    if side > size:
        crop = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)
    elif side < size:
        crop = cv2.resize(square, (size, size), interpolation=cv2.INTER_CUBIC)
    else:
        crop = square.copy()
    scale = size / side
    moved = (landmarks.astype(np.float64) - (left, top)) * scale
    return np.ascontiguousarray(crop, dtype=np.uint8), moved.astype(np.float32)
