"""The `data` motion source (default): each AU moves every mesh vertex as real faces do.

The real-data model (`faces.au_mesh`: py-feat's AU -> 478-vertex regression, head pose removed,
scaled to the documented E displacement) is fitted onto the face and projected into the image; all
of its vertices are the warp's control points. Pinned: the side band the model cannot tell from head
pose (face outline, side of the head), the irises (the eyeball does not move with the lids) and,
for a one-sided code, the other half of the face (midline vertices move at half strength). AUs the
model lacks (AU16) keep the hand-written table (`synth.au_motion`).
"""

from __future__ import annotations

import numpy as np

from equime.faces import regions
from equime.faces.au_mesh import au_pixels, load_au_mesh
from equime.facs.aus import parse_code
from equime.synth.au_motion import table_motion
from equime.synth.motion_source import UnitMotion, register_motion_source

SIGMA = 0.1  # IOD: about the mesh's vertex spacing inside the face
_IRIS = tuple(i for side in ("R", "L") for i in regions.IRIS[side])


@register_motion_source("data")
def data_motion(landmarks: np.ndarray, code: str) -> UnitMotion:
    side, number, _ = parse_code(code)
    mesh = load_au_mesh()
    if number not in mesh.numbers:
        return table_motion(landmarks, code)
    pts = np.asarray(landmarks, np.float64)
    disp = au_pixels(pts, number, mesh)
    weight = regions.side_share(pts, side)
    held = set(mesh.band.tolist()) | set(_IRIS) | set(np.flatnonzero(weight == 0).tolist())
    moving = np.array([i for i in range(len(disp)) if i not in held], dtype=np.int64)
    return UnitMotion(
        moving,
        disp[moving] * weight[moving, None],
        np.array(sorted(held), dtype=np.int64),
        SIGMA * regions.face_frame(pts).iod,
        exact=True,
    )
