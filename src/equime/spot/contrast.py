"""The MEGC baselines' spotting step, shared by `mdmd` and `lbp-chi2`: a per-frame feature F
(how far frame i is from frames k before and after it), a contrast that keeps its peaks, a
threshold relative to the video's own contrast, and intervals around the frames above it.

- Contrast (Moilanen, Zhao and Pietikainen 2014, "Spotting rapid facial movements from videos
  using appearance-based feature difference analysis", ICPR; He et al. 2020, MEGC 2020
  baseline): C(i) = F(i) - (F(i - m) + F(i + m)) / 2, negative values set to 0.
- Threshold: T = mean(C) + p (max(C) - mean(C)) over the video (p = 0.01 in the MEGC 2020 MDMD
  baseline's reported runs, github.com/HeyingGithub/Baseline-project-for-MEGC2020_spotting
  `MDMD_codes/cmd.m`; 0.15 in the MEGC 2019 LBP baseline's configuration,
  github.com/jingtingEmmaLi/MEGC_spotting `CAS(ME)2_LBP/configuration.m`).
- Intervals: each run of frames above T, widened by `pad` frames each side (the baselines mark
  frames; an expression spans about the feature's window around its peak), runs that touch
  merged; a micro interval longer than the micro limit is dropped (the baseline's
  `delete_long`, `MDMD_results/result_helper.py`).
"""

from __future__ import annotations

import numpy as np

from equime.spot.spotter import Spotted


def contrast(feature: np.ndarray, m: int) -> np.ndarray:
    """C(i) = F(i) - (F(i-m) + F(i+m)) / 2, >= 0; NaN where a neighbour is missing."""
    out = np.full(len(feature), np.nan)
    if len(feature) > 2 * m:
        out[m:-m] = feature[m:-m] - 0.5 * (feature[: -2 * m] + feature[2 * m :])
    return np.clip(out, 0, None)


def relative_threshold(c: np.ndarray, p: float) -> float:
    seen = c[~np.isnan(c)]
    if not len(seen):
        return np.inf
    mean = float(seen.mean())
    return mean + p * (float(seen.max()) - mean)


def runs_to_spots(
    c: np.ndarray, threshold: float, pad: int, kind: str, longest: int | None
) -> list[Spotted]:
    """Intervals of frames above `threshold` (NaN never is), widened by `pad`, merged."""
    above = np.nan_to_num(c, nan=-np.inf) > threshold
    edges = np.diff(np.r_[0, above.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    spans: list[list[int]] = []
    for a, b in zip(starts, ends, strict=True):
        lo, hi = max(0, int(a) - pad), min(len(c) - 1, int(b) + pad)
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = hi
        else:
            spans.append([lo, hi])
    out = []
    for lo, hi in spans:
        if longest is not None and hi - lo + 1 > longest:
            continue
        apex = lo + int(np.nanargmax(np.nan_to_num(c[lo : hi + 1], nan=-np.inf)))
        out.append(Spotted(lo, apex, hi, kind, float(c[apex] / threshold)))
    return out


def per_segment(segment: np.ndarray) -> list[np.ndarray]:
    """Frame indices of each segment (a stretch of usable frames), in order."""
    return [np.flatnonzero(segment == s) for s in np.unique(segment[segment >= 0])]
