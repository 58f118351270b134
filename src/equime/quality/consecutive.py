"""PSNR and SSIM between consecutive frames (frame t against t-1), averaged per video.

Identical consecutive frames (MSE 0) have no finite PSNR. The `paper` definition does what the
authors' script did: PSNR 100 dB and SSIM 1.0 for such a pair, averaged in. The `exact`
definition leaves such pairs out of PSNR and SSIM alike; a clip made only of identical pairs
then has no value (NaN), never a silent drop. Both count them (`identical_pairs`).

The authors' `compute_psnr` also subtracted and squared uint8 arrays, so differences wrap
modulo 256; `psnr_uint8` reproduces that arithmetic exactly so their published rows can be
matched and the effect measured (it is exact while every |difference| < 16).

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

from equime.quality.base import (
    PAPER_IDENTICAL_PSNR,
    QualityOptions,
    register_metric,
    sample_indices,
)


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


def psnr_uint8_pairs(frames: np.ndarray, every: int = 1) -> np.ndarray:
    """The authors' `compute_psnr` on uint8 frames, literally: `np.mean((a - b) ** 2)` with
    uint8 arithmetic (difference and square both modulo 256), 100 where that mean is 0."""
    prev, cur = frame_pairs(len(frames), every)
    values = np.empty(len(cur))
    for k, (i, j) in enumerate(zip(prev, cur, strict=True)):
        with np.errstate(over="ignore"):
            wrapped = (frames[i].astype(np.uint8) - frames[j].astype(np.uint8)) ** 2
        mse = float(np.mean(wrapped))
        values[k] = PAPER_IDENTICAL_PSNR if mse == 0 else 20 * math.log10(255.0 / math.sqrt(mse))
    return values


def identical_pairs(frames: np.ndarray, every: int = 1) -> np.ndarray:
    """True for each consecutive pair whose two frames are equal."""
    prev, cur = frame_pairs(len(frames), every)
    return np.array([np.array_equal(frames[i], frames[j]) for i, j in zip(prev, cur, strict=True)])


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


class PSNR:
    name = "psnr"

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = psnr_pairs(frames, options.every)
        same = ~np.isfinite(values)
        row = {"pairs": len(values), "identical_pairs": int(same.sum())}
        if options.paper:
            row["psnr"] = _mean(np.where(same, PAPER_IDENTICAL_PSNR, values))
            row["psnr_uint8"] = _mean(psnr_uint8_pairs(frames, options.every))
        else:
            row["psnr"] = _mean(values[~same])
        return row


class SSIM:
    name = "ssim"

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = ssim_pairs(frames, options.every)
        if not options.paper:  # scikit-image gives 1.0 for an identical pair; exact leaves it out
            values = values[~identical_pairs(frames, options.every)]
        return {"ssim": _mean(values)}


@register_metric("psnr")
def _psnr(options: QualityOptions) -> PSNR:
    return PSNR()


@register_metric("ssim")
def _ssim(options: QualityOptions) -> SSIM:
    return SSIM()
