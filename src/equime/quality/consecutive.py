"""PSNR and SSIM between consecutive frames (frame t against t-1), averaged per video.

Both follow scikit-image's reference definitions exactly (PSNR over all channels with data range
255; SSIM with a 7x7 uniform window, sample covariance, K1=0.01, K2=0.03, the border of 3 pixels
left out, colour as the mean over channels), in float64 with OpenCV's separable filters, each
frame's window statistics computed once for its two pairs (faster than scikit-image, see
BENCHMARKS.md; a float64 torch version was slower than both).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from equime.quality.base import QualityOptions, register_metric, sample_indices


def frame_pairs(n_frames: int, every: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (t-1, t) for every kept frame t >= 1."""
    t = sample_indices(n_frames, every)
    t = t[t >= 1]
    return t - 1, t


def psnr_pairs(frames: np.ndarray, every: int = 1, data_range: float = 255.0) -> np.ndarray:
    """PSNR of each consecutive pair in dB (inf where the two frames are identical)."""
    prev, cur = frame_pairs(len(frames), every)
    values = np.empty(len(cur))
    for k, (i, j) in enumerate(zip(prev, cur, strict=True)):
        # OpenCV sums squared uint8 differences exactly (in double), without float copies
        mse = cv2.norm(frames[i], frames[j], cv2.NORM_L2SQR) / frames[i].size
        values[k] = np.inf if mse == 0 else 10 * math.log10(data_range**2 / mse)
    return values


def _window_mean(x: np.ndarray, win: int) -> np.ndarray:
    """Mean over every full win x win window: OpenCV's separable box filter, then the border of
    (win-1)/2 cut away, exactly the region scikit-image averages over."""
    pad = (win - 1) // 2
    return cv2.boxFilter(x, -1, (win, win), borderType=cv2.BORDER_REFLECT)[pad:-pad, pad:-pad]


def ssim_pairs(
    frames: np.ndarray, every: int = 1, data_range: float = 255.0, win: int = 7
) -> np.ndarray:
    """SSIM of each consecutive pair (scikit-image's `structural_similarity` defaults)."""
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    cov_norm = win * win / (win * win - 1)
    prev, cur = frame_pairs(len(frames), every)
    values = np.empty(len(cur))
    cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def stats(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A frame's pixels, window mean and second moment; each frame serves two pairs."""
        if i not in cache:
            x = frames[i].astype(np.float64)
            x = x[..., 0] if x.shape[-1] == 1 else x
            if len(cache) > 2:
                cache.clear()
            cache[i] = (x, _window_mean(x, win), _window_mean(x * x, win))
        return cache[i]

    for k, (i, j) in enumerate(zip(prev, cur, strict=True)):
        x, ux, uxx = stats(i)
        y, uy, uyy = stats(j)
        vx = cov_norm * (uxx - ux * ux)
        vy = cov_norm * (uyy - uy * uy)
        vxy = cov_norm * (_window_mean(x * y, win) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        values[k] = s.mean()
    return values


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
