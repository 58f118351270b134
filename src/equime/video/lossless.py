"""Lossless video: H.264 in RGB (libx264rgb, qp 0) in MP4, so decoding gives back the exact frames.

A privacy perturbation is a few 8-bit levels; ordinary H.264 (4:2:0 chroma, CRF 18-23) rounds most
of it away. The encoder is video/mp4.py's (`lossless=True`), with its byte-stability settings.
FFV1 in Matroska is lossless too, but Matroska writes a random segment UID, so the bytes vary run
to run.
"""

from __future__ import annotations

import io
import os

import av
import numpy as np

from equime.video.mp4 import write_mp4


def write_lossless_mp4(path: str | os.PathLike[str], frames: np.ndarray, fps: float) -> None:
    """Write (T, H, W, 3) uint8 RGB frames losslessly; atomic (temp file + os.replace)."""
    write_mp4(path, frames, fps, lossless=True)


def decode_bytes(data: bytes) -> np.ndarray:
    """Every frame of an in-memory video file -> (T, H, W, 3) uint8 RGB."""
    with av.open(io.BytesIO(data)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
