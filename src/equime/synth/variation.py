"""Per-person variation of Action-Unit motion: real people do not move identically.

Each face gets, from its own id (seeded, so the same face always moves the same way), a scale
(log-normal, SD `spread`) and a small turn (normal, SD `spread` / 2 radians) per face region; a
landmark's motion is scaled and turned (mirrored on the other half of the face) by its
distance-weighted mix of the regions' values, then
the whole AU is brought back to its own largest displacement, so intensity keeps its one meaning
(the documented E displacement) while the pattern differs from person to person. Each video adds
a performance's own variation of the same size on top (seeded by the video's eps_X seed), so a
recogniser sees many patterns per person rather than one template. The person's part is recorded
per video in the metadata column `motion_variation`; the performance's follows from `noise_seed`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

import numpy as np

from equime.faces import regions

REACH = 0.35  # IOD: how far a region's value reaches (Gaussian weight to its centre)


@dataclass(frozen=True)
class Variation:
    spread: float
    seed: int
    scale: dict[str, float]  # region -> motion scale
    turn: dict[str, float]  # region -> turn of the motion, radians

    def record(self) -> str:
        """The metadata cell: everything needed to see (or redo) this face's variation."""
        return json.dumps(
            {
                "spread": self.spread,
                "seed": self.seed,
                "scale": {k: round(v, 4) for k, v in self.scale.items()},
                "turn_deg": {k: round(float(np.degrees(v)), 2) for k, v in self.turn.items()},
            },
            sort_keys=True,
        )


def person_variation(face_id: str, spread: float) -> Variation:
    """A person's own way of moving: seeded by the face id, the same in every video of the face."""
    seed = int(hashlib.sha256(f"motion-variation:{face_id}".encode()).hexdigest()[:15], 16)
    return _draw(seed, spread)


def take_variation(video_seed: int, spread: float) -> Variation:
    """One performance's deviation from the person's usual one: seeded by the video's eps_X seed,
    so the same video always moves the same way (a person never repeats an expression exactly)."""
    seed = int(hashlib.sha256(f"take-variation:{video_seed}".encode()).hexdigest()[:15], 16)
    return _draw(seed, spread)


def _draw(seed: int, spread: float) -> Variation:
    rng = np.random.default_rng(seed)
    names = list(regions.REGION_PARTS)
    scale = np.exp(rng.normal(0.0, spread, len(names)))
    turn = rng.normal(0.0, spread / 2, len(names))
    return Variation(
        spread,
        seed,
        {n: float(s) for n, s in zip(names, scale, strict=True)},
        {n: float(a) for n, a in zip(names, turn, strict=True)},
    )


@functools.lru_cache(maxsize=64)
def _weights_cached(landmarks: bytes, moving: bytes) -> tuple[np.ndarray, np.ndarray]:
    pts = np.frombuffer(landmarks, np.float32).reshape(-1, 2).astype(np.float64)
    idx = np.frombuffer(moving, np.int64)
    iod = regions.face_frame(pts).iod
    centres = np.stack(
        [
            pts[[i for part in parts for i in part]].mean(0)
            for parts in regions.REGION_PARTS.values()
        ]
    )
    d2 = ((pts[idx, None, :] - centres[None]) ** 2).sum(-1) / (REACH * iod) ** 2
    w = np.exp(-0.5 * (d2 - d2.min(1, keepdims=True)))
    return w / w.sum(1, keepdims=True), np.sign(regions.midline_distance(pts))[idx]


def _region_weights(landmarks: np.ndarray, moving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, regions) distance weights of each moving landmark and its side (-1 right, +1 left),
    cached per face: every AU and performance of a face reuses them."""
    return _weights_cached(landmarks.tobytes(), np.asarray(moving, np.int64).tobytes())


def vary(landmarks: np.ndarray, moving: np.ndarray, disp: np.ndarray, var: Variation) -> np.ndarray:
    """`disp` (n, 2) px of landmarks `moving`, scaled and turned by region, same largest length."""
    if var.spread == 0 or len(moving) == 0:
        return disp
    names = list(var.scale)
    w, side = _region_weights(np.asarray(landmarks, np.float32), moving)
    scale = w @ np.array([var.scale[n] for n in names])
    # mirrored across the midline: a person's variation is symmetric (asymmetry is its own knob)
    turn = w @ np.array([var.turn[n] for n in names]) * side
    c, s = np.cos(turn), np.sin(turn)
    out = np.stack([c * disp[:, 0] - s * disp[:, 1], s * disp[:, 0] + c * disp[:, 1]], 1)
    out *= scale[:, None]
    before, after = np.linalg.norm(disp, axis=1).max(), np.linalg.norm(out, axis=1).max()
    return out * (before / after) if after > 0 else out
