"""Total variation per frame, averaged per video: piq's `total_variation` (norm 'l2', the
default the authors used) on frames scaled to [0, 1]: sqrt(sum of squared horizontal and
vertical neighbour differences over all channels)."""

from __future__ import annotations

import numpy as np

from equime.quality.base import QualityOptions, register_metric, sample_indices


def total_variation(frames: np.ndarray) -> np.ndarray:
    """TV of each (H, W, C) uint8 frame in a (T, H, W, C) array, on the [0, 1] scale; the
    squared differences are summed exactly in integers, then scaled."""
    values = np.empty(len(frames))
    for k, frame in enumerate(frames):
        x = frame.astype(np.int32)
        dh, dw = x[1:] - x[:-1], x[:, 1:] - x[:, :-1]
        values[k] = np.sqrt(float((dh * dh).sum() + (dw * dw).sum())) / 255.0
    return values


class TV:
    name = "tv"

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = total_variation(frames[sample_indices(len(frames), options.every)])
        return {"tv": float(values.mean())}


@register_metric("tv")
def _tv(options: QualityOptions) -> TV:
    return TV()
