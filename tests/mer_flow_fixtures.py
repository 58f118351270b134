"""Builders for the flow / preprocessing tests: one demo person's photo folder, and the same
synthetic facial motion rendered at any frame rate as a frame folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np


def person_folder(folder: Path, person: str) -> Path:
    """A photo folder holding only one demo person ('astronaut' or 'grace')."""
    from equime.faces.sources import demo_sources

    folder.mkdir(parents=True, exist_ok=True)
    for source in demo_sources():
        if source.face_id.startswith(person):
            shutil.copy(source.path, folder / Path(source.path).name)
    return folder


def demo_face(size: int = 256) -> np.ndarray:
    """The astronaut demo photo, face-centred square, RGB uint8."""
    from equime.faces.images import load_rgb
    from equime.faces.sources import demo_sources

    image = load_rgb(next(s for s in demo_sources() if s.face_id.startswith("astronaut")).path)
    crop = image[0:300, 100:400]  # her face fills the crop
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def render_motion(
    folder: Path,
    fps: float,
    duration: float = 0.6,
    onset: float = 0.12,
    apex: float = 0.24,
    offset: float = 0.48,
    amplitude: float = 4.0,
) -> dict[str, object]:
    """The same facial motion (the lower face pushed up by a smooth bump, raised-cosine in time
    from `onset` to `offset` seconds, peak at `apex`) written as PNG frames at `fps`; returns a
    clip-table row (positions in frames, apex_source 'midpoint': the apex must be estimated)."""
    face = demo_face()
    h, w = face.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    bump = np.exp(-(((xs - 0.5 * w) / (0.22 * w)) ** 2 + ((ys - 0.72 * h) / (0.12 * h)) ** 2))
    folder.mkdir(parents=True, exist_ok=True)
    n = round(duration * fps)
    for k in range(n):
        t = k / fps
        if onset <= t <= apex:
            a = 0.5 - 0.5 * np.cos(np.pi * (t - onset) / (apex - onset))
        elif apex < t <= offset:
            a = 0.5 + 0.5 * np.cos(np.pi * (t - apex) / (offset - apex))
        else:
            a = 0.0
        map_y = (ys + amplitude * a * bump).astype(np.float32)  # content moves up
        frame = cv2.remap(face, xs, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        cv2.imwrite(str(folder / f"f{k:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return {
        "dataset": "folder",
        "subject": "astronaut",
        "clip": folder.name,
        "source": str(folder),
        "n_frames": n,
        "onset": round(onset * fps),
        "apex": round((onset + offset) / 2 * fps),  # a loader's midpoint, not the peak
        "offset": round(offset * fps),
        "fps": float(fps),
        "apex_source": "midpoint",
        "emotion": "happiness",
    }
