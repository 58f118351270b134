"""H.264 MP4 in and out with PyAV: single-threaded x264 so the same frames give the same bytes."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from equime.errors import EquimeError


def _check_frames(frames: np.ndarray, lossless: bool = False) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise EquimeError(
            f"frames must be (T, H, W, 3) uint8 RGB, got {frames.shape} {frames.dtype}"
        )
    t, h, w, _ = frames.shape
    if t == 0:
        raise EquimeError("no frames to encode")
    if not lossless and (h % 2 or w % 2):
        raise EquimeError(f"frame size {w}x{h} must be even in both directions for yuv420p")
    return frames


def _x264_cpu() -> dict[str, str]:
    """Keep x264 off its AVX-512 kernels, which read uninitialised memory: the same frames then
    encoded to other bytes depending on what the process had encoded before (tests/test_mp4.py
    shows it). Capped at AVX2 only where the CPU has AVX-512, so AVX2 is there too; elsewhere x264
    detects the CPU itself."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return {}
    return {"x264-params": "asm=AVX2"} if "avx512f" in flags else {}


_X264_CPU = _x264_cpu()


def _to_yuv420p(image: np.ndarray) -> np.ndarray:
    """BT.601 limited-range 4:2:0, as decoders assume for untagged H.264 (fixed, explicit maths)."""
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2YUV_I420)


def _encode(
    target: str | io.BytesIO,
    frames: np.ndarray,
    fps: float,
    crf: int,
    preset: str,
    lossless: bool = False,
) -> None:
    """H.264 in 4:2:0 at `crf`, or `lossless`: RGB planes at qp 0 (libx264rgb, no YUV rounding),
    for perturbations of a few levels that 4:2:0 at normal quality would wash out."""
    from fractions import Fraction

    frames = _check_frames(frames, lossless)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(target, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264rgb" if lossless else "libx264", rate=rate)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "rgb24" if lossless else "yuv420p"
        stream.thread_count = 1  # x264 with one thread is bit-exact run to run
        quality = {"qp": "0", "bf": "0"} if lossless else {"crf": str(crf)}
        stream.options = {**quality, "preset": preset, "threads": "1", **_X264_CPU}
        container.metadata.clear()  # no encoder/creation-time tags that could vary
        for index, image in enumerate(frames):
            pixels = np.ascontiguousarray(image) if lossless else _to_yuv420p(image)
            frame = av.VideoFrame.from_ndarray(pixels, format=stream.pix_fmt)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def encode_mp4_bytes(
    frames: np.ndarray,
    fps: float,
    crf: int = 18,
    preset: str = "medium",
    lossless: bool = False,
) -> bytes:
    """The MP4 file for `frames` as bytes (for hashing and benchmarks; nothing touches disk)."""
    buffer = io.BytesIO()
    _encode(buffer, frames, fps, crf, preset, lossless)
    return buffer.getvalue()


def write_mp4(
    path: str | os.PathLike[str],
    frames: np.ndarray,
    fps: float,
    crf: int = 18,
    preset: str = "medium",
    lossless: bool = False,
) -> None:
    """Encode (T, H, W, 3) uint8 RGB frames to H.264 (see `_encode`); atomic (temp file +
    os.replace)."""
    path = Path(path)
    _check_frames(frames, lossless)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mp4.tmp", dir=path.parent)
    os.close(fd)
    try:
        _encode(tmp, frames, fps, crf, preset, lossless)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_READ_ERRORS = (av.FFmpegError, OSError, IndexError, ValueError)


def iter_video(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """Decode frames one at a time as (H, W, 3) uint8 RGB; a bad file is one EquimeError line."""
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
    except _READ_ERRORS as exc:
        raise EquimeError(f"{path}: cannot read video ({exc})") from exc


def video_info(path: str | os.PathLike[str]) -> tuple[int, int, float | None, int]:
    """(width, height, frames per second or None, frame count or 0 when unrecorded), from the
    container alone: nothing is decoded."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            context = stream.codec_context
            return context.width, context.height, float(rate) if rate else None, stream.frames
    except _READ_ERRORS as exc:
        raise EquimeError(f"{path}: cannot read video ({exc})") from exc


def read_mp4(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode every frame of an MP4 to (T, H, W, 3) uint8 RGB."""
    frames = list(iter_video(path))
    if not frames:
        raise EquimeError(f"{path}: the video has no frames")
    return np.stack(frames)
