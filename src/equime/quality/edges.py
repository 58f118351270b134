"""Stretched borders: a crop padded by repeating the photo's edge shows bars of identical rows or
columns at the frame's edge, which a recogniser may learn. This finds the longest such run."""

from __future__ import annotations

import numpy as np

# grey levels: rows differing by at most this everywhere are one repeated row (codec noise)
SAME = 3
MAX_RUN = 5  # a frame with a longer run at an edge shows a stretched border


def edge_run(frame: np.ndarray, same: int = SAME) -> int:
    """The most consecutive identical rows or columns (counting the first) at any of the four
    edges of an (H, W[, C]) frame: 1 when the edge row differs from the next one."""
    image = np.asarray(frame, np.int16)
    runs = []
    for lines in (image, image[::-1], np.swapaxes(image, 0, 1), np.swapaxes(image, 0, 1)[::-1]):
        step = np.abs(np.diff(lines, axis=0)).reshape(len(lines) - 1, -1).max(axis=1)
        differ = np.flatnonzero(step > same)
        runs.append(int(differ[0]) + 1 if differ.size else len(lines))
    return max(runs)
