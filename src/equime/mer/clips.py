"""Clips: from frames on disk to the models' input (B, 1, T, S, S), in two halves.

`gray_resize` (RGB -> grayscale at S x S) is the expensive half, done once per clip and cached
(see mer.cache); `finish` (trim / zero-pad to T frames, z-score per sample) is cheap and done per
batch. `preprocess` chains both in differentiable torch ops, so an attack (issue 9) can
back-propagate from the logits to the RGB pixels.

Z-scoring uses the clip's real frames only, then pads with zeros (= the clip's mean after
z-scoring), so a short clip is not scaled by how much padding it got.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from equime.errors import EquimeError
from equime.video.frames import frame_files, read_image

if TYPE_CHECKING:
    import pandas as pd

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, as OpenCV and Keras use
EPS = 1e-6


def gray_resize(frames: torch.Tensor, size: int = 64) -> torch.Tensor:
    """(B, T, H, W, 3) float in [0, 1] -> (B, T, size, size) grayscale (bilinear, antialiased)."""
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise EquimeError(f"frames must be (B, T, H, W, 3), got {tuple(frames.shape)}")
    weights = torch.tensor(GRAY_WEIGHTS, dtype=frames.dtype, device=frames.device)
    gray = (frames * weights).sum(-1)  # (B, T, H, W)
    if gray.shape[-2:] == (size, size):
        return gray
    return F.interpolate(
        gray, size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )


def finish(
    gray: torch.Tensor, n_frames: int = 96, lengths: torch.Tensor | None = None
) -> torch.Tensor:
    """(B, T, S, S) grayscale -> (B, 1, n_frames, S, S): trim / zero-pad, z-score per sample.

    `lengths` gives each sample's number of real frames when a batch was already padded."""
    b, t = gray.shape[:2]
    gray = gray[:, :n_frames]
    real = torch.full((b,), min(t, n_frames), device=gray.device)
    if lengths is not None:
        real = torch.clamp(lengths.to(gray.device), max=n_frames)
    steps = torch.arange(gray.shape[1], device=gray.device)
    mask = (steps[None, :] < real[:, None]).to(gray.dtype)[:, :, None, None]  # (B, T, 1, 1)
    count = mask.sum(dim=(1, 2, 3)) * gray.shape[2] * gray.shape[3]
    mean = (gray * mask).sum(dim=(1, 2, 3)) / count
    var = (((gray - mean[:, None, None, None]) * mask) ** 2).sum(dim=(1, 2, 3)) / count
    std = torch.sqrt(var + EPS)
    z = (gray - mean[:, None, None, None]) / std[:, None, None, None] * mask
    if z.shape[1] < n_frames:
        z = F.pad(z, (0, 0, 0, 0, 0, n_frames - z.shape[1]))
    return z[:, None]


def preprocess(frames: torch.Tensor, n_frames: int = 96, size: int = 64) -> torch.Tensor:
    """(B, T, H, W, 3) float RGB in [0, 1] -> model input (B, 1, n_frames, size, size).

    Grayscale, resize, trim / zero-pad, z-score per sample; differentiable end to end."""
    return finish(gray_resize(frames, size), n_frames)


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (1, T, H, W, 3) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0)[None]


# ---- reading frames -------------------------------------------------------------------------


def read_frames(
    source: str | Path, indices: list[int] | None = None, files: list[Path] | None = None
) -> np.ndarray:
    """A video file or a folder of frame images -> (T, H, W, 3) uint8 RGB.

    `indices` picks frames by position (0-based) in decoding / natural-sort order; `files` gives
    the frame images directly (datasets whose sheet names frame numbers)."""
    source = Path(source)
    if files is not None or source.is_dir():
        paths = files if files is not None else frame_files(source)
        if indices is not None:
            paths = [paths[i] for i in indices if 0 <= i < len(paths)]
        if not paths:
            raise EquimeError(f"{source}: no frames selected")
        images = [read_image(p) for p in paths]
        shape = images[0].shape
        if any(im.shape != shape for im in images):
            import cv2

            images = [cv2.resize(im, (shape[1], shape[0])) for im in images]
        return np.stack(images)
    if not source.is_file():
        raise EquimeError(f"{source}: video not found")
    return _read_video(source, indices)


def row_frame_files(row: pd.Series) -> list[Path] | None:
    """The frame images of a table row whose source is a frame folder (natural order); None for a
    video file."""
    source = Path(row["source"])
    return frame_files(source) if source.is_dir() else None


def row_frames(row: pd.Series, indices: list[int]) -> np.ndarray:
    """(len(indices), H, W, 3) uint8: the row's frames at these positions (repeats allowed)."""
    unique = sorted(set(indices))
    frames = read_frames(row["source"], unique, files=row_frame_files(row))
    if len(frames) != len(unique):
        raise EquimeError(f"{row['source']}: {len(frames)} of {len(unique)} frames could be read")
    where = {p: k for k, p in enumerate(unique)}
    return frames[[where[i] for i in indices]]


def _read_video(path: Path, indices: list[int] | None) -> np.ndarray:
    from equime.video.mp4 import iter_video

    wanted = None if indices is None else set(indices)
    last = None if indices is None else max(indices, default=-1)
    frames = []
    for i, frame in enumerate(iter_video(path)):
        if wanted is None or i in wanted:
            frames.append(frame)
        if last is not None and i >= last:
            break
    if not frames:
        raise EquimeError(f"{path}: no frames decoded")
    return np.stack(frames)


def count_frames(source: str | Path) -> int:
    """Number of frames of a video file or frame folder (decodes a video with no frame count)."""
    source = Path(source)
    if source.is_dir():
        return len(frame_files(source))
    from equime.video.mp4 import iter_video, video_info

    return video_info(source)[3] or sum(1 for _ in iter_video(source))
