"""Which Action Units a landmark displacement shows, read with the real-data model inverted.

The basis is the real-data AU -> mesh model (`faces.au_mesh`: py-feat's regression fitted on real
faces, head pose removed, each AU at its documented E displacement) projected onto the reference
face; a displacement, with head motion removed by a similarity fit on the stable landmarks, is
explained by non-negative least squares on it (`faces.au_fit`), so an activation of 1.0 is the AU's
E motion: the intensity on the warp's one linear scale. Nothing of the generator enters the basis,
so it reads generated and real faces alike; one-sided AUs get a column per side. AU16, which the
model lacks, is not read.
"""

from __future__ import annotations

import numpy as np

from equime.faces import regions
from equime.faces.au_fit import Basis, by_number, displacements, fit_activations, similarity_align
from equime.faces.au_mesh import AUMesh, fit_projection, load_au_mesh
from equime.faces.regions import STABLE
from equime.facs.aus import AUS

RIDGE = 0.01  # per unit of activation: a residual is not read as a large dose of a tiny AU


def mesh_basis(ref: np.ndarray, mesh: AUMesh | None = None) -> Basis:
    """The basis on reference landmarks `ref` (478, 2) px, in face-frame IOD per unit activation."""
    mesh = mesh or load_au_mesh()
    ref = np.asarray(ref, np.float64)
    frame = regions.face_frame(ref)
    projection = fit_projection(mesh.mean, ref)
    rows = np.setdiff1d(np.arange(len(mesh.mean)), np.union1d(STABLE, mesh.band))
    codes, numbers, cols = [], [], []
    for number in mesh.numbers:
        px = projection.displacement(mesh.of(number))
        for side in ("R", "L") if AUS[number].sided else ("",):
            weight = regions.side_share(ref, side)[:, None]
            moved = similarity_align(ref + px * weight, ref, np.array(STABLE))
            d = moved - ref
            cols.append((np.stack([d @ frame.ex, d @ frame.ey], -1) / frame.iod)[rows].reshape(-1))
            codes.append(f"{side}{number}")
            numbers.append(number)
    return Basis(tuple(codes), tuple(numbers), rows, np.stack(cols, 1))


def read_aus(
    landmarks: np.ndarray, ref: np.ndarray, robust: float = 3.0, ridge: float = RIDGE
) -> tuple[list[int], np.ndarray]:
    """(AU numbers, (n, numbers) activations) of landmarks (n, 478, 2) against the neutral `ref`
    (NaN where no face); a one-sided AU reads as its larger side."""
    basis = mesh_basis(ref)
    act = fit_activations(displacements(landmarks, ref), basis, robust=robust, ridge=ridge)
    return by_number(act, basis)


def read_face_aus(landmarks: np.ndarray, mesh: AUMesh | None = None) -> dict[int, float]:
    """AU number -> activation of one face read against the real-data model's mean face projected
    onto it (`fit_projection`): a photo has no neutral frame of its own person, so identity
    (full lips, a low brow) reads as small doses too. On the neutral faces of the demo and
    py-feat's photos it stays below about 1.2 E for any AU; use it for large expressions only."""
    mesh = mesh or load_au_mesh()
    projection = fit_projection(mesh.mean, landmarks)
    ref = mesh.mean @ projection.matrix.T + projection.offset
    numbers, act = read_aus(np.asarray(landmarks, np.float64)[None], ref)
    return {n: round(float(a), 3) for n, a in zip(numbers, act[0], strict=True)}
