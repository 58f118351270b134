"""When the expression happens inside a clip: neutral lead-in, onset, apex, offset, neutral tail.

Frame indices are ground truth: `onset` is the last neutral frame before the rise, `apex` the frame
of peak intensity, `offset` the first frame back at neutral. The intensity curve is 0 at and outside
[onset, offset], 1 at apex, and rises and falls as a raised cosine (smooth, no velocity jump).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equime.errors import EquimeError


@dataclass(frozen=True)
class TimingConfig:
    """Micro-expression timing in milliseconds (whole expression under 500 ms by default)."""

    onset_ms: tuple[float, float] = (120.0, 200.0)  # onset -> apex, uniform range
    hold_ms: tuple[float, float] = (0.0, 40.0)  # time spent at apex
    offset_ms: tuple[float, float] = (150.0, 220.0)  # apex -> back to neutral
    start_window: tuple[float, float] = (0.3, 0.5)  # onset position as a fraction of the clip


@dataclass(frozen=True)
class Timeline:
    n_frames: int
    fps: float
    onset: int
    apex: int
    offset: int
    hold: int = 0  # frames held at full intensity, centred on apex

    def curve(self) -> np.ndarray:
        """Intensity per frame in [0, 1]."""
        t = np.arange(self.n_frames, dtype=np.float64)
        rise_end = self.apex - self.hold // 2
        fall_start = rise_end + self.hold
        c = np.zeros(self.n_frames)
        rise = (t > self.onset) & (t < rise_end)
        c[rise] = 0.5 - 0.5 * np.cos(np.pi * (t[rise] - self.onset) / (rise_end - self.onset))
        c[(t >= rise_end) & (t <= fall_start)] = 1.0
        fall = (t > fall_start) & (t < self.offset)
        c[fall] = 0.5 + 0.5 * np.cos(np.pi * (t[fall] - fall_start) / (self.offset - fall_start))
        return c

    @property
    def duration_ms(self) -> float:
        return (self.offset - self.onset) * 1000.0 / self.fps


def sample_timeline(
    rng: np.random.Generator, n_frames: int, fps: float, timing: TimingConfig = TimingConfig()
) -> Timeline:
    """Draw a timeline; every range is sampled, so clips differ in speed as real ones do."""
    frames = lambda ms: max(1, round(ms * fps / 1000.0))  # noqa: E731
    rise = frames(rng.uniform(*timing.onset_ms))
    hold = round(rng.uniform(*timing.hold_ms) * fps / 1000.0)
    fall = frames(rng.uniform(*timing.offset_ms))
    span = rise + hold + fall
    if span + 2 > n_frames:
        raise EquimeError(
            f"a clip of {n_frames} frames at {fps} fps is too short for a {span}-frame expression"
        )
    lo = int(timing.start_window[0] * n_frames)
    hi = min(int(timing.start_window[1] * n_frames), n_frames - span - 1)
    onset = int(rng.integers(min(lo, hi), hi + 1))
    return Timeline(n_frames, fps, onset, onset + rise + hold // 2, onset + span, hold)
