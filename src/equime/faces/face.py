"""A prepared face: the square crop every generator starts from, with its landmarks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Face:
    face_id: str
    image: np.ndarray  # (S, S, 3) uint8 RGB, square crop resized to the output size
    landmarks: np.ndarray  # (478, 2) float32, MediaPipe Face Mesh order, pixel (x, y) in `image`
    source_path: str = ""
    source_sha256: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        return int(self.image.shape[0])
