"""Total variation per frame, averaged per video: piq's `total_variation` (norm 'l2', the
default the authors used) on frames scaled to [0, 1]: sqrt(sum of squared horizontal and
vertical neighbour differences over all channels)."""

from __future__ import annotations

import numpy as np

from equime.quality.base import QualityOptions, register_metric, sample_indices

FRAMES_PER_BATCH = 32


def total_variation(frames: np.ndarray) -> np.ndarray:
    """TV of each (H, W, C) uint8 frame in a (T, H, W, C) array, on the [0, 1] scale."""
    import torch

    values = []
    for start in range(0, len(frames), FRAMES_PER_BATCH):
        x = torch.from_numpy(np.ascontiguousarray(frames[start : start + FRAMES_PER_BATCH]))
        x = x.double() / 255.0  # (N, H, W, C): differences along H and W, summed over C too
        dh = (x[:, 1:] - x[:, :-1]).pow(2).sum(dim=(1, 2, 3))
        dw = (x[:, :, 1:] - x[:, :, :-1]).pow(2).sum(dim=(1, 2, 3))
        values.append((dh + dw).sqrt().numpy())
    return np.concatenate(values) if values else np.zeros(0)


class TV:
    name = "tv"

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = total_variation(frames[sample_indices(len(frames), options.every)])
        return {"tv": float(values.mean())}


@register_metric("tv")
def _tv(options: QualityOptions) -> TV:
    return TV()
