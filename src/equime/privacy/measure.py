"""What the report measures: recogniser scores on frames, imperceptibility, and the defences.

Scores are computed from decoded frames exactly as a recogniser reads a video, so each
recogniser in a transfer test sees the protected video its own way: a `frames` recogniser
through its clip sampling and `mer.clips.preprocess` (grey, resize, z-score) in float32; a
`flow` recogniser (STSTNet and the like, mer.flow) through onset -> apex optical flow on the
aligned face crop, computed from the decoded (protected, re-encoded or blurred) frames with the
same steps as `mer.flow.prepare_flow` (which reads from disk) on frames held in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from equime.mer.clips import preprocess
from equime.mer.sampling import sample_indices


@dataclass
class Recogniser:
    """A loaded checkpoint and how it reads a video."""

    name: str
    path: Path
    model: torch.nn.Module
    config: dict[str, Any]
    role: str  # 'attacked' or 'transfer'

    @property
    def classes(self) -> list[str]:
        return list(self.config["classes"])

    @property
    def n_frames(self) -> int:
        return int(self.config["n_frames"])

    @property
    def size(self) -> int:
        return int(self.config["size"])

    @property
    def sampling(self) -> str:
        return str(self.config.get("sampling") or "first")

    @property
    def input(self) -> str:
        """What the model reads: `frames` (grey clips; can be attacked) or `flow` (onset ->
        apex optical flow; scored on the decoded videos, a transfer recogniser only)."""
        return str(self.config.get("input") or "frames")


def clip_indices(rec: Recogniser, row: pd.Series, total: int) -> list[int]:
    """The frame positions `rec` reads from a video of `total` frames (its sampling)."""
    row = row.copy()
    row["n_frames"] = total
    return sample_indices(row, rec.sampling, rec.n_frames)


def flow_input(rec: Recogniser, video: np.ndarray, row: pd.Series) -> np.ndarray:
    """(3, S, S) u, v, strain of one decoded video, as `mer.flow.prepare_flow` makes it: the
    onset frame's alignment for both frames, Farneback flow onset -> apex with head motion out;
    the annotated apex, or the candidate with the largest flow where the row has none."""
    from equime.mer.flow import apex_candidates, apex_is_annotated, dense_flow, flow_channels
    from equime.mer.inputs import preprocess_from_config
    from equime.mer.preprocess import Aligner, onset_position, warp
    from equime.verify.drift import STABLE

    prep = preprocess_from_config(rec.config)
    total = len(video)
    onset = min(onset_position(row), total - 1)
    if apex_is_annotated(row):
        candidates = [min(int(row["apex"]), total - 1)]
    else:
        candidates = apex_candidates(row, total)
    matrix, _, landmarks = Aligner.matrix(video[onset], prep.crop)
    reference = warp(video[onset : onset + 1], matrix, prep.crop)[0]
    stable = None if landmarks is None else landmarks[list(STABLE)]
    best: tuple[float, np.ndarray | None] = (-1.0, None)
    for position in candidates:
        frame = warp(video[position : position + 1], matrix, prep.crop)[0]
        field = dense_flow(reference, frame, stable)
        magnitude = float(np.linalg.norm(field, axis=-1).mean())
        if magnitude > best[0]:
            best = (magnitude, field)
    assert best[1] is not None
    return flow_channels(best[1], rec.size)


@torch.no_grad()
def class_probabilities(
    rec: Recogniser, videos: list[np.ndarray], rows: list[pd.Series], device: torch.device
) -> np.ndarray:
    """Softmax probabilities (N, classes) of `rec` for full decoded videos (batched by shape)."""
    if rec.input == "flow":
        rec.model.eval()
        x = np.stack([flow_input(rec, v, r) for v, r in zip(videos, rows, strict=True)])
        logits = rec.model(torch.from_numpy(x).to(device))
        return torch.softmax(logits.double(), 1).cpu().numpy()
    clips = [v[clip_indices(rec, r, len(v))] for v, r in zip(videos, rows, strict=True)]
    out = np.zeros((len(clips), len(rec.classes)), np.float64)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, clip in enumerate(clips):
        groups.setdefault(clip.shape, []).append(i)
    rec.model.eval()
    for members in groups.values():
        x = torch.from_numpy(np.stack([clips[i] for i in members])).to(device).float() / 255.0
        logits = rec.model(preprocess(x, rec.n_frames, rec.size))
        out[members] = torch.softmax(logits.double(), 1).cpu().numpy()
    return out


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels (inf when identical)."""
    mse = float(np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """Mean SSIM over frames (scikit-image, colour, 8-bit range); 1 when identical."""
    from skimage.metrics import structural_similarity

    side = min(reference.shape[1:3])
    window = min(7, side if side % 2 else side - 1)
    values = [
        structural_similarity(a, b, channel_axis=-1, data_range=255, win_size=window)
        for a, b in zip(reference, test, strict=True)
    ]
    return float(np.mean(values))


def h264_round_trip(frames: np.ndarray, fps: float, crf: int) -> np.ndarray:
    """The frames after an ordinary lossy H.264 encode (4:2:0, CRF `crf`) and decode."""
    from equime.video.lossless import decode_bytes
    from equime.video.mp4 import encode_mp4_bytes

    return decode_bytes(encode_mp4_bytes(frames, fps, crf=int(crf)))


def gaussian_blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    """Every frame blurred (Gaussian, sigma in the video's pixels, reflected border), kept as
    8-bit frames: the cheapest defence a recogniser's owner can put in front of it."""
    import cv2

    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])


# What a recogniser's owner may do to every video before reading it; the argument is the
# defence's setting (CRF, sigma). A defence named d adds the conditions original_d, protected_d.
DEFENCES: dict[str, Callable[[np.ndarray, float, float], np.ndarray]] = {
    "h264": lambda frames, fps, crf: h264_round_trip(frames, fps, int(crf)),
    "blur": lambda frames, fps, sigma: gaussian_blur(frames, sigma),
}
