"""AU read-out, step 2: per-AU activation curves relative to the neutral lead-in, smoothed, with
each AU's baseline noise. Four read-outs (a registry, `READOUTS`): `flow` (default: AU activations
fitted to the face's optical flow, `verify.flow`), `landmarks` (fitted to the landmark geometry,
`verify.geometry`), `mesh` (landmark geometry on the real-data model's basis, `faces.au_readout`)
and `blendshapes` (below).

Blendshapes:
activation_AU(t) = mean over the AU's blendshapes of (score(t) - mean score over the lead-in), on
the side (Left/Right blendshapes) that moved more, minus
its slow trend (a running median over `detrend` frames: a micro-expression is a short rise and fall,
while head motion and lighting drift move some blendshapes, eyeWide and eyeSquint above all, slowly
and steadily across a clip), then a 3-frame median (drops single-frame detector glitches) and a
centred moving average. The
noise of an AU is the SD of its smoothed curve over the lead-in, raised to the upper end of its 95%
confidence interval (a short lead-in under-estimates it: x1.23 for 40 frames, x1.64 for 10): a rise
is only believed when it stands out from what the detector does on a still face in the same video.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter, uniform_filter1d

from equime.errors import EquimeError
from equime.facs.blendshapes import au_blendshapes
from equime.verify.config import VerifyConfig
from equime.verify.readout import Readout, iter_frames


@dataclass(frozen=True)
class AUCurves:
    frames: np.ndarray  # (n,) video frame index of each read frame
    values: pd.DataFrame  # (n, AUs): baseline-subtracted, smoothed activation; columns = AU numbers
    noise: pd.Series  # per AU: SD over the lead-in (floored)
    lead_in: int  # number of read frames in the baseline
    readout: str = "blendshapes"
    min_rise: float | pd.Series = 0.01  # least activation that counts as a rise (score, or share
    # of motion per AU)
    explains: dict[int, tuple[int, ...]] | None = None  # AU -> AUs the read-out cannot tell
    # from it (a measured AU listed under a requested one is not counted as unrequested)
    motion: tuple | None = None  # flow read-out: (FaceFlow, (n, points, 2) IOD) it measured, so
    # the second opinion (`verify.directions`) reads the same flow without measuring it again

    def z(self) -> pd.DataFrame:
        """Activations in units of each AU's baseline noise."""
        return self.values / self.noise


def lead_in_count(readout: Readout, cfg: VerifyConfig) -> int:
    """Read frames inside the first `lead_in` share of the clip (at least `min_lead_in`)."""
    inside = int((readout.frames < cfg.lead_in * readout.n_frames).sum())
    return min(max(inside, cfg.min_lead_in), len(readout.frames))


def smooth(values: np.ndarray, width: int) -> np.ndarray:
    """Median of 3 then a centred moving average of `width`, along axis 0 (edges repeated)."""
    if len(values) >= 3:
        values = median_filter(values, size=(3, 1), mode="nearest")
    if width > 1:
        values = uniform_filter1d(values, size=width, axis=0, mode="nearest")
    return values


def side_max(delta: pd.DataFrame, names: tuple[str, ...]) -> np.ndarray:
    """An AU's activation: the mean of its blendshapes on the side that moved more (so a one-sided
    AU such as contempt's R12 is not halved); unsided names count for both sides."""
    both = [n for n in names if not n.endswith(("Left", "Right"))]
    sides = [[n for n in names if n.endswith(end)] + both for end in ("Left", "Right")]
    sides = [s for s in sides if s] or [list(names)]
    if all(sorted(s) == sorted(sides[0]) for s in sides):
        return delta[list(names)].mean(axis=1).to_numpy()
    return np.max([delta[s].mean(axis=1).to_numpy() for s in sides], axis=0)


def upper_sd_factor(n: int, confidence: float = 0.95) -> float:
    """SD from n samples -> the upper bound of its one-sided `confidence` interval (chi-square)."""
    if n < 2:
        return float("inf")
    from scipy.stats import chi2

    return float(np.sqrt((n - 1) / chi2.ppf(1.0 - confidence, n - 1)))


def _finish(raw: np.ndarray, n_lead: int, cfg: VerifyConfig, floor: float) -> tuple:
    """Detrend, smooth, and the noise per AU (upper 95 % bound of the lead-in SD, floored)."""
    window = round(cfg.detrend / cfg.every) | 1  # odd, in read frames
    if cfg.detrend and window >= 5 and len(raw) > window:
        raw = raw - median_filter(raw, size=(window, 1), mode="nearest")
    values = smooth(raw, cfg.smooth)
    noise = np.maximum(values[:n_lead].std(axis=0, ddof=1) * upper_sd_factor(n_lead), floor)
    return values, noise


def blendshape_curves(readout: Readout, cfg: VerifyConfig, landmarker=None) -> AUCurves:
    """Blendshape scores -> AU curves (the mapping in data/au_blendshapes.json)."""
    from equime.facs.blendshapes import share_blendshapes

    scores = readout.blendshapes.interpolate(limit_direction="both").fillna(0.0)
    n_lead = lead_in_count(readout, cfg)
    delta = scores - scores.iloc[:n_lead].mean()
    table = au_blendshapes()
    raw = np.stack([side_max(delta, names) for names in table.values()], 1)
    raw = raw - raw[:n_lead].mean(axis=0)  # the max of two sides is biased upward; recentre
    values, noise = _finish(raw, n_lead, cfg, cfg.noise_floor)
    columns = list(table)
    return AUCurves(
        frames=readout.frames,
        values=pd.DataFrame(values, index=pd.Index(readout.frames, name="frame"), columns=columns),
        noise=pd.Series(noise, index=columns),
        lead_in=n_lead,
        readout="blendshapes",
        min_rise=cfg.min_rise,
        explains={a: tuple(b for b in table if b != a and share_blendshapes(a, b)) for a in table},
    )


def _lead_reference(
    readout: Readout, cfg: VerifyConfig, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """The lead-in frames with a face and their mean landmarks: the neutral reference."""
    lead = np.flatnonzero(readout.detected[: lead_in_count(readout, cfg)])
    if len(lead) == 0:
        raise EquimeError(f"no face in the lead-in: the {name} read-out has no reference")
    return lead, np.nanmean(readout.landmarks[lead].astype(np.float64), axis=0)


def _geometry_activations(
    readout: Readout,
    cfg: VerifyConfig,
    basis,
    lead: np.ndarray,
    ref: np.ndarray,
    robust: float = 0.0,
    ridge: float = 0.0,
) -> AUCurves:
    """NNLS activations of the landmark displacements on `basis`, the lead-in's jitter modes out."""
    from equime.faces.au_fit import displacements, fit_activations
    from equime.verify import geometry

    disp = displacements(readout.landmarks, ref)
    modes = min(cfg.jitter_modes, len(lead) // 10)  # a short lead-in cannot tell its modes
    if modes:
        basis = geometry.without_jitter(basis, disp[lead], modes)
    act = fit_activations(disp, basis, robust=robust, ridge=ridge)
    return _activation_curves(readout, act, basis, cfg)


def landmark_curves(readout: Readout, cfg: VerifyConfig, landmarker=None) -> AUCurves:
    """Landmark geometry -> AU curves: NNLS activations on AU templates (`verify.geometry`)."""
    from equime.verify import geometry

    lead, ref = _lead_reference(readout, cfg, "landmark")
    if readout.first is None or landmarker is None:
        raise EquimeError("no face in the lead-in: the landmark read-out has no reference")
    basis = geometry.template_basis(readout.first, landmarker, cfg.template_intensity)
    if basis is None:
        raise EquimeError("no face in the first frame: the landmark read-out has no templates")
    return _geometry_activations(readout, cfg, basis, lead, ref)


def mesh_curves(readout: Readout, cfg: VerifyConfig, landmarker=None) -> AUCurves:
    """Landmark geometry -> AU curves on the real-data model's basis (`faces.au_readout`): no
    template is rendered, so nothing of the generator enters the read-out."""
    from equime.faces.au_readout import RIDGE, mesh_basis

    lead, ref = _lead_reference(readout, cfg, "mesh")
    basis = mesh_basis(ref)
    return _geometry_activations(readout, cfg, basis, lead, ref, robust=cfg.robust, ridge=RIDGE)


def flow_curves(readout: Readout, cfg: VerifyConfig, landmarker=None) -> AUCurves:
    """Optical flow -> AU curves: NNLS activations on flow templates (`verify.flow`)."""
    from equime.verify import geometry
    from equime.verify.flow import FaceFlow, flow_templates

    if readout.first is None or readout.path is None:
        raise EquimeError("no face found: the flow read-out has no reference frame")
    landmarks = readout.landmarks[int(np.argmax(readout.detected))]
    face_flow = FaceFlow(readout.first, landmarks, cfg.grid_spacing)
    basis = flow_templates(
        readout.first, landmarks, face_flow, cfg.template_intensity, cfg.min_motion
    )
    wanted = set(readout.frames.tolist())
    disp = np.stack(
        [face_flow(rgb) for t, rgb in enumerate(iter_frames(readout.path)) if t in wanted]
    )
    act = geometry.fit_activations(disp, basis, robust=cfg.robust)
    curves = _activation_curves(readout, act, basis, cfg)
    return replace(curves, motion=(face_flow, disp))


def _activation_curves(readout: Readout, act: np.ndarray, basis, cfg: VerifyConfig) -> AUCurves:
    """Per-code NNLS activations -> AU curves (larger side per AU), baseline-subtracted, detrended,
    smoothed, with each AU's noise and least rise."""
    from equime.verify.geometry import by_number

    n_lead = lead_in_count(readout, cfg)
    numbers, raw = by_number(act, basis)
    raw = pd.DataFrame(raw).interpolate(limit_direction="both").fillna(0.0).to_numpy()
    raw = raw - raw[:n_lead].mean(axis=0)
    values, noise = _finish(raw, n_lead, cfg, cfg.activation_noise_floor)
    sim = basis.similarity()
    # the least rise per AU: a share of its unit motion, and at least `min_motion` IOD of motion
    # at its peak (an AU whose whole motion is tiny, such as AU23, must not read noise as itself)
    peak = np.linalg.norm(basis.matrix.reshape(len(basis.rows), 2, -1), axis=1).max(axis=0)
    peak_by_au = {
        k: max(p for n, p in zip(basis.numbers, peak, strict=True) if n == k) for k in numbers
    }
    least = pd.Series(
        [max(cfg.min_activation, cfg.min_motion / max(peak_by_au[k], 1e-9)) for k in numbers],
        index=numbers,
    )
    return AUCurves(
        frames=readout.frames,
        values=pd.DataFrame(values, index=pd.Index(readout.frames, name="frame"), columns=numbers),
        noise=pd.Series(noise, index=numbers),
        lead_in=n_lead,
        readout=cfg.readout,
        min_rise=least,
        explains={
            a: tuple(b for j, b in enumerate(numbers) if j != i and sim[i, j] >= SAME_MOTION)
            for i, a in enumerate(numbers)
        },
    )


SAME_MOTION = 0.9  # cosine between two AUs' templates (flow or landmarks) above which the
# read-out cannot tell them apart

READOUTS: dict[str, Callable[..., AUCurves]] = {
    "flow": flow_curves,
    "landmarks": landmark_curves,
    "mesh": mesh_curves,
    "blendshapes": blendshape_curves,
}


def au_curves(readout: Readout, cfg: VerifyConfig, landmarker=None) -> AUCurves:
    """The curves of `cfg.readout` (landmarks need the `landmarker` to detect their templates)."""
    return READOUTS[cfg.readout](readout, cfg, landmarker)
