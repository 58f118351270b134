"""When the expression happens inside a clip: neutral lead-in, onset, apex, offset, neutral tail.

Frame indices are ground truth: `onset` is the last neutral frame before the rise, `apex` the frame
of peak intensity, `offset` the first frame back at neutral. The intensity curve is 0 at and outside
[onset, offset], 1 at apex, and rises and falls as a raised cosine (smooth, no velocity jump).

Every AU of a clip gets its own timeline inside the clip's (`sample_au_timelines`): real
micro-expressions have AUs that start, peak and end at slightly different times. The clip's timeline
is the envelope: its onset is the earliest AU onset, its offset the latest AU offset, its apex the
leading AU's apex, so the whole expression stays inside the micro range (onset phase up to ~260 ms,
whole expression under 500 ms: Yan, Wu, Liang, Chen & Fu 2013, "How fast are the leaked facial
expressions: the duration of micro-expressions", J Nonverbal Behav 37:217).
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
    au_lag_ms: tuple[float, float] = (0.0, 60.0)  # a non-leading AU starts this much later ...
    au_early_ms: tuple[float, float] = (0.0, 60.0)  # ... and ends this much earlier
    au_apex_ms: float = 40.0  # ... and peaks up to this much before or after the leading AU
    max_rise_ms: float = 260.0  # no AU's onset phase is longer (Yan et al. 2013)


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


def sample_au_timelines(
    rng: np.random.Generator,
    clip: Timeline,
    codes: list[str] | tuple[str, ...],
    timing: TimingConfig = TimingConfig(),
) -> dict[str, Timeline]:
    """One timeline per AU code inside the clip's envelope: one leading AU (drawn) follows the clip
    exactly; every other starts up to `au_lag_ms` later, ends up to `au_early_ms` earlier and
    peaks up to `au_apex_ms` away, with its onset phase at most `max_rise_ms`. Draw order is fixed
    (codes sorted), so the same seed gives the same timings."""
    codes = sorted(codes)
    if not codes:
        return {}
    frames = lambda ms: round(ms * clip.fps / 1000.0)  # noqa: E731
    lead = codes[int(rng.integers(len(codes)))]
    out: dict[str, Timeline] = {}
    for code in codes:
        lag = frames(rng.uniform(*timing.au_lag_ms))
        early = frames(rng.uniform(*timing.au_early_ms))
        shift = frames(rng.uniform(-timing.au_apex_ms, timing.au_apex_ms))
        if code == lead:
            out[code] = clip
            continue
        apex = min(max(clip.apex + shift, clip.onset + 2), clip.offset - 2)
        onset = min(clip.onset + lag, apex - 1)
        onset = max(onset, apex - max(1, frames(timing.max_rise_ms)))
        offset = max(clip.offset - early, apex + 1)
        hold = min(clip.hold, 2 * (apex - onset - 1), 2 * (offset - apex - 1))
        out[code] = Timeline(clip.n_frames, clip.fps, onset, apex, offset, max(hold, 0))
    return out


def timing_text(timelines: dict[str, Timeline]) -> str:
    """Per-AU timing in one metadata cell: '12:60/66/74+6:61/66/73' (onset/apex/offset frames)."""
    return "+".join(f"{c}:{t.onset}/{t.apex}/{t.offset}" for c, t in sorted(timelines.items()))
