"""The `motion` method's signal: how much the face itself moved, frame by frame, from optical flow.

1. Reference: the first frame of a segment of the face track (`spot.track`: crops re-aligned on
   the stable landmarks, so the face box stays put while the head moves).
2. Flow: Farneback optical flow from the reference to every frame on the face's box, resized
   to `face_px` pixels (96: about half of a 256 px video's face box; micro-expressions move skin
   1-4 px there, halved still well above Farneback's sub-pixel resolution, at a quarter of the
   cost; a 200 fps SAMM face of 500 px costs the same per frame), read at grid
   points inside the face oval. The eyes are left out (a blink is the face's largest fast motion
   and no expression; MEGC spotting baselines mask them too).
3. Head motion left after the re-alignment out: the affine map (default; or the similarity
   transform, `verify.geometry.similarity_align`, as verify's flow read-out) that best moves
   the stable landmarks (upper face outline, nose bridge, eye corners: `verify.drift.STABLE`)
   as the flow does is removed; an affine map also takes the foreshortening of small turns and
   nods. What is left is in inter-ocular distances (IOD).
4. Signal (`methods.motion`): the mean of the largest `top` share of point motions per frame
   (an expression moves one part of the face; averaging the whole face would dilute it). Slow
   drift is left to the spotter's past baseline (`spotter.past_baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from equime.faces import regions
from equime.verify.drift import STABLE
from equime.verify.geometry import similarity_align

_FARNEBACK = dict(pyr_scale=0.5, levels=2, winsize=7, iterations=2, poly_n=5, poly_sigma=1.1)
_BOX_MARGIN = 0.08
EYE_MARGIN = 0.12  # IOD around each eye (lid crease to lower lid) left out of the grid


@dataclass(frozen=True)
class MotionConfig:
    face_px: int = 96  # flow on the face box resized to this many pixels (its larger side):
    # the same cost and the same motion resolution (relative to the face) at any video size
    grid_spacing: float = 0.06  # IOD between grid points
    top: float = 0.1  # share of points (the most moving) averaged into the signal
    mask_eyes: bool = True
    head: str = "affine"  # head motion removed from the flow: "affine" (6 dof on the stable
    # points: also the foreshortening of small turns and nods) or "similarity" (4 dof)


def _eye_mask(points: np.ndarray, landmarks: np.ndarray, iod: float) -> np.ndarray:
    """True for grid points near either eye: within EYE_MARGIN IOD of the hull of its upper lid
    crease and lower lid (a blink moves the lid and the skin up to the crease)."""
    near = np.zeros(len(points), bool)
    for side in ("R", "L"):
        ring = landmarks[list(regions.UPPER_LID_CREASE[side]) + list(regions.LOWER_LID[side])]
        hull = cv2.convexHull(ring.astype(np.float32))
        dist = np.array([cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in points])
        near |= dist >= -EYE_MARGIN * iod
    return near


class FaceMotion:
    """Flow from the reference frame at grid points of its face, head motion removed."""

    def __init__(self, reference: np.ndarray, landmarks: np.ndarray, cfg: MotionConfig) -> None:
        pts = np.asarray(landmarks, np.float64)
        self.box = regions.face_box(pts, reference.shape[:2], _BOX_MARGIN)
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        self.scale = min(
            1.0, cfg.face_px / max(self.box[1] - self.box[0], self.box[3] - self.box[2])
        )
        self.iod = regions.face_frame(pts).iod
        step = max(cfg.grid_spacing * self.iod, 1.0)
        xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
        grid = np.stack([xs.ravel(), ys.ravel()], 1)
        oval = cv2.convexHull(pts[list(regions.FACE_OVAL)].astype(np.float32))
        inside = np.array(
            [cv2.pointPolygonTest(oval, (float(x), float(y)), False) >= 0 for x, y in grid]
        )
        if cfg.mask_eyes:
            inside &= ~_eye_mask(grid, pts, self.iod)
        origin = np.array([self.box[2], self.box[0]], np.float64)
        self.points = grid[inside] - origin  # full-resolution box coordinates
        self.stable = pts[list(STABLE)] - origin
        self.reference = self._gray(reference)
        self.head = cfg.head

    def _gray(self, rgb: np.ndarray) -> np.ndarray:
        y0, y1, x0, x1 = self.box
        grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
        if self.scale != 1:
            size = (max(8, round((x1 - x0) * self.scale)), max(8, round((y1 - y0) * self.scale)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return grey

    def _sample(self, flow: np.ndarray, points: np.ndarray) -> np.ndarray:
        h, w = flow.shape[:2]
        x = np.clip(np.round(points[:, 0] * self.scale).astype(np.int64), 0, w - 1)
        y = np.clip(np.round(points[:, 1] * self.scale).astype(np.int64), 0, h - 1)
        return flow[y, x].astype(np.float64) / self.scale

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """(points, 2) displacement in IOD from the reference, head motion removed."""
        flow = cv2.calcOpticalFlowFarneback(
            self.reference, self._gray(rgb), None, flags=0, **_FARNEBACK
        )
        n = len(self.stable)
        src = np.concatenate([self.stable, self.points])
        dst = np.concatenate([self.stable + self._sample(flow, self.stable), self.points])
        if self.head == "affine":
            moved = self.stable + self._sample(flow, self.stable)
            fit, *_ = np.linalg.lstsq(np.c_[self.stable, np.ones(n)], moved, rcond=None)
            rigid = np.c_[self.points, np.ones(len(self.points))] @ fit - self.points
        else:
            rigid = similarity_align(src, dst, np.arange(n))[n:] - self.points
        return (self._sample(flow, self.points) - rigid) / self.iod
