"""PSNR and SSIM between consecutive frames (frame t against t-1), averaged per video.

Both follow scikit-image's reference definitions exactly (PSNR over all channels with data range
255; SSIM with a 7x7 uniform window, sample covariance, K1=0.01, K2=0.03, the border of 3 pixels
left out, colour as the mean over channels), computed in float64 torch on batches of frame pairs.
"""

from __future__ import annotations

import math

import numpy as np

from equime.quality.base import QualityOptions, register_metric, sample_indices

PAIRS_PER_BATCH = 16  # bounds memory: 16 pairs of 256x256x3 float64 are ~50 MB per buffer


def frame_pairs(n_frames: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (t-1, t) for every kept frame t >= 1."""
    t = sample_indices(n_frames, every)
    t = t[t >= 1]
    return t - 1, t


def _batches(frames: np.ndarray, every: int):
    import torch

    prev, cur = frame_pairs(len(frames), every)
    for start in range(0, len(cur), PAIRS_PER_BATCH):
        a = frames[prev[start : start + PAIRS_PER_BATCH]]
        b = frames[cur[start : start + PAIRS_PER_BATCH]]
        # (N, H, W, C) -> (N, C, H, W) float64
        yield (
            torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).double(),
            torch.from_numpy(np.ascontiguousarray(b)).permute(0, 3, 1, 2).double(),
        )


def psnr_pairs(frames: np.ndarray, every: int = 1, data_range: float = 255.0) -> np.ndarray:
    """PSNR of each consecutive pair in dB (inf where the two frames are identical)."""
    values = []
    for a, b in _batches(frames, every):
        mse = ((a - b) ** 2).mean(dim=(1, 2, 3))
        values.append((10 * (math.log10(data_range**2) - mse.log10())).numpy())
    return np.concatenate(values) if values else np.zeros(0)


def ssim_pairs(
    frames: np.ndarray, every: int = 1, data_range: float = 255.0, win: int = 7
) -> np.ndarray:
    """SSIM of each consecutive pair (scikit-image's `structural_similarity` defaults)."""
    import torch.nn.functional as F

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    cov_norm = win * win / (win * win - 1)
    values = []
    for a, b in _batches(frames, every):
        # average pooling without padding = uniform filter evaluated away from the border,
        # which is exactly the region scikit-image averages over
        def mean(x):
            return F.avg_pool2d(x, win, stride=1)

        ux, uy = mean(a), mean(b)
        vx = cov_norm * (mean(a * a) - ux * ux)
        vy = cov_norm * (mean(b * b) - uy * uy)
        vxy = cov_norm * (mean(a * b) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        values.append(s.mean(dim=(1, 2, 3)).numpy())
    return np.concatenate(values) if values else np.zeros(0)


class PSNR:
    name = "psnr"

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = psnr_pairs(frames, options.every)
        finite = values[np.isfinite(values)]
        # identical neighbours have infinite PSNR: they are counted, not averaged in
        return {
            "psnr": float(finite.mean()) if len(finite) else float("nan"),
            "psnr_identical_pairs": int(len(values) - len(finite)),
        }


class SSIM:
    name = "ssim"

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = ssim_pairs(frames, options.every)
        return {"ssim": float(values.mean()) if len(values) else float("nan")}


@register_metric("psnr")
def _psnr(options: QualityOptions) -> PSNR:
    return PSNR()


@register_metric("ssim")
def _ssim(options: QualityOptions) -> SSIM:
    return SSIM()
