"""Identity and pose drift: how much landmarks that no requested AU should move do move.

Stable landmarks are the upper face outline, the nose bridge and the eye corners (jaw and chin
points are left out: AU26 moves them). Per read frame, against their mean shape over the lead-in:
pose = mean displacement (rigid head motion included), identity = mean residual after the best
similarity alignment (shape change: what a warp or a video model must not do to a face). Both are
in inter-ocular distances and reported as the largest rise above the lead-in's median.
"""

from __future__ import annotations

import numpy as np

from equime.faces import regions
from equime.faces.regions import STABLE


def _similarity_residual(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Residual vectors of `points` after the least-squares similarity transform onto `ref`."""
    p = points - points.mean(0)
    q = ref - ref.mean(0)
    u, s, vt = np.linalg.svd(p.T @ q)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, d]) @ vt
    scale = (s * [1.0, d]).sum() / max((p * p).sum(), 1e-12)
    return scale * p @ rot - q


def drift(landmarks: np.ndarray, lead_in: int) -> tuple[float, float]:
    """(identity drift, pose drift) in IODs for landmarks (n, 478, 2) with NaN where undetected."""
    ok = ~np.isnan(landmarks[:, 0, 0])
    lead = np.flatnonzero(ok[:lead_in])
    if len(lead) == 0 or ok.sum() < 2:
        return float("nan"), float("nan")
    stable = landmarks[:, list(STABLE)].astype(np.float64)
    ref = stable[lead].mean(0)
    iod = regions.face_frame(landmarks[lead].mean(0)).iod
    identity = np.full(len(landmarks), np.nan)
    pose = np.full(len(landmarks), np.nan)
    for t in np.flatnonzero(ok):
        identity[t] = np.linalg.norm(_similarity_residual(stable[t], ref), axis=1).mean() / iod
        pose[t] = np.linalg.norm(stable[t] - ref, axis=1).mean() / iod
    id_base, pose_base = np.nanmedian(identity[lead]), np.nanmedian(pose[lead])
    return (
        float(max(np.nanmax(identity) - id_base, 0.0)),
        float(max(np.nanmax(pose) - pose_base, 0.0)),
    )
