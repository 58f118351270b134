"""`lbp-chi2`: LBP feature difference (Moilanen, Zhao and Pietikainen 2014, "Spotting rapid
facial movements from videos using appearance-based feature difference analysis", ICPR), the
MEGC 2019 spotting baseline of Li et al. (github.com/jingtingEmmaLi/MEGC_spotting,
`CAS(ME)2_LBP/configuration.m`, `chiSquareDst_longVid.m` and `detectAvecSeuil_longVid.m`, read
for its parameters).

Per frame of the re-aligned face crop (`spot.track`), 6 x 6 blocks, a histogram of uniform LBP
codes (8 neighbours, radius 3, 59 bins: `skimage.feature.local_binary_pattern` `nri_uniform`,
the authors' `u2`); F(i) = mean of the 12 largest block chi-squared distances between frame i
and the mean histogram of frames i-k and i+k; `spot.contrast` with m = k and p = 0.15.
k = ceil((N - 1) / 2) with N the expression's length in frames: 10 at 30 fps for micro in the
authors' set-up (0.33 s), 1.3 s for macro here.
"""

from __future__ import annotations

import math

import numpy as np
from skimage.feature import local_binary_pattern

from equime.spot.contrast import contrast, relative_threshold, runs_to_spots
from equime.spot.methods import MethodResult, register_spot_method
from equime.spot.spotter import SpotConfig, per_segment
from equime.spot.track import FaceTrack

BLOCKS, BINS, TOP = 6, 59, 12
P = 0.15
N_SECONDS = {"me": 10 / 30, "mae": 1.3}


def lbp_histograms(crops: np.ndarray) -> np.ndarray:
    """(n, 36, 59) normalised block histograms of uniform LBP (8, 3)."""
    size = crops.shape[1] // BLOCKS * BLOCKS
    b = size // BLOCKS
    rows = np.arange(size)[:, None] // b * BLOCKS + np.arange(size)[None, :] // b
    out = np.empty((len(crops), BLOCKS * BLOCKS, BINS))
    for t, crop in enumerate(crops):
        codes = local_binary_pattern(crop[:size, :size], 8, 3, "nri_uniform").astype(int)
        counts = np.bincount((rows * BINS + codes).ravel(), minlength=BLOCKS * BLOCKS * BINS)
        out[t] = counts.reshape(BLOCKS * BLOCKS, BINS) / (b * b)
    return out


def chi2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chi-squared distance per block (last axis: bins)."""
    total = a + b
    return np.where(total > 0, (a - b) ** 2 / np.where(total > 0, total, 1), 0).sum(-1)


@register_spot_method("lbp-chi2")
def spot_lbp(track: FaceTrack, cfg: SpotConfig) -> MethodResult:
    hists = np.zeros((track.n, BLOCKS * BLOCKS, BINS))
    for idx in per_segment(track.segment):
        hists[idx] = lbp_histograms(track.crops[idx])
    spots, curve, level = [], np.full(track.n, np.nan), 1.0
    for kind, seconds in N_SECONDS.items():
        k = max(1, math.ceil((round(seconds * track.fps) - 1) / 2))
        c = np.full(track.n, np.nan)
        for idx in per_segment(track.segment):
            if len(idx) <= 4 * k:
                continue
            h = hists[idx]
            d = chi2(h[k:-k], 0.5 * (h[: -2 * k] + h[2 * k :]))
            feature = np.full(len(idx), np.nan)
            feature[k:-k] = np.sort(d, axis=1)[:, -TOP:].mean(1)
            c[idx] = contrast(feature, k)
        threshold = relative_threshold(c, P)
        spots += runs_to_spots(c, threshold, k, kind)
        if kind == "me":
            curve, level = c, threshold
    return MethodResult(curve, level, sorted(spots, key=lambda s: s.onset))
