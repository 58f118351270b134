"""The `flow` input: onset -> apex optical flow on the aligned face crop, the input of the field's
strong recognisers (STSTNet, Liong et al. FG 2019; Off-ApexNet, Gan et al. 2019; HTNet, Wang et
al. 2024). What carries a micro-expression from one person to another is the motion, not the
pixels.

1. Both frames are warped by the onset frame's alignment (mer.preprocess): one canonical crop of
   `crop` pixels (128), the same transform for both.
2. Farneback flow (OpenCV; the verify read-out's settings) from onset to apex, on grayscale.
3. Head motion out: the similarity transform that best explains the flow at the stable landmarks
   (upper face outline, nose bridge, eye corners: verify.drift.STABLE) is subtracted; with no face
   found, the similarity fitted to the whole field.
4. Channels: the flow averaged down to `size` x `size` (area average): horizontal u, vertical v
   (percent of the crop side) and optical strain sqrt(u_x^2 + v_y^2 + (u_y + v_x)^2 / 2)
   (percent) of that averaged flow.

Apex: the annotated one. Where the dataset has none (`apex_source` not 'sheet', e.g. SMIC's
midpoint, MiE-X's last frame, or apex < 0), the frame between onset and offset whose flow from
the onset is largest (mean magnitude, head motion out), searched every 1/`ESTIMATE_FPS` s of real
time, as MEB estimates apexes from optical flow; `apex_estimated` records it.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pandas as pd

from equime.faces.align import similarity_matrix
from equime.mer.clips import row_frames
from equime.mer.preprocess import Aligner, Preprocess, fps_of, onset_position, time_indices, warp

ESTIMATE_FPS = 50.0  # apex candidates per second of real time
ANNOTATED = ("sheet", "errata", "ground truth", "generator", "metadata")
NO_APEX_DATASETS = ("smic",)  # datasets whose sheets have no apex (when apex_source is absent)
CHANNELS = ("u", "v", "strain")


def _farneback() -> dict[str, Any]:
    from equime.verify.flow import _FARNEBACK

    return dict(_FARNEBACK)


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def apex_is_annotated(row: pd.Series) -> bool:
    source = str(row.get("apex_source", "") or "").strip().lower()
    if int(row.get("apex", -1)) < 0:
        return False
    if source:
        return source in ANNOTATED
    return str(row.get("dataset", "")) not in NO_APEX_DATASETS


def dense_flow(onset: np.ndarray, frame: np.ndarray, stable: np.ndarray | None) -> np.ndarray:
    """(H, W, 2) Farneback flow onset -> frame (crop pixels), head motion (similarity) out."""
    flow = cv2.calcOpticalFlowFarneback(_gray(onset), _gray(frame), None, flags=0, **_farneback())
    h, w = flow.shape[:2]
    if stable is not None:
        pts = np.clip(np.round(stable).astype(np.int64), 0, [w - 1, h - 1])
    else:
        ys, xs = np.mgrid[0:h:4, 0:w:4]
        pts = np.stack([xs.ravel(), ys.ravel()], 1)
    moved = pts + flow[pts[:, 1], pts[:, 0]]
    matrix = similarity_matrix(pts.astype(np.float64), moved.astype(np.float64))
    ys, xs = np.mgrid[0:h, 0:w]
    grid = np.stack([xs, ys], -1).astype(np.float64)
    rigid = grid @ matrix[:, :2].T + matrix[:, 2] - grid
    return (flow - rigid).astype(np.float32)


def flow_channels(flow: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 2) flow in crop pixels -> (3, size, size) float32: u, v (percent of the crop side)
    and strain (percent), the strain taken on the flow averaged down to `size`: at full
    resolution it mostly measures Farneback's noise on skin texture, which differs between
    people (a grainy photo, an older face) more than between expressions."""
    side = flow.shape[0]
    small = cv2.resize(flow.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    u, v = small[..., 0].astype(np.float64), small[..., 1].astype(np.float64)
    cell = side / size  # crop pixels per input pixel: gradients in crop px per crop px
    uy, ux = np.gradient(u / cell)
    vy, vx = np.gradient(v / cell)
    strain = np.sqrt(ux**2 + vy**2 + 0.5 * (uy + vx) ** 2)
    stack = np.stack([u * 100 / side, v * 100 / side, strain * 100])
    return np.ascontiguousarray(stack.astype(np.float32))


def _stable_points(landmarks: np.ndarray | None) -> np.ndarray | None:
    if landmarks is None:
        return None
    from equime.verify.drift import STABLE

    return landmarks[list(STABLE)]


def apex_candidates(row: pd.Series, total: int) -> list[int]:
    """Positions after the onset, up to the offset (the source's end when unknown), every
    1/ESTIMATE_FPS seconds of real time (time-normalised, so any frame rate searches alike)."""
    onset = onset_position(row)
    offset = int(row.get("offset", -1))
    end = offset if onset < offset < total else total - 1
    fps = fps_of(row)
    n = int((end - onset) * ESTIMATE_FPS / fps) + 2
    found = [i for i in time_indices(onset, total, n, fps, ESTIMATE_FPS) if onset < i <= end]
    return sorted(set(found)) or [min(onset + 1, total - 1)]


def prepare_flow(row: pd.Series, prep: Preprocess, size: int) -> tuple[np.ndarray, dict]:
    """(3, size, size) float32 flow input of one clip, and what was used (apex, estimated,
    aligned)."""
    from equime.mer.sampling import source_length

    total = source_length(row)
    onset = min(onset_position(row), total - 1)
    annotated = apex_is_annotated(row)
    if annotated:
        wanted = [onset, min(int(row["apex"]), total - 1)]
    else:
        wanted = [onset, *apex_candidates(row, total)]
    frames = row_frames(row, sorted(set(wanted)))
    position = {p: k for k, p in enumerate(sorted(set(wanted)))}
    matrix, aligned, landmarks = Aligner.matrix(frames[position[onset]], prep.crop)
    crops = warp(frames, matrix, prep.crop)
    reference = crops[position[onset]]
    stable = _stable_points(landmarks)
    if annotated:
        apex = wanted[1]
        flow = dense_flow(reference, crops[position[apex]], stable)
    else:
        best = (-1.0, onset, None)
        for p in wanted[1:]:
            field = dense_flow(reference, crops[position[p]], stable)
            magnitude = float(np.linalg.norm(field, axis=-1).mean())
            if magnitude > best[0]:
                best = (magnitude, p, field)
        _, apex, flow = best
    info = {"apex_used": int(apex), "apex_estimated": not annotated, "aligned": bool(aligned)}
    return flow_channels(flow, size), info


def flow_picture(channels: np.ndarray, side: int = 224) -> np.ndarray:
    """(3, S, S) flow input -> (side, side, 3) RGB uint8 for a person: hue is the direction of
    motion, brightness its size relative to the clip's largest (the usual optical-flow colour
    wheel, Baker et al. 2011)."""
    u, v = channels[0].astype(np.float32), channels[1].astype(np.float32)
    magnitude, angle = cv2.cartToPolar(u, v, angleInDegrees=True)
    top = float(np.quantile(magnitude, 0.99)) or 1.0
    hsv = np.zeros((*u.shape, 3), np.uint8)
    hsv[..., 0] = (angle / 2).astype(np.uint8)  # OpenCV hue: 0-179
    hsv[..., 1] = 255
    hsv[..., 2] = np.clip(magnitude / top * 255, 0, 255).astype(np.uint8)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_NEAREST)
