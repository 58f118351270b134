"""The default spotter (`motion`): peaks of the face-motion signal (`spot.motion`) at the scale
of each expression type, intervals typed by duration; thresholds from each video's own signal.

1. Rise: the signal minus its past baseline, the `baseline_q` quantile of the last `baseline_s`
   seconds (a causal floor: a change is measured against the still face before it, so an
   expression that stays, a smile held to the end, is a rise at its onset rather than the new
   baseline), in units of its noise (1.4826 x the median absolute deviation of the rise: robust
   to the expressions themselves, and to a video's own noise, head motion and talking).
2. Peaks at two scales (`scipy.signal.find_peaks`, the series padded with its floor so that a
   rise that lasts to the end is a peak): micro on the signal lightly smoothed (`me_smooth_s`),
   macro on it smoothed over `mae_smooth_s`; a peak counts when it rises `z_threshold` noise
   units and `min_rise` IOD above the baseline (the IOD floor keeps a very still video's tiny
   wobbles, e.g. skin pulled near a blinking eye, from counting).
3. Interval: onset = the last frame before the apex at or below `edge_level` of the rise (above
   the baseline at the apex); offset = the first frame after it back at that level above the
   baseline at the onset (not the moving one: a held expression ends when the face returns),
   or the segment's last frame when it never does (the expression is still on). Duration <=
   `me_max_s` -> micro, else macro; a scale keeps only intervals of its own type.
4. Overlaps: one interval per episode (`episodes`): the first to start wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

from equime.errors import EquimeError
from equime.spot.motion import MotionConfig
from equime.spot.track import TrackConfig

SPOT_VERSION = "2.0"


@dataclass(frozen=True)
class SpotConfig:
    method: str = "motion"  # spot.methods
    motion: MotionConfig = field(default_factory=MotionConfig)
    track: TrackConfig = field(default_factory=TrackConfig)
    z_threshold: float = 10.0  # tuned on the realistic preset (docs/spotting.md)
    min_rise: float = 0.02  # IOD: least rise of the signal that counts
    edge_level: float = 0.15
    me_max_s: float = 0.5  # a micro-expression's whole duration
    me_smooth_s: float = 0.125  # micro scale's smoothing (3 frames at 24 fps)
    mae_smooth_s: float = 0.25
    min_s: float = 0.08  # shorter intervals are dropped
    baseline_s: float = 6.0  # past window of the baseline (longer than a macro-expression)
    baseline_q: float = 20.0  # its quantile (percent)

    def __post_init__(self) -> None:
        checks = [
            (self.z_threshold > 0, f"z_threshold {self.z_threshold} must be positive"),
            (0 < self.edge_level < 1, f"edge_level {self.edge_level} must be in (0, 1)"),
            (self.me_max_s > 0, f"me_max_s {self.me_max_s} must be positive"),
            (self.motion.face_px >= 32, f"face_px {self.motion.face_px} must be at least 32"),
        ]
        for ok, message in checks:
            if not ok:
                raise EquimeError(message)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Spotted:
    onset: int
    apex: int
    offset: int
    type: str
    score: float  # peak rise in noise units


def noise_of(signal: np.ndarray) -> tuple[float, float]:
    """(baseline, noise): the median and 1.4826 x MAD of the signal (floored)."""
    base = float(np.median(signal))
    return base, max(1.4826 * float(np.median(np.abs(signal - base))), 1e-6)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    return uniform_filter1d(x, size=width, mode="nearest") if width > 1 else x


def past_baseline(signal: np.ndarray, window: int, q: float) -> np.ndarray:
    """Per frame, the q-th percentile of the last `window` frames (itself included), evaluated
    every window/16 frames and held between (exact at every frame costs ~16x for nothing)."""
    n = len(signal)
    step = max(1, window // 16)
    out = np.empty(n)
    for a in range(0, n, step):
        out[a : a + step] = np.percentile(signal[max(0, a - window + 1) : a + 1], q)
    return out


def _rise(signal: np.ndarray, fps: float, cfg: SpotConfig) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, rise) of one stretch of usable frames."""
    base = past_baseline(signal, max(2, round(cfg.baseline_s * fps)), cfg.baseline_q)
    return base, signal - base


def per_segment(segment: np.ndarray) -> list[np.ndarray]:
    """Frame indices of each segment (a stretch of usable frames; -1 = unusable), in order."""
    return [np.flatnonzero(segment == s) for s in np.unique(segment[segment >= 0])]


def rise_and_noise(
    signal: np.ndarray, segments: np.ndarray, fps: float, cfg: SpotConfig
) -> tuple[np.ndarray, float]:
    """The rise over each segment's past baseline (NaN outside segments) and its noise."""
    rise = np.full(len(signal), np.nan)
    for idx in per_segment(segments):
        rise[idx] = _rise(signal[idx], fps, cfg)[1]
    _, noise = noise_of(rise[~np.isnan(rise)]) if (~np.isnan(rise)).any() else (0.0, 1e-6)
    return rise, noise


def _spot_stretch(signal: np.ndarray, fps: float, cfg: SpotConfig, noise: float) -> list[Spotted]:
    base, rise = _rise(signal, fps, cfg)
    fine_width = max(1, round(cfg.me_smooth_s * fps))
    fine = _smooth(signal, fine_width)
    rise_fine = _smooth(rise, fine_width)
    height = max(cfg.z_threshold * noise, cfg.min_rise)
    half_window = max(1, round(cfg.mae_smooth_s * fps / 2))
    candidates: list[Spotted] = []
    for kind, width in (("me", fine_width), ("mae", max(1, round(cfg.mae_smooth_s * fps)))):
        s = _smooth(rise, width)
        padded = np.r_[min(0.0, s.min()), s, min(0.0, s.min())]
        peaks, _ = find_peaks(padded, height=height, prominence=height / 2)
        for p in map(int, peaks - 1):
            lo, hi = max(0, p - half_window), min(len(s), p + half_window + 1)
            apex = lo + int(np.argmax(rise_fine[lo:hi])) if kind == "mae" else int(p)
            top = fine[apex]
            on_level = base[apex] + cfg.edge_level * (top - base[apex])
            before = np.flatnonzero(fine[:apex] <= on_level)
            onset = int(before[-1]) if len(before) else 0
            off_level = base[onset] + cfg.edge_level * (top - base[onset])
            after = np.flatnonzero(fine[apex + 1 :] <= off_level)
            offset = int(apex + 1 + after[0]) if len(after) else len(s) - 1
            duration = (offset - onset) / fps
            typed = "me" if duration <= cfg.me_max_s else "mae"
            if typed == kind and duration >= cfg.min_s:
                score = float(rise_fine[apex] / noise)
                candidates.append(Spotted(onset, apex, offset, kind, score))
    return candidates


def spot_signal(
    signal: np.ndarray, fps: float, cfg: SpotConfig, segments: np.ndarray | None = None
) -> list[Spotted]:
    """Typed intervals from one video's motion signal, in onset order; `segments` (per frame,
    -1 = unusable) keeps each stretch of usable frames apart (its own baseline, no interval
    across a gap)."""
    signal = np.asarray(signal, np.float64)
    if segments is None:
        segments = np.zeros(len(signal), int)
    _, noise = rise_and_noise(signal, segments, fps, cfg)
    candidates: list[Spotted] = []
    for idx in per_segment(segments):
        start = int(idx[0])
        for c in _spot_stretch(signal[idx], fps, cfg, noise):
            candidates.append(
                Spotted(c.onset + start, c.apex + start, c.offset + start, c.type, c.score)
            )
    return episodes(candidates)


def episodes(candidates: list[Spotted]) -> list[Spotted]:
    """One interval per episode: in onset order, a candidate that starts before the face has
    come back from the last kept one (its offset) belongs to it and is dropped; the face has
    not returned to its baseline, so it is the same expression going on (a laugh's head turns,
    a micro-expression riding a macro)."""
    kept: list[Spotted] = []
    for c in sorted(candidates, key=lambda c: (c.onset, -c.score)):
        if not kept or c.onset > kept[-1].offset:
            kept.append(c)
    return kept
