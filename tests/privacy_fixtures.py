"""Generated videos a tiny recogniser can learn in seconds: each subject is a smooth random face-
like texture, and the class is a brief bright swelling (onset, apex, offset like a micro-
expression) at a class-specific place: 'happiness' low (mouth), 'sadness' in the middle,
'surprise' high (brows). Written as real H.264 MP4s with a labels.csv (a `folder` dataset)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from equime.video.mp4 import write_mp4

CLASSES = ("happiness", "sadness", "surprise")
ROWS = {"happiness": 0.72, "sadness": 0.5, "surprise": 0.28}  # blob height, fraction of size


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    coarse = rng.uniform(70, 180, (6, 6, 3))
    ys = np.linspace(0, 5, size)
    y0 = np.floor(ys).astype(int).clip(0, 4)
    fy = ys - y0
    rows = coarse[y0] * (1 - fy)[:, None, None] + coarse[y0 + 1] * fy[:, None, None]
    out = rows[:, y0] * (1 - fy)[None, :, None] + rows[:, y0 + 1] * fy[None, :, None]
    return out


def make_video(
    rng: np.random.Generator, base: np.ndarray, label: str, frames: int, amplitude: float
) -> np.ndarray:
    size = base.shape[0]
    yy, xx = np.mgrid[0:size, 0:size] / size
    cy = ROWS[label] + rng.uniform(-0.04, 0.04)
    cx = 0.5 + rng.uniform(-0.08, 0.08)
    blob = np.exp(-((yy - cy) ** 2 / 0.006 + (xx - cx) ** 2 / 0.03))
    onset = int(rng.integers(2, 5))
    apex = onset + frames // 3
    t = np.arange(frames)
    curve = np.where(
        t < onset, 0.0, np.sin(np.pi * np.clip((t - onset) / (2 * (apex - onset)), 0, 1))
    )
    video = base[None] + amplitude * curve[:, None, None, None] * blob[None, :, :, None]
    video = video + rng.normal(0, 2.0, video.shape)
    return np.clip(np.rint(video), 0, 255).astype(np.uint8)


def make_dataset(
    root: Path,
    subjects: int = 4,
    per_class: int = 3,
    frames: int = 17,
    size: int = 32,
    amplitude: float = 40.0,
    seed: int = 0,
) -> Path:
    """`subjects` x 3 classes x `per_class` videos under root/<label>/, listed in labels.csv."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(subjects):
        base = _texture(rng, size)
        for label in CLASSES:
            for k in range(per_class):
                path = Path(label) / f"s{s}_{k}.mp4"
                write_mp4(root / path, make_video(rng, base, label, frames, amplitude), fps=24)
                rows.append({"path": str(path), "label": label, "subject": f"s{s}"})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    return root
