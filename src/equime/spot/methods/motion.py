"""`motion` (the default): how far the face's most moving skin has moved since the segment's
first frame (Farneback flow on the re-aligned crops, head motion removed on the stable points,
eyes masked: `spot.motion.FaceMotion`), spotted by `spot.spotter.spot_signal` against each
video's own past baseline and noise."""

from __future__ import annotations

import numpy as np

from equime.spot.methods import MethodResult, register_spot_method
from equime.spot.motion import FaceMotion
from equime.spot.spotter import SpotConfig, rise_and_noise, spot_signal
from equime.spot.track import FaceTrack


def _rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


def motion_curve(track: FaceTrack, cfg: SpotConfig) -> np.ndarray:
    """(n,) IOD: mean of the `top` share of point motions from each segment's first frame."""
    signal = np.full(track.n, np.nan)
    for seg in np.unique(track.segment[track.segment >= 0]):
        idx = np.flatnonzero(track.segment == seg)
        first = int(idx[0])
        motion = FaceMotion(_rgb(track.crops[first]), track.landmarks[first], cfg.motion)
        for t in idx:
            mag = np.linalg.norm(motion(_rgb(track.crops[t])), axis=1)
            k = max(1, round(cfg.motion.top * len(mag)))
            signal[t] = float(np.sort(mag)[-k:].mean())
    return signal


@register_spot_method("motion")
def spot_motion(track: FaceTrack, cfg: SpotConfig) -> MethodResult:
    signal = motion_curve(track, cfg)
    rise, noise = rise_and_noise(signal, track.segment, track.fps, cfg)
    spots = spot_signal(signal, track.fps, cfg, track.segment)
    return MethodResult(rise / noise, max(cfg.z_threshold, cfg.min_rise / noise), spots)
