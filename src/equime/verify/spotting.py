"""Spotting: onset, apex and offset frames estimated from the AU curves alone (no ground truth).

Method: the AUs that rose anywhere after the lead-in (peak above `z_threshold` noise SDs and the
read-out's least rise, `AUCurves.min_rise`) are summed in noise units, S(t) = sum_AU max(0,
z_AU(t)). The apex is the frame where S peaks; onset is the last frame before the apex where S is
at or below `edge_level` times its peak, offset the first such frame after it (the same
conventions as the ground truth: onset = last neutral frame, offset = first neutral frame again).
A clip where no AU rose has no expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equime.verify.config import VerifyConfig
from equime.verify.curves import AUCurves


@dataclass(frozen=True)
class Spot:
    found: bool  # False: no AU rose, the frames below are where S peaks anyway
    onset: int
    apex: int
    offset: int
    rising: tuple[int, ...]  # AUs that rose somewhere after the lead-in
    signal: np.ndarray  # S(t) per read frame


def rising_aus(curves: AUCurves, cfg: VerifyConfig) -> tuple[int, ...]:
    after = slice(curves.lead_in, None)
    values = curves.values.iloc[after]
    peak_z = (values / curves.noise).max()
    peak = values.max()
    ok = (peak_z >= cfg.z_threshold) & (peak >= curves.min_rise)
    return tuple(int(a) for a in ok[ok].index)


def spot(curves: AUCurves, cfg: VerifyConfig) -> Spot:
    rising = rising_aus(curves, cfg)
    z = curves.z().clip(lower=0.0)
    signal = z[list(rising)].sum(axis=1).to_numpy() if rising else z.sum(axis=1).to_numpy()
    frames = curves.frames
    search = signal.copy()
    search[: curves.lead_in] = -np.inf  # the baseline is neutral by definition
    i = int(np.argmax(search)) if len(search) > curves.lead_in else int(np.argmax(signal))
    level = cfg.edge_level * signal[i]
    before = np.flatnonzero(signal[:i] <= level)
    after = np.flatnonzero(signal[i + 1 :] <= level)
    onset = int(frames[before[-1]]) if len(before) else int(frames[0])
    offset = int(frames[i + 1 + after[0]]) if len(after) else int(frames[-1])
    return Spot(bool(rising), onset, int(frames[i]), offset, rising, signal)
