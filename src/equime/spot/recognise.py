"""Spot-then-recognise, the baseline way: name each spotted interval's emotion from the AUs its
apex shows, through the same f_Z that labels EquiME's videos (`facs.scm.f_z`).

The AUs come from verify's flow read-out (`verify.flow`): AU flow templates rendered on the
video's reference frame (the first with a face), the flow from that frame to the interval's apex,
and a robust non-negative fit (`verify.geometry.fit_activations`). An AU counts at `min_activation`
of its unit motion (verify's own rise threshold), mapped back to an intensity through the warp's
response curve. The predicted `emotion` column makes `score_spots` report STRS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from equime.facs.aus import parse_code
from equime.facs.scm import f_z
from equime.verify.config import VerifyConfig


def apex_aus(activations: np.ndarray, codes: tuple[str, ...], least: float) -> dict[str, float]:
    """One apex's activations per basis code -> Z (code -> intensity) of the AUs that rose."""
    from equime.verify.geometry import intensity

    return {
        code: round(float(intensity(parse_code(code)[1], a)), 3)
        for code, a in zip(codes, activations, strict=True)
        if a >= least
    }


def recognise(
    path: Path, spots: list[dict], landmarker, cfg: VerifyConfig | None = None
) -> list[dict]:
    """`spots` with `emotion` (f_Z of the apex's AUs; 'neutral' when none rose) and `aus` added."""
    from equime.verify.flow import FaceFlow, flow_templates
    from equime.verify.geometry import fit_activations
    from equime.verify.readout import iter_frames

    cfg = cfg or VerifyConfig()
    if not spots:
        return spots
    wanted = {int(s["apex"]) for s in spots}
    reference, landmarks, apex_frames = None, None, {}
    for t, rgb in enumerate(iter_frames(path)):
        if reference is None:
            found = landmarker.detect(rgb)
            if found:
                reference, landmarks = rgb, found[0].landmarks
        if t in wanted:
            apex_frames[t] = rgb
        if t >= max(wanted) and reference is not None:
            break
    if reference is None:
        return [{**s, "emotion": "", "aus": ""} for s in spots]
    face_flow = FaceFlow(reference, landmarks, cfg.grid_spacing)
    basis = flow_templates(reference, landmarks, face_flow, cfg.template_intensity, cfg.min_motion)
    disp = np.stack([face_flow(apex_frames[int(s["apex"])]) for s in spots])
    act = fit_activations(disp, basis, robust=cfg.robust)
    out = []
    for s, a in zip(spots, act, strict=True):
        z = apex_aus(a, basis.codes, cfg.min_activation)
        emotion = f_z(z)[0] if z else "neutral"
        out.append({**s, "emotion": emotion, "aus": "+".join(f"{c}:{v:.2f}" for c, v in z.items())})
    return out
