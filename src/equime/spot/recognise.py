"""Spot-then-recognise, the baseline way: name each spotted interval's emotion from the AUs its
apex shows, through the same f_Z that labels EquiME's videos (`facs.scm.f_z`).

The AUs come from the mesh read-out (`faces.au_readout`): landmarks at the interval's onset (the
face just before it moves) and at its apex, head motion removed, fitted by non-negative least
squares on a model of how real faces move for each AU (py-feat's AU -> mesh regression). Nothing
of the generator (its motion, its templates) enters the read-out, so naming a generated video's
emotion is not the generator agreeing with itself, and real footage is read the same way. An AU
counts at `min_activation` of its E motion; the activation is its intensity. The predicted
`emotion` column makes `score_spots` report STRS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from equime.faces.au_readout import read_aus
from equime.facs.scm import f_z
from equime.verify.config import VerifyConfig


def apex_aus(activations: np.ndarray, numbers: list[int], least: float) -> dict[str, float]:
    """One apex's activations per AU number -> Z (code -> intensity, clipped to 0-1) of the AUs
    that rose."""
    return {
        str(n): round(float(min(a, 1.0)), 3)
        for n, a in zip(numbers, activations, strict=True)
        if a >= least
    }


def recognise(
    path: Path, spots: list[dict], landmarker, cfg: VerifyConfig | None = None
) -> list[dict]:
    """`spots` with `emotion` (f_Z of the apex's AUs; 'neutral' when none rose; '' when no face
    is found at onset or apex) and `aus` added."""
    from equime.verify.readout import iter_frames

    cfg = cfg or VerifyConfig()
    if not spots:
        return spots
    wanted = {int(s[k]) for s in spots for k in ("onset", "apex")}
    marks: dict[int, np.ndarray] = {}
    for t, rgb in enumerate(iter_frames(path)):
        if t in wanted:
            found = landmarker.detect(rgb)
            if found:
                marks[t] = np.asarray(found[0].landmarks, np.float64)
        if t >= max(wanted):
            break
    out = []
    for s in spots:
        onset, apex = marks.get(int(s["onset"])), marks.get(int(s["apex"]))
        if onset is None or apex is None:
            out.append({**s, "emotion": "", "aus": ""})
            continue
        numbers, act = read_aus(np.stack([onset, apex]), onset)
        z = apex_aus(act[1], numbers, cfg.min_activation)
        emotion = f_z(z)[0] if z else "neutral"
        out.append({**s, "emotion": emotion, "aus": "+".join(f"{c}:{v:.2f}" for c, v in z.items())})
    return out
