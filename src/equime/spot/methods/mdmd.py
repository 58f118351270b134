"""`mdmd`: main directional maximal difference (Wang, Wu, Xu, Wang and Fu 2017, "Main
directional maximal difference analysis for spotting facial movements from long-term videos",
Neurocomputing 230), the MEGC 2020 spotting baseline of He, Wang, Wu, Chen and Fu 2020
("Spotting macro- and micro-expression intervals in long video sequences", FG 2020;
github.com/HeyingGithub/Baseline-project-for-MEGC2020_spotting, `MDMD_codes/MDMD.m` and
`cmd.m`, read for its parameters).

Per frame i of the re-aligned face crop (`spot.track`), split into 6 x 6 blocks: optical flow
from frame i-k to i and from i-k to i+k; in each block, the main direction (the quadrant of the
first flow that most pixels fall in), the difference of the two flows' magnitudes there, the
mean of its top third; F(i) = mean of the top third of blocks. Then `spot.contrast` with m =
k - 1 and p = 0.01. k from the frame rate as the authors set it for 30 and 200 fps: 0.4 s for
micro (12 frames at 30 fps, 80 at 200), 1.3 s for macro (39, 260). Farneback flow here where
the authors used RLOF.
"""

from __future__ import annotations

import cv2
import numpy as np

from equime.spot.contrast import contrast, relative_threshold, runs_to_spots
from equime.spot.methods import MethodResult, register_spot_method
from equime.spot.spotter import SpotConfig, per_segment
from equime.spot.track import FaceTrack

BLOCKS = 6
P = 0.01
K_SECONDS = {"me": 0.4, "mae": 1.3}
_FLOW = dict(pyr_scale=0.5, levels=2, winsize=7, iterations=2, poly_n=5, poly_sigma=1.1)


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, flags=0, **_FLOW)


def mdmd_feature(head: np.ndarray, current: np.ndarray, tail: np.ndarray) -> float:
    f1, f2 = _flow(head, current), _flow(head, tail)
    size = current.shape[0] // BLOCKS * BLOCKS
    mag1 = np.hypot(f1[..., 0], f1[..., 1])[:size, :size]
    mag2 = np.hypot(f2[..., 0], f2[..., 1])[:size, :size]
    quadrant = (np.arctan2(f1[..., 1], f1[..., 0])[:size, :size] // (np.pi / 2)).astype(int) % 4
    b = size // BLOCKS

    def blocks(x: np.ndarray) -> np.ndarray:
        return x.reshape(BLOCKS, b, BLOCKS, b).swapaxes(1, 2).reshape(BLOCKS * BLOCKS, b * b)

    diff, quad = blocks(mag1 - mag2), blocks(quadrant)
    per_block = []
    for d, q in zip(diff, quad, strict=True):
        main = np.bincount(q, minlength=4).argmax()
        r = np.sort(d[q == main])[::-1]
        per_block.append(r[: max(1, round(len(r) / 3))].mean())
    top = np.sort(per_block)[::-1][: round(BLOCKS * BLOCKS / 3)]
    return float(top.mean())


@register_spot_method("mdmd")
def spot_mdmd(track: FaceTrack, cfg: SpotConfig) -> MethodResult:
    spots, curve, level = [], np.full(track.n, np.nan), 1.0
    for kind, seconds in K_SECONDS.items():
        k = max(2, round(seconds * track.fps))
        c = np.full(track.n, np.nan)
        for idx in per_segment(track.segment):
            if len(idx) <= 2 * k + 2 * (k - 1):
                continue
            crops = track.crops[idx]
            feature = np.full(len(idx), np.nan)
            for i in range(k, len(idx) - k):
                feature[i] = mdmd_feature(crops[i - k], crops[i], crops[i + k])
            c[idx] = contrast(feature, k - 1)
        threshold = relative_threshold(c, P)
        spots += runs_to_spots(c, threshold, k // 2, kind)
        if kind == "me":
            curve, level = c, threshold
    return MethodResult(curve, level, sorted(spots, key=lambda s: s.onset))
