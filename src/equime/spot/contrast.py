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
- Intervals: the baselines mark frames; here each run of frames above T gives one interval of
  the method's expression length (0.4 s micro, 1.3 s macro) centred on the run's peak, and of
  two that overlap the higher peak stays (as the baseline's `nms`,
  `MDMD_results/result_helper.py`).
"""

from __future__ import annotations

import numpy as np

from equime.spot.spotter import Spotted
from equime.spot.usable import runs


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


def runs_to_spots(c: np.ndarray, threshold: float, half: int, kind: str) -> list[Spotted]:
    """One interval of 2 `half` + 1 frames around the peak of each run of frames above
    `threshold` (NaN never is); of two that overlap the higher peak stays."""
    found = []
    for a, b in runs(np.nan_to_num(c, nan=-np.inf) > threshold):
        apex = int(a) + int(np.argmax(c[a : b + 1]))
        lo, hi = max(0, apex - half), min(len(c) - 1, apex + half)
        found.append(Spotted(lo, apex, hi, kind, float(c[apex] / threshold)))
    kept: list[Spotted] = []
    for s in sorted(found, key=lambda s: -s.score):
        if all(s.offset < k.onset or s.onset > k.offset for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.onset)
