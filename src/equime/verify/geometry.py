"""AU read-out from landmark geometry: how far each AU's FACS motion explains how the re-detected
landmarks moved, frame by frame.

1. Alignment: every frame's 478 landmarks are mapped onto the neutral reference (their mean over
   the lead-in) by the least-squares similarity transform fitted on the stable landmarks (upper face
   outline, nose bridge, eye corners: `verify.drift.STABLE`), so head motion (shift, turn, scale)
   is removed; what is left is expressed in the reference's face frame (x along the eye line, y
   down the face) in inter-ocular distances (IOD).
2. Basis: per AU code, how the detected landmarks of THIS face move at unit activation. The FACS
   motion table (`synth.au_motion.landmark_motion`: which landmarks move, which way and how far)
   is rendered onto the video's own first frame (`WarpGenerator.apex_frame`, one AU at a time, at
   `template_intensity`), the landmarks are re-detected, aligned to the unrendered frame's, and
   divided by the activation shown: a template of what the landmark model reports for that AU's
   motion on that face (`template_basis`). Templates, not the table's displacements themselves
   (`table_basis`, kept to choose the rows and for tests): the landmark model is a regularised mesh
   that answers a lower-lip motion with a different pattern than the pixels moved (measured: the
   table explains 43-79 % of the landmark motion at apex, the templates 84-99 %). Any face works,
   so the read-out also serves LTX videos and real data. Sided AUs get one column per side (a
   bilateral AU is the sum of both), the others one column.
3. Jitter: the main directions in which the still lead-in's landmarks wobble (`without_jitter`)
   are projected out of data and templates.
4. Fit: per frame, non-negative least squares of the aligned displacements on the basis
   (`scipy.optimize.nnls`): correlated lip AUs compete for the same motion instead of each taking
   all of it, as independent projections would. An AU's activation is its larger side; it is the
   share of the E motion shown, which on the warp's linear scale is the intensity itself
   (`intensity()`, `au_motion.response`).

The same motion table drives the warp generator; the check is still meaningful because the
landmarks are re-detected from the pixels by an independent model (MediaPipe): an AU the video does
not show moves no detected landmark and is not measured.
"""

from __future__ import annotations

import numpy as np

from equime.faces import regions
from equime.faces.au_fit import (  # noqa: F401  (re-exported: verify's read-outs use them)
    Basis,
    by_number,
    displacements,
    fit_activations,
    similarity_align,
)
from equime.faces.regions import STABLE
from equime.facs.aus import AUS, parse_code
from equime.synth.au_motion import MOTIONS, landmark_motion, motion

HOLD_WEIGHT = 4.0  # a pinned landmark outweighs a moving one nearby (as in the warp's splatting)


def basis_codes() -> tuple[str, ...]:
    """One code per bilateral AU, two (R, L) per AU that may be one-sided."""
    codes: list[str] = []
    for number, au in AUS.items():
        if number in MOTIONS:
            codes += [f"R{number}", f"L{number}"] if au.sided else [str(number)]
    return tuple(codes)


def _spread(ref: np.ndarray, code: str) -> np.ndarray:
    """(478, 2) pixel displacement of every landmark for `code` at intensity 1: the table's moving
    landmarks keep their motion; the others follow by Gaussian skin drag, held ones stay put."""
    moving, disp, held = landmark_motion(ref, code)
    sigma = motion(code).sigma * regions.face_frame(ref).iod
    d2 = ((ref[:, None, :] - ref[None, moving, :]) ** 2).sum(-1)
    w = np.exp(-0.5 * d2 / sigma**2)
    den = w.sum(1)
    if len(held):
        dh = ((ref[:, None, :] - ref[None, held, :]) ** 2).sum(-1)
        den = den + HOLD_WEIGHT * np.exp(-0.5 * dh / sigma**2).sum(1)
    out = (w @ disp) / np.maximum(den, 1.0)[:, None]
    out[moving] = disp
    out[held] = 0.0
    return out


def table_basis(ref: np.ndarray, min_motion: float = 0.005) -> Basis:
    """The AU basis on reference landmarks `ref` (478, 2) px; rows = landmarks that some AU moves
    by at least `min_motion` IOD at intensity 1 (the stable landmarks are left out)."""
    ref = np.asarray(ref, np.float64)
    frame = regions.face_frame(ref)
    codes = basis_codes()
    fields = []
    for code in codes:
        px = _spread(ref, code)
        fields.append(np.stack([px @ frame.ex, px @ frame.ey], -1) / frame.iod)
    stack = np.stack(fields, -1)  # (478, 2, C)
    size = np.linalg.norm(stack, axis=1).max(-1)
    rows = np.array(
        [i for i in np.flatnonzero(size >= min_motion) if i not in set(STABLE)], dtype=np.int64
    )
    matrix = stack[rows].reshape(2 * len(rows), len(codes))
    numbers = tuple(parse_code(c)[1] for c in codes)
    return Basis(codes, numbers, rows, matrix)


def intensity(number: int, activation: float | np.ndarray) -> np.ndarray:
    """Activation (share of the E motion) -> FACS intensity 0-1: the warp's one intensity scale
    is linear (`au_motion.response`), so this only clips."""
    return np.clip(np.asarray(activation, np.float64), 0.0, 1.0)


def _face_units(points: np.ndarray, ref: np.ndarray) -> np.ndarray:
    frame = regions.face_frame(ref)
    d = similarity_align(points, ref, np.array(STABLE)) - ref
    return np.stack([d @ frame.ex, d @ frame.ey], -1) / frame.iod


def square_frame(image: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3) padded with black to a square at its top left: the warp renders square
    faces, and the padding leaves the image's own pixel coordinates unchanged."""
    h, w = image.shape[:2]
    square = np.zeros((max(h, w), max(h, w), 3), np.uint8)
    square[:h, :w] = image
    return square


def origin_slope(shown: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Least-squares slope through the origin of `moved` (k, ...) over the shares `shown` (k,):
    a template per unit share from renders at k levels."""
    shown = np.asarray(shown, np.float64)
    return np.tensordot(shown, np.asarray(moved), axes=1) / (shown @ shown)


def template_basis(
    image: np.ndarray,
    landmarker,
    intensity: float | tuple[float, ...] = 0.8,
    motion: str | None = None,
) -> Basis | None:
    """AU templates on a neutral frame `image` (H, W, 3) uint8: each code's motion rendered at
    `intensity`, landmarks re-detected by `landmarker`, aligned displacement per unit activation.
    None when no face is found in `image`."""
    from equime.faces.face import Face
    from equime.synth.au_motion import response
    from equime.synth.warp import WarpGenerator

    square = square_frame(image)
    found = landmarker.detect(square)
    if not found:
        return None
    ref = np.asarray(found[0].landmarks, np.float64)
    table = table_basis(ref)
    gen = WarpGenerator() if motion is None else WarpGenerator(motion=motion)
    face = Face("template", square, ref.astype(np.float32))
    levels = np.atleast_1d(np.asarray(intensity, np.float64))
    cols = []
    for j, code in enumerate(table.codes):
        shown, moved = [], []
        for level in levels:
            found = landmarker.detect(gen.apex_frame(face, {code: float(level)}))
            if found:
                shown.append(response(code, float(level)))
                pts = np.asarray(found[0].landmarks, np.float64)
                moved.append(_face_units(pts, ref)[table.rows].reshape(-1))
        if not shown:  # the render lost the face: fall back to the table's motion
            cols.append(table.matrix[:, j])
            continue
        cols.append(origin_slope(np.asarray(shown), np.stack(moved)))
    return Basis(table.codes, table.numbers, table.rows, np.stack(cols, 1))


def without_jitter(basis: Basis, lead: np.ndarray, modes: int) -> Basis:
    """The basis with a projector: data and templates lose the `modes` main directions in which the
    still face's landmarks jitter over the lead-in (non-rigid detector noise, pose-dependent mesh
    changes), so the fit does not read that jitter as AUs."""
    x = lead[:, basis.rows].reshape(len(lead), -1)
    x = x[~np.isnan(x).any(1)]
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    v = vt[:modes].T
    proj = np.eye(v.shape[0]) - v @ v.T
    return Basis(basis.codes, basis.numbers, basis.rows, proj @ basis.matrix, proj)
