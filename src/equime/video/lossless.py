"""Lossless video: H.264 in RGB (libx264rgb, qp 0) in MP4, so decoding gives back the exact frames.

A privacy perturbation is a few 8-bit levels; ordinary H.264 (4:2:0 chroma, CRF 18-23) rounds most
of it away. libx264rgb at qp 0 codes the RGB planes losslessly (no YUV conversion at all), and with
one thread and no B-frames the same frames give the same bytes (see video/mp4.py). FFV1 in
Matroska is lossless too, but Matroska writes a random segment UID, so the bytes vary run to run.
"""

from __future__ import annotations

import io
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from equime.errors import EquimeError


def _encode(target: str | io.BytesIO, frames: np.ndarray, fps: float) -> None:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8 or not len(frames):
        raise EquimeError(f"frames must be (T, H, W, 3) uint8 RGB, got {frames.shape}")
    with av.open(target, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264rgb", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "rgb24"
        stream.thread_count = 1
        stream.options = {"qp": "0", "preset": "medium", "threads": "1", "bf": "0"}
        container.metadata.clear()
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_lossless_mp4(path: str | os.PathLike[str], frames: np.ndarray, fps: float) -> None:
    """Write (T, H, W, 3) uint8 RGB frames losslessly; atomic (temp file + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mp4.tmp", dir=path.parent)
    os.close(fd)
    try:
        _encode(tmp, frames, fps)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def decode_bytes(data: bytes) -> np.ndarray:
    """Every frame of an in-memory video file -> (T, H, W, 3) uint8 RGB."""
    with av.open(io.BytesIO(data)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
