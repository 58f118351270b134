"""AU read-out from optical flow (the default): how far each AU's motion explains how the skin
itself moved, frame by frame.

Micro-expression research reads subtle facial motion from optical flow (MDMO, Bi-WOOF and most
MER networks start from it); this read-out does the same, decomposed into AUs.

1. Flow: dense Farneback optical flow from the reference frame (the first frame with a face) to
   every read frame, on the face's bounding box, sampled on a grid of points inside the face oval
   (`grid_spacing` IOD apart). Head motion (eps_X: shift, turn, scale) is removed by the
   similarity transform that best explains the flow at the stable landmarks (upper face outline,
   nose bridge, eye corners: `verify.drift.STABLE`); what is left is in inter-ocular distances.
2. Templates: each AU code's motion (`synth.au_motion`) rendered on the reference frame
   (`WarpGenerator.apex_frame`, that AU alone at `template_intensity`), and the same flow measured
   from the reference to the render, per unit share of the AU's motion. The flow operator is the
   same for templates and video, so what it smooths or misses, it smooths and misses in both.
3. Fit: per frame, non-negative least squares of the flow on the templates, reweighted so points
   with outlying residuals count less (`geometry.fit_activations(robust=...)`): where the image
   changes without moving, as when parting lips uncover the dark mouth, flow is wrong at a few
   points, and a plain fit bent lip AUs to explain them.

Why flow rather than the landmark mesh (`readout = landmarks`): flow is additive (two AUs' motions
sum to the sum of their flows, to first order), while MediaPipe's mesh is a regularised face model
that answers a combination of small motions with a pattern of its own: on clean renders of the
demo's requested AU sets, single-AU landmark templates left 11-49 % of the landmark motion
unexplained and the fit read AUs that were not there (AU24/25 for AU20+26, AU6 for AU7); flow
templates explain the same videos with a few stray activations far below the requested ones
(BENCHMARKS.md, Verify). Landmarks still give the face region, the stable points, and the identity
and pose drift.
"""

from __future__ import annotations

import cv2
import numpy as np

from equime.faces import regions
from equime.facs.aus import parse_code
from equime.verify.drift import STABLE
from equime.verify.geometry import (
    Basis,
    basis_codes,
    origin_slope,
    similarity_align,
    square_frame,
)

# Farneback settings: 3 pyramid levels cover the largest AU motion of a 256 px face (a jaw drop,
# ~10 px). Small 9 px windows: a 15 px window straddles the lips, which move apart (AU10 up, AU16
# down) in one expression, and blends them, so a combination no longer read as the sum of its AUs
# (on the demo, disgust's 9+10+15+16 also read AU14, AU20 and AU24 at 0.2-0.3 of their motion).
_FARNEBACK = dict(pyr_scale=0.5, levels=3, winsize=9, iterations=3, poly_n=5, poly_sigma=1.2)
_BOX_MARGIN = 0.1  # face box margin, share of its size, so the window sees past the outline


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


class FaceFlow:
    """Flow from one reference frame, on its face, sampled at grid points, head motion removed."""

    def __init__(self, reference: np.ndarray, landmarks: np.ndarray, spacing: float) -> None:
        pts = np.asarray(landmarks, np.float64)
        self.box = regions.face_box(pts, reference.shape[:2], _BOX_MARGIN)
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        self.iod = regions.face_frame(pts).iod
        top, _, left, _ = self.box
        origin = np.array([left, top], np.float64)
        oval = cv2.convexHull(pts[list(regions.FACE_OVAL)].astype(np.float32))
        step = max(spacing * self.iod, 1.0)
        xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
        grid = np.stack([xs.ravel(), ys.ravel()], 1)
        inside = [cv2.pointPolygonTest(oval, (float(x), float(y)), False) >= 0 for x, y in grid]
        self.points = grid[np.asarray(inside, bool)] - origin  # in box coordinates
        self.stable = pts[list(STABLE)] - origin
        self.reference = _gray(self._crop(reference))

    def _crop(self, rgb: np.ndarray) -> np.ndarray:
        y0, y1, x0, x1 = self.box
        return rgb[y0:y1, x0:x1]

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """(points, 2) displacement in IOD from the reference to `rgb`, head motion removed."""
        flow = cv2.calcOpticalFlowFarneback(
            self.reference, _gray(self._crop(rgb)), None, flags=0, **_FARNEBACK
        )
        # the similarity that moves the stable points as the flow does, applied to the face points
        n = len(self.stable)
        src = np.concatenate([self.stable, self.points])
        dst = np.concatenate([self.stable + _sample(flow, self.stable), self.points])
        rigid = similarity_align(src, dst, np.arange(n))[n:] - self.points
        return (_sample(flow, self.points) - rigid) / self.iod


def _sample(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    x = np.clip(np.round(points[:, 0]).astype(np.int64), 0, w - 1)
    y = np.clip(np.round(points[:, 1]).astype(np.int64), 0, h - 1)
    return flow[y, x].astype(np.float64)


def flow_templates(
    image: np.ndarray,
    landmarks: np.ndarray,
    face_flow: FaceFlow,
    intensity: tuple[float, ...],
    min_motion: float,
) -> Basis:
    """Per AU code: the flow its motion shows on this face, per unit share (least-squares slope
    over the rendered `intensity` levels); rows = grid points that some AU moves by at least
    `min_motion` IOD."""
    from equime.faces.face import Face
    from equime.synth.au_motion import response
    from equime.synth.warp import WarpGenerator

    h, w = image.shape[:2]
    face = Face("template", square_frame(image), np.asarray(landmarks, np.float32))
    gen = WarpGenerator()
    codes = basis_codes()
    cols = []
    for code in codes:
        shown = np.array([response(code, level) for level in intensity])
        moved = np.stack(
            [face_flow(gen.apex_frame(face, {code: level})[:h, :w]) for level in intensity]
        )
        cols.append(origin_slope(shown, moved))
    stack = np.stack(cols, -1)  # (points, 2, codes)
    rows = np.flatnonzero(np.linalg.norm(stack, axis=1).max(-1) >= min_motion)
    matrix = stack[rows].reshape(2 * len(rows), len(codes))
    return Basis(codes, tuple(parse_code(c)[1] for c in codes), rows, matrix)
