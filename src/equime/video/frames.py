"""Clips stored as folders of frame images (CASME II `img1.jpg ...`, SAMM, SMIC): which files are
frames, in which order, and how one is read. Every stage that reads such folders uses this."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from equime.errors import EquimeError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def natural_key(text: str) -> list:
    """img2 before img10: frame files are rarely zero-padded, so numbers compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def frame_files(folder: str | Path) -> list[Path]:
    """The image files of a frame folder in natural order (img1, img2, ..., img10)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EquimeError(f"{folder}: frame folder not found")
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if not files:
        raise EquimeError(f"{folder}: no image frames ({', '.join(IMAGE_SUFFIXES)})")
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: Path) -> np.ndarray:
    """One frame as (H, W, 3) uint8 RGB."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise EquimeError(f"{path}: cannot read image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
