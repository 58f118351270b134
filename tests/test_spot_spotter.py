"""The spotter's peak finding on known signals: both scales, typing by duration, edges at the
ground truth's conventions, the noise and IOD floors, overlaps."""

from __future__ import annotations

import numpy as np
import pytest

from equime.errors import EquimeError
from equime.spot.motion import MotionConfig
from equime.spot.score import iou
from equime.spot.spotter import SpotConfig, past_baseline, spot_signal
from equime.synth.timeline import Timeline

FPS = 24.0


def _bump(n: int, onset: int, apex: int, offset: int, height: float, hold: int = 0) -> np.ndarray:
    return height * Timeline(n, FPS, onset, apex, offset, hold).curve()


def _signal(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 480
    s = 0.004 + rng.normal(0, 0.0008, n)  # a still face's flow noise (IOD)
    s += _bump(n, 100, 104, 109, 0.05)  # micro: 9 frames (375 ms)
    s += _bump(n, 200, 230, 260, 0.08, hold=12)  # macro: 2.5 s with a hold
    s += _bump(n, 350, 353, 356, 0.006)  # a tiny wobble: below the IOD floor
    return s


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finds_both_types_at_the_truth(seed: int) -> None:
    spots = spot_signal(_signal(seed), FPS, SpotConfig())
    assert [s.type for s in spots] == ["me", "mae"]
    me, mae = spots
    assert abs(me.onset - 100) <= 1 and abs(me.offset - 109) <= 1 and me.apex == 104
    # a slow rise crosses 15 % of its height a quarter of the way up: IoU, not frames, for macro
    assert iou((mae.onset, mae.offset), (200, 260)) >= 0.75
    assert me.score > 20


def test_typing_follows_duration_and_overlaps_go_to_the_stronger() -> None:
    n = 300
    s = 0.004 + np.random.default_rng(3).normal(0, 0.0008, n)
    s += _bump(n, 50, 60, 70, 0.05)  # 20 frames = 833 ms: a macro-expression
    s += _bump(n, 150, 160, 175, 0.02) + _bump(n, 158, 161, 165, 0.05)  # a micro riding a macro
    spots = spot_signal(s, FPS, SpotConfig())
    assert spots[0].type == "mae" and abs(spots[0].onset - 50) <= 3
    assert len(spots) == 2  # the two overlapping candidates give one interval
    assert (
        SpotConfig(me_max_s=1.0) and spot_signal(s, FPS, SpotConfig(me_max_s=1.0))[0].type == "me"
    )


def test_flat_video_has_no_spots_and_bad_settings_fail() -> None:
    s = 0.004 + np.random.default_rng(0).normal(0, 0.0008, 500)
    assert spot_signal(s, FPS, SpotConfig()) == []
    with pytest.raises(EquimeError, match="edge_level"):
        SpotConfig(edge_level=1.5)
    with pytest.raises(EquimeError, match="face_px"):
        SpotConfig(motion=MotionConfig(face_px=8))


def test_past_baseline_follows_drift_and_keeps_a_held_expression_a_rise() -> None:
    t = np.arange(600, dtype=float)
    drift = 0.01 * t / 600
    base = past_baseline(drift + _bump(600, 300, 305, 310, 0.05), 96, 20)
    assert np.abs(base - drift).max() < 0.002  # a micro-expression does not drag its baseline
    step = np.r_[np.full(100, 0.004), np.full(40, 0.06)]  # a smile that stays to the end
    spots = spot_signal(step + np.random.default_rng(0).normal(0, 0.0008, 140), FPS, SpotConfig())
    assert len(spots) == 1 and abs(spots[0].onset - 99) <= 1 and spots[0].offset == 139


def test_segments_keep_their_own_baseline_and_no_interval_crosses_a_gap() -> None:
    s = _signal(0)
    segments = np.where(np.arange(len(s)) < 215, 0, 1)
    segments[215:225] = -1  # unusable frames in the middle of the macro-expression
    spots = spot_signal(np.where(segments >= 0, s, np.nan), FPS, SpotConfig(), segments)
    assert all(not (sp.onset < 215 <= sp.offset) for sp in spots)
    assert abs(spots[0].onset - 100) <= 1
