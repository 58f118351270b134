"""The baseline spotter: peaks of the face-motion signal (`spot.motion`) at the scale of each
expression type, intervals typed by duration.

1. Rise: signal minus its median over the video (the still face), in units of its noise (1.4826
   x the median absolute deviation: robust to the expressions themselves).
2. Peaks at two scales (`scipy.signal.find_peaks`): micro on the signal lightly smoothed
   (`me_smooth_s`), macro on it smoothed over `mae_smooth_s`; a peak counts when it rises
   `z_threshold` noise units and `min_rise` IOD above the still face (the IOD floor keeps a
   very still video's tiny wobbles, e.g. skin pulled near a blinking eye, from counting).
3. Interval: from the apex (the lightly smoothed peak) out to where the signal falls to
   `edge_level` of its rise: onset = last frame at or below it before the apex, offset = first
   one after it (the ground truth's conventions). Duration <= `me_max_s` -> micro, else macro; a
   scale keeps only intervals of its own type.
4. Overlaps: the stronger interval wins (non-maximum suppression on any overlap).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

from equime.errors import EquimeError
from equime.spot.motion import MotionConfig

SPOT_VERSION = "1.0"


@dataclass(frozen=True)
class SpotConfig:
    motion: MotionConfig = field(default_factory=MotionConfig)
    z_threshold: float = 6.0
    min_rise: float = 0.012  # IOD: least rise of the signal that counts
    edge_level: float = 0.15
    me_max_s: float = 0.5  # a micro-expression's whole duration
    me_smooth_s: float = 0.125  # micro scale's smoothing (3 frames at 24 fps)
    mae_smooth_s: float = 0.25
    min_s: float = 0.08  # shorter intervals are dropped

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


def _edges(s: np.ndarray, apex: int, level: float) -> tuple[int, int]:
    below_before = np.flatnonzero(s[:apex] <= level)
    below_after = np.flatnonzero(s[apex + 1 :] <= level)
    onset = int(below_before[-1]) if len(below_before) else 0
    offset = int(apex + 1 + below_after[0]) if len(below_after) else len(s) - 1
    return onset, offset


def spot_signal(signal: np.ndarray, fps: float, cfg: SpotConfig) -> list[Spotted]:
    """Typed intervals from one video's motion signal, in onset order."""
    base, noise = noise_of(signal)
    rise = signal - base
    fine_width = max(1, round(cfg.me_smooth_s * fps))
    fine = _smooth(rise, fine_width)
    height = max(cfg.z_threshold * noise, cfg.min_rise)
    half_window = max(1, round(cfg.mae_smooth_s * fps / 2))
    candidates: list[Spotted] = []
    for kind, width in (("me", fine_width), ("mae", max(1, round(cfg.mae_smooth_s * fps)))):
        s = _smooth(rise, width)
        peaks, _ = find_peaks(s, height=height, prominence=height / 2)
        for p in map(int, peaks):
            lo, hi = max(0, p - half_window), min(len(s), p + half_window + 1)
            apex = lo + int(np.argmax(fine[lo:hi])) if kind == "mae" else int(p)
            onset, offset = _edges(fine, apex, cfg.edge_level * fine[apex])
            duration = (offset - onset) / fps
            typed = "me" if duration <= cfg.me_max_s else "mae"
            if typed == kind and duration >= cfg.min_s:
                candidates.append(Spotted(onset, apex, offset, kind, float(fine[apex] / noise)))
    kept: list[Spotted] = []
    for c in sorted(candidates, key=lambda c: -c.score):
        if all(c.offset < k.onset or c.onset > k.offset for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: c.onset)
