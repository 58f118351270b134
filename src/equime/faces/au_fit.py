"""Non-negative least-squares AU fits on landmark displacements, shared by every read-out (the
real-data mesh read-out in `faces.au_readout`, verify's landmark, flow and direction read-outs, the
spotter's recogniser): a basis of per-AU displacement patterns, head motion removed by a similarity
fit on the stable landmarks, and a robust NNLS per frame (`scipy.optimize.nnls`): correlated AUs
compete for the same motion instead of each taking all of it, as independent projections would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equime.faces import regions
from equime.faces.regions import STABLE


@dataclass(frozen=True)
class Basis:
    codes: tuple[str, ...]  # column codes: '1', '4', 'R12', 'L12', ...
    numbers: tuple[int, ...]  # AU number of each column
    rows: np.ndarray  # landmark indices used in the fit
    matrix: np.ndarray  # (2 * len(rows), len(codes)) face-frame IOD per unit activation
    project: np.ndarray | None = None  # applied to the data before the fit (`without_jitter`)

    def similarity(self) -> np.ndarray:
        """Cosine similarity between the AU columns (by AU number, sides summed), so callers can
        say which AUs this face's geometry cannot tell apart."""
        numbers = sorted(set(self.numbers))
        cols = np.stack([self.matrix[:, [n == k for n in self.numbers]].sum(1) for k in numbers], 1)
        unit = cols / np.maximum(np.linalg.norm(cols, axis=0), 1e-12)
        return unit.T @ unit


def similarity_align(points: np.ndarray, ref: np.ndarray, on: np.ndarray) -> np.ndarray:
    """`points` (478, 2) mapped by the similarity transform that best fits points[on] to ref[on]."""
    p, q = points[on], ref[on]
    pm, qm = p.mean(0), q.mean(0)
    u, s, vt = np.linalg.svd((p - pm).T @ (q - qm))
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, d]) @ vt
    scale = (s * [1.0, d]).sum() / max(((p - pm) ** 2).sum(), 1e-12)
    return scale * (points - pm) @ rot + qm


def displacements(landmarks: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """(n, 478, 2) aligned displacement from `ref` in face-frame IOD (NaN where no face)."""
    ref = np.asarray(ref, np.float64)
    frame = regions.face_frame(ref)
    on = np.array(STABLE)
    out = np.full(landmarks.shape, np.nan)
    for t, pts in enumerate(np.asarray(landmarks, np.float64)):
        if np.isnan(pts[0, 0]):
            continue
        d = similarity_align(pts, ref, on) - ref
        out[t] = np.stack([d @ frame.ex, d @ frame.ey], -1) / frame.iod
    return out


def fit_activations(
    disp: np.ndarray, basis: Basis, robust: float = 0.0, ridge: float = 0.0
) -> np.ndarray:
    """(n, codes) non-negative least-squares activations per frame (NaN where no face).

    `robust` > 0: iteratively reweighted, so a point whose residual is more than `robust` times the
    frame's median residual counts less (weight sqrt(k * median / r), Huber-like). Where the image
    changes without moving (the dark gap of parting lips, a glint), flow is wrong at a few points;
    a plain fit bends other AUs to explain them (a jaw drop then read AU24 too).

    `ridge` > 0 adds ridge * |a|^2 to the objective: every unit of activation costs the same, so a
    residual is not explained by a large activation of an AU whose whole motion is tiny."""
    from scipy.optimize import nnls

    pad = np.sqrt(ridge) * np.eye(len(basis.codes))
    zeros = np.zeros(len(basis.codes) if ridge > 0 else 0)

    def solve(m: np.ndarray, y: np.ndarray) -> np.ndarray:
        if ridge > 0:
            m, y = np.vstack([m, pad]), np.concatenate([y, zeros])
        return nnls(m, y)[0]

    out = np.full((len(disp), len(basis.codes)), np.nan)
    for t, d in enumerate(disp):
        if np.isnan(d[0, 0]):
            continue
        y = d[basis.rows].reshape(-1)
        if basis.project is not None:
            y = basis.project @ y
        a = solve(basis.matrix, y)
        for _ in range(_IRLS_ROUNDS if robust > 0 else 0):
            r = np.linalg.norm((y - basis.matrix @ a).reshape(-1, 2), axis=1)
            w = np.repeat(np.sqrt(np.minimum(1.0, robust * np.median(r) / np.maximum(r, 1e-12))), 2)
            a = solve(basis.matrix * w[:, None], y * w)
        out[t] = a
    return out


_IRLS_ROUNDS = 3


def by_number(activations: np.ndarray, basis: Basis) -> tuple[list[int], np.ndarray]:
    """Per AU number: the larger side's activation (a one-sided AU is not halved)."""
    numbers = sorted(set(basis.numbers))
    cols = [activations[:, [n == k for n in basis.numbers]].max(axis=1) for k in numbers]
    return numbers, np.stack(cols, 1)
