"""A second opinion on which AUs a video shows: FACS region directions over the face's optical flow.

The template read-out (`verify.flow`) renders each AU with the generator's own motion table and
fits the video's flow on those renders, so on warp videos it checks the warp against itself. This
read-out uses no part of the generator: for every AU, the FACS manual's description of how the skin
moves (Ekman, Friesen & Hager 2002: AU1 lifts the inner brows, AU4 lowers the brows and draws them
together, AU12 pulls the lip corners up and out, ...) is written below as a few landmark regions
and a direction each, with equal weight and no magnitudes. The optical flow of the video (from the
first frame with a face, head motion removed: `verify.flow.FaceFlow`) is sampled at grid points;
points within `REACH` IOD of a region's landmarks get that region's unit direction. Per frame, a
non-negative least-squares fit of the flow on these direction patterns gives each AU's activation:
the mean motion (IOD) along its FACS directions over its regions. An AU is seen at apex when its
activation stands `z_threshold` baseline SDs above the lead-in, is at least `facs_min_motion` IOD
and at least `facs_min_share` of the strongest AU's at that frame (flow spreads a strong motion a
little onto neighbouring skin; a fraction of it is not an AU of its own).

Two AUs whose patterns point the same way over the same skin (cosine >= `SAME_DIRECTION`: lips
part / lower lip down / jaw drop) cannot be told apart here; as in the template read-out, one seen
where the other was requested is not counted against it. `compare` reports this read-out beside
the template read-out and names every requested AU on which the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from equime.faces import regions as r
from equime.verify.config import VerifyConfig
from equime.verify.curves import AUCurves, _finish, lead_in_count
from equime.verify.geometry import Basis, fit_activations

REACH = 0.06  # IOD: a flow point belongs to a region when this close to one of its landmarks
SAME_DIRECTION = 0.7  # cosine between two AUs' patterns above which they cannot be told apart


@dataclass(frozen=True)
class Pull:
    """Part of an AU's FACS appearance: skin at these landmarks moves this way (face frame:
    `up` up the face, `out` away from the midline; only the direction counts)."""

    points: tuple[int, ...] | dict[str, tuple[int, ...]]
    up: float = 0.0
    out: float = 0.0


def _both(*sets: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    return {s: tuple(i for d in sets for i in d[s]) for s in ("R", "L")}


_MOUTH_CORNER = _both(r.LIP_CORNERS)
_UPPER_LIP_MID = (37, 0, 267, 39, 269, 82, 13, 312)
_LOWER_LIP_MID = (84, 17, 314, 181, 405, 87, 14, 317)
_CHIN_BOSS = (18, 200, 199, 175, 201, 421, 208, 428)

# FACS appearance changes as region directions (the manual's words in the comments).
DIRECTIONS: dict[int, tuple[Pull, ...]] = {
    1: (Pull(r.BROW_INNER, up=1.0),),  # inner corners of the brows raised
    2: (Pull(r.BROW_OUTER, up=1.0),),  # outer parts of the brows raised
    4: (  # brows lowered and pulled together
        Pull(r.BROW_INNER, up=-1.0, out=-1.0),
        Pull(_both(r.BROW_MIDDLE), up=-1.0),
    ),
    5: (Pull(r.UPPER_LID, up=1.0),),  # upper lid raised, more of the eye shows
    6: (  # cheeks lifted, infraorbital skin pushed up, crow's feet
        Pull(_both(r.CHEEK), up=1.0),
        Pull(_both(r.UNDER_EYE), up=1.0),
    ),
    7: (Pull(r.LOWER_LID, up=1.0),),  # lower lid raised and tightened
    9: (Pull(_both(r.NOSE_WING), up=1.0),),  # nose wings and skin along the nose pulled up
    10: (Pull(_UPPER_LIP_MID, up=1.0),),  # upper lip raised (centre)
    12: (Pull(_MOUTH_CORNER, up=1.0, out=1.0),),  # lip corners pulled up and back (obliquely)
    14: (Pull(_MOUTH_CORNER, out=-1.0),),  # lip corners tightened inward, dimples
    15: (Pull(_MOUTH_CORNER, up=-1.0),),  # lip corners pulled down
    16: (Pull(r.LOWER_LIP_OUTER[2:-2], up=-1.0),),  # lower lip pulled down
    17: (Pull(_CHIN_BOSS, up=1.0), Pull(_LOWER_LIP_MID, up=1.0)),  # chin boss and lower lip up
    20: (Pull(_MOUTH_CORNER, out=1.0),),  # lip corners pulled sideways, lips stretched
    23: (  # lips tightened and narrowed: red parts thin toward each other
        Pull(_UPPER_LIP_MID, up=-1.0),
        Pull(_LOWER_LIP_MID, up=1.0),
    ),
    24: (Pull(_UPPER_LIP_MID, up=-1.0), Pull(_LOWER_LIP_MID, up=1.0)),  # lips pressed together
    25: (Pull(r.LOWER_LIP_INNER[2:-2], up=-1.0),),  # lips part
    26: (Pull(_CHIN_BOSS, up=-1.0), Pull(r.LOWER_LIP_OUTER[3:-3], up=-1.0)),  # jaw lowered
}


def _points(points: tuple[int, ...] | dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    return (*points["R"], *points["L"]) if isinstance(points, dict) else tuple(points)


def direction_basis(
    landmarks: np.ndarray, flow_points: np.ndarray, origin: np.ndarray, iod: float
) -> Basis:
    """The FACS direction pattern of every AU at the flow's grid points (box coordinates +
    `origin` = image pixels): unit directions on the AU's regions, so an activation is the
    least-squares motion along them (IOD); rows = points some AU uses."""
    pts = np.asarray(landmarks, np.float64)
    frame = r.face_frame(pts)
    side = np.sign(r.midline_distance(pts))
    where = np.asarray(flow_points, np.float64) + origin
    numbers = tuple(sorted(DIRECTIONS))
    cols = np.zeros((len(where), 2, len(numbers)))
    for j, number in enumerate(numbers):
        for pull in DIRECTIONS[number]:
            ids = np.array(_points(pull.points))
            d2 = ((where[:, None, :] - pts[None, ids, :]) ** 2).sum(-1)
            near = d2.argmin(1)
            inside = np.sqrt(d2.min(1)) <= REACH * iod
            out = pull.out * side[ids[near]]  # away from the midline, per side
            vec = out[:, None] * frame.ex + (-pull.up) * frame.ey  # image axes, y down
            norm = np.linalg.norm(vec, axis=1, keepdims=True)
            cols[inside, :, j] += (vec / np.maximum(norm, 1e-12))[inside]
    rows = np.flatnonzero(np.abs(cols).sum((1, 2)) > 0)
    matrix = cols[rows].reshape(2 * len(rows), len(numbers))
    return Basis(tuple(str(n) for n in numbers), numbers, rows, matrix)


def facs_curves(
    readout, disp: np.ndarray, basis: Basis, cfg: VerifyConfig
) -> AUCurves:  # readout: verify.readout.Readout
    """FACS-direction activations per read frame -> AU curves (baseline, detrend, smoothing and
    noise as every read-out)."""
    act = fit_activations(disp, basis, robust=cfg.robust)
    n_lead = lead_in_count(readout, cfg)
    raw = pd.DataFrame(act).interpolate(limit_direction="both").fillna(0.0).to_numpy()
    raw = raw - raw[:n_lead].mean(axis=0)
    values, noise = _finish(raw, n_lead, cfg, cfg.facs_noise_floor)
    numbers = list(basis.numbers)
    sim = basis.similarity()
    return AUCurves(
        frames=readout.frames,
        values=pd.DataFrame(values, index=pd.Index(readout.frames, name="frame"), columns=numbers),
        noise=pd.Series(noise, index=numbers),
        lead_in=n_lead,
        readout="facs",
        min_rise=cfg.facs_min_motion,
        explains={
            a: tuple(b for j, b in enumerate(numbers) if j != i and sim[i, j] >= SAME_DIRECTION)
            for i, a in enumerate(numbers)
        },
    )


def seen_at(curves: AUCurves, frame: int, cfg: VerifyConfig) -> tuple[list[int], np.ndarray]:
    """AUs whose activation at `frame` (mean over +- `apex_window` read frames) rose, and z."""
    i = int(np.searchsorted(curves.frames, frame))
    lo, hi = max(i - cfg.apex_window, 0), min(i + cfg.apex_window + 1, len(curves.frames))
    act = curves.values.iloc[lo:hi].mean().to_numpy()
    z = act / curves.noise.to_numpy()
    least = np.broadcast_to(np.asarray(curves.min_rise, np.float64), act.shape)
    aus = [int(a) for a in curves.values.columns]
    return [
        a for a, v, s, m in zip(aus, act, z, least, strict=True) if s >= cfg.z_threshold and v >= m
    ], z


def _join(numbers) -> str:
    return "+".join(str(n) for n in sorted(numbers))


def compare(
    curves: AUCurves,
    apex: int,
    want: dict[int, float],
    template_measured: list[int],
    template_explains: dict[int, tuple[int, ...]],
    cfg: VerifyConfig,
) -> dict:
    """The second opinion's columns for one video: what it saw at the (template read-out's) apex,
    its AU F1 against the request, and the requested AUs on which the two read-outs disagree."""
    measured, z = seen_at(curves, apex, cfg)
    explains = curves.explains or {}

    def shows(a: int, seen: list[int], ex: dict[int, tuple[int, ...]]) -> bool:
        return a in seen or any(m in ex.get(a, ()) for m in seen)

    seen = [a for a in want if shows(a, measured, explains)]
    explained = [m for m in measured if m in want or any(m in explains.get(q, ()) for q in want)]
    recall = len(seen) / len(want) if want else float("nan")
    precision = len(explained) / len(measured) if measured else (float("nan") if not want else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if want and precision + recall > 0 else 0.0
    # an AU the FACS patterns cannot tell from another requested AU (AU24 beside AU23) has no
    # opinion of its own here: seeing that other AU is no evidence for or against it
    blind = {a for a in want if a not in measured and any(b in want for b in explains.get(a, ()))}
    disagree = [
        a
        for a in sorted(set(want) - blind)
        if shows(a, template_measured, template_explains) != shows(a, measured, explains)
    ]
    detail = [
        f"AU{a}: template {'yes' if shows(a, template_measured, template_explains) else 'no'}, "
        f"FACS {'yes' if shows(a, measured, explains) else 'no'}"
        for a in disagree
    ]
    aus = [int(a) for a in curves.values.columns]
    return {
        "facs_measured_aus": _join(measured),
        "facs_au_precision": precision,
        "facs_au_recall": recall,
        "facs_au_f1": f1 if want else float("nan"),
        "facs_au_z": " ".join(f"{a}:{s:.1f}" for a, s in zip(aus, z, strict=True) if s >= 2),
        "verify_disagree_aus": _join(disagree),
        "verify_disagreement": "; ".join(detail),
    }


def second_opinion(readout, curves: AUCurves, apex: int, requested: dict, measured: str, cfg):
    """`compare` for one video: the flow comes from the template read-out when it measured it
    (`AUCurves.motion`, the flow read-out), else it is measured here."""
    from equime.verify.fidelity import requested_numbers
    from equime.verify.flow import FaceFlow
    from equime.verify.readout import iter_frames

    if readout.first is None or readout.path is None or not readout.detected.any():
        return {}
    landmarks = readout.landmarks[int(np.argmax(readout.detected))]
    if curves.motion is not None:
        face_flow, disp = curves.motion
    else:
        face_flow = FaceFlow(readout.first, landmarks, cfg.grid_spacing)
        wanted = set(readout.frames.tolist())
        disp = np.stack(
            [face_flow(rgb) for t, rgb in enumerate(iter_frames(readout.path)) if t in wanted]
        )
    origin = np.array([face_flow.box[2], face_flow.box[0]], np.float64)
    basis = direction_basis(landmarks, face_flow.points, origin, face_flow.iod)
    disp = np.where(readout.detected[:, None, None], disp, np.nan)
    facs = facs_curves(readout, disp, basis, cfg)
    template = [int(a) for a in str(measured).split("+") if a]
    want = requested_numbers(requested)
    return compare(facs, apex, want, template, curves.explains or {}, cfg)
