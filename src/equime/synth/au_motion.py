"""How each Action Unit moves the face: landmark sets, directions and magnitudes, as data.

Directions live in the face frame (`equime.faces.regions.face_frame`): `up` lifts a landmark up the
face, `out` pushes it away from the facial midline (negative = toward it). Magnitudes are the
displacement at FACS intensity E (1.0), in inter-ocular distances (IOD; 1 IOD ~ 63 mm, the adult
mean interpupillary distance, Dodgson 2004, "Variation and extrema of human interpupillary
distance"). One intensity scale: an AU at intensity i moves every landmark i times its E motion,
exactly (`response` is the identity; no hidden gain), so the intensity recorded in the metadata is
the share of the E motion the video shows, and `tests/test_intensity_scale.py` measures it back from
rendered frames. `FULL_DISPLACEMENT` lists each AU's largest E displacement and where the number
comes from (docs/generator.md has the table).

`hold` lists landmarks pinned in place for that AU (the iris when a lid moves, the other lip when
one lip moves), so the motion stays where the anatomy puts it. `sigma` is how far (IOD) the skin
around a moving landmark is dragged along. The MediaPipe blendshapes each AU's motion must raise
(so a detector sees it) are data in `equime.facs.blendshapes` (data/au_blendshapes.json), shared
with the verify read-out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equime.errors import EquimeError
from equime.faces import regions as r
from equime.facs.aus import AUS, parse_code
from equime.facs.magnitudes import E_SOURCE
from equime.synth.motion_source import UnitMotion, register_motion_source


def _idx(*sets: tuple[int, ...] | dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    """Flatten sided dicts and plain tuples into one index tuple (ordered, no duplicates)."""
    out: list[int] = []
    for s in sets:
        items = (*s["R"], *s["L"]) if isinstance(s, dict) else s
        out.extend(i for i in items if i not in out)
    return tuple(out)


@dataclass(frozen=True)
class Move:
    points: tuple[int, ...]  # landmark indices
    up: float = 0.0  # IOD per unit intensity, + = up the face
    out: float = 0.0  # IOD per unit intensity, + = away from the midline


@dataclass(frozen=True)
class AUMotion:
    moves: tuple[Move, ...]
    hold: tuple[int, ...] = ()
    sigma: float = 0.12  # IOD


# Landmark groups used below (beyond the region sets).
_LIP_SIDES = (40, 39, 91, 181, 270, 269, 321, 405)  # lip points between corner and centre
_LIP_CENTRE_UPPER = (37, 0, 267, 82, 13, 312)
_LIP_CENTRE_LOWER = (84, 17, 314, 87, 14, 317)
_MOUTH_CHEEK = (206, 203, 216, 212, 186, 92, 426, 423, 436, 432, 410, 322)  # beside the corners
_NASOLABIAL = (205, 187, 147, 36, 425, 411, 376, 266)
_FOREHEAD_INNER = (108, 9, 151, 337, 69, 299)
_FOREHEAD_OUTER = (104, 103, 54, 68, 71, 333, 332, 284, 298, 301)
_NOSE_TIP = (1, 4, 19, 94)
_JAW_LOW = (176, 148, 152, 377, 400, 149, 378, 150, 379)
_EYES = _idx(r.UPPER_LID, r.LOWER_LID, r.IRIS, r.EYE_CORNERS)

MOTIONS: dict[int, AUMotion] = {
    1: AUMotion(
        moves=(
            Move(_idx(r.BROW_INNER), up=0.13),
            Move(_idx(r.BROW_MIDDLE), up=0.06),
            Move(_FOREHEAD_INNER, up=0.05),
        ),
        hold=_EYES,
        sigma=0.14,
    ),
    2: AUMotion(
        moves=(
            Move(_idx(r.BROW_OUTER), up=0.13),
            Move(_idx(r.BROW_MIDDLE), up=0.07),
            Move(_FOREHEAD_OUTER, up=0.05),
        ),
        hold=_EYES,
        sigma=0.14,
    ),
    4: AUMotion(
        moves=(
            Move(_idx(r.BROW_INNER), up=-0.06, out=-0.08),  # with AU1: raised and drawn in
            Move(_idx(r.BROW_MIDDLE), up=-0.10, out=-0.04),
            Move(_idx(r.BROW_OUTER), up=-0.07),
            Move(_FOREHEAD_INNER, up=-0.04, out=-0.03),
        ),
        hold=_idx(r.LOWER_LID, r.IRIS, r.NOSE_BRIDGE),
        sigma=0.14,
    ),
    5: AUMotion(
        moves=(Move(_idx(r.UPPER_LID), up=0.07), Move(_idx(r.UPPER_LID_CREASE), up=0.04)),
        hold=_idx(r.LOWER_LID, r.IRIS, r.EYE_CORNERS),
        sigma=0.06,
    ),
    6: AUMotion(
        moves=(
            Move(_idx(r.CHEEK), up=0.07),
            Move(_idx(r.UNDER_EYE), up=0.06),
            Move(_idx(r.LOWER_LID_RING), up=0.05),
            Move(_idx(r.LOWER_LID), up=0.04),
        ),
        hold=_idx(r.UPPER_LID, r.IRIS),
        sigma=0.12,
    ),
    7: AUMotion(
        moves=(
            Move(_idx(r.LOWER_LID), up=0.045),
            Move(_idx(r.LOWER_LID_RING), up=0.035),
            Move(_idx(r.UPPER_LID), up=-0.005),
        ),
        hold=_idx(r.IRIS),
        sigma=0.1,
    ),
    9: AUMotion(
        moves=(
            Move(_idx(r.NOSE_WING), up=0.08),
            Move(_idx(r.BROW_INNER), up=-0.04, out=-0.02),
            Move(r.PHILTRUM, up=0.05),
            Move(r.UPPER_LIP_OUTER, up=0.05),  # the wrinkle drags the upper lip up with it
        ),
        hold=_idx(r.IRIS, r.LOWER_LIP),
        sigma=0.1,
    ),
    10: AUMotion(
        moves=(
            Move(r.UPPER_LIP_OUTER, up=0.08),
            Move(r.UPPER_LIP_INNER, up=0.07),
            Move(r.PHILTRUM, up=0.04),
            Move(_idx(r.NOSE_WING), up=0.02),
        ),
        hold=_idx(r.LOWER_LIP, _NOSE_TIP),
        sigma=0.09,
    ),
    12: AUMotion(
        moves=(
            Move(_idx(r.LIP_CORNERS), up=0.11, out=0.08),
            Move(_LIP_SIDES, up=0.02, out=0.04),
            Move(_MOUTH_CHEEK, up=0.05, out=0.04),
            Move(_NASOLABIAL, up=0.03, out=0.01),
        ),
        hold=_LIP_CENTRE_UPPER + _LIP_CENTRE_LOWER,  # a smile pulls corners, not the lip centre
        sigma=0.14,
    ),
    14: AUMotion(
        moves=(
            Move(_idx(r.LIP_CORNERS), up=0.01, out=-0.06),
            Move(_LIP_SIDES, out=-0.03),
        ),
        sigma=0.12,
    ),
    15: AUMotion(
        moves=(
            Move(_idx(r.LIP_CORNERS), up=-0.10),
            Move(_LIP_SIDES, up=-0.04),
            Move(_MOUTH_CHEEK, up=-0.04),
        ),
        hold=_LIP_CENTRE_UPPER + _LIP_CENTRE_LOWER,  # the corners drop, the mouth stays closed
        sigma=0.1,
    ),
    16: AUMotion(
        moves=(
            Move(r.LOWER_LIP_OUTER, up=-0.07),
            Move(r.LOWER_LIP_INNER, up=-0.06),
            Move(_LIP_CENTRE_LOWER, up=-0.02),
        ),
        hold=_idx(r.UPPER_LIP, r.LIP_CORNERS),
        sigma=0.09,
    ),
    17: AUMotion(
        moves=(Move(r.CHIN, up=0.06), Move(r.LOWER_LIP_OUTER, up=0.05)),
        hold=_idx(r.UPPER_LIP_INNER, r.LIP_CORNERS),
        sigma=0.12,
    ),
    20: AUMotion(
        moves=(
            Move(_idx(r.LIP_CORNERS), up=-0.03, out=0.10),  # lateral and a little down
            Move(_LIP_SIDES, out=0.05),
            Move(_MOUTH_CHEEK, out=0.04),
        ),
        sigma=0.1,
    ),
    23: AUMotion(
        moves=(
            Move(r.UPPER_LIP_OUTER, up=-0.035),
            Move(r.LOWER_LIP_OUTER, up=0.035),
            Move(_idx(r.LIP_CORNERS), out=-0.035),
        ),
        hold=_idx(r.UPPER_LIP_INNER[1:-1], r.LOWER_LIP_INNER[1:-1]),
        sigma=0.1,
    ),
    24: AUMotion(
        moves=(Move(r.UPPER_LIP_OUTER, up=-0.035), Move(r.LOWER_LIP_OUTER, up=0.035)),
        hold=_idx(r.UPPER_LIP_INNER, r.LOWER_LIP_INNER),
        sigma=0.08,
    ),
    25: AUMotion(
        moves=(Move(r.LOWER_LIP_INNER, up=-0.05), Move(r.LOWER_LIP_OUTER, up=-0.04)),
        hold=_idx(r.UPPER_LIP, r.LIP_CORNERS),
        sigma=0.08,
    ),
    26: AUMotion(
        moves=(
            Move(r.CHIN, up=-0.13),
            Move(_JAW_LOW, up=-0.12),
            Move(r.LOWER_LIP, up=-0.12),
            Move(_idx(r.LIP_CORNERS), up=-0.04),
        ),
        hold=_idx(r.UPPER_LIP_OUTER, r.UPPER_LIP_INNER[1:-1]),
        sigma=0.18,
    ),
}

# AUs whose motion opens a gap between the lips; the generator shades it a little (mouth interior).
LIP_GAP_AUS = (16, 25, 26)


def response(code: str, intensity: float) -> float:
    """Share of the E motion shown at `intensity`: the intensity itself (clipped to 0-1). Kept as
    the one place generator and verify convert intensity to motion, so they cannot disagree."""
    motion(code)  # unknown AUs raise
    return min(max(float(intensity), 0.0), 1.0)


def full_displacement(number: int) -> float:
    """The largest landmark displacement (IOD) of AU `number` at intensity E, from the table."""
    return max(float(np.hypot(m.up, m.out)) for m in MOTIONS[number].moves)


# Where each E magnitude comes from: `equime.facs.magnitudes` (shared with the data motion).
FULL_SOURCE = E_SOURCE


def motion(code: str) -> AUMotion:
    """The motion data for an AU code ('12', 'R12'); unknown AUs raise EquimeError."""
    _, number, _ = parse_code(code)
    if number not in MOTIONS:
        raise EquimeError(f"the warp generator has no motion for AU{number} ('{code}')")
    return MOTIONS[number]


def landmark_motion(landmarks: np.ndarray, code: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel displacements per unit intensity for one code on one face.

    Returns (moving indices (n,), displacements (n, 2) px, held indices (m,)). A sided code keeps
    only that side's landmarks (and holds the other side's); landmarks on the midline move at half
    strength (both sides pull).
    """
    side, _, _ = parse_code(code)
    spec = motion(code)
    frame = r.face_frame(landmarks)
    dist = r.midline_distance(landmarks)
    sides = r.side_of(landmarks)
    outward = np.where(sides == "", 0.0, np.sign(dist))
    total: dict[int, np.ndarray] = {}
    other_side: set[int] = set()  # a sided code pins the mirror landmarks so only one side moves
    for move in spec.moves:
        for i in move.points:
            weight = 1.0 if not side or sides[i] == side else 0.5 if sides[i] == "" else 0.0
            if weight == 0.0:
                other_side.add(i)
                continue
            vec = np.array([move.out * outward[i], -move.up]) * weight
            total[i] = total.get(i, np.zeros(2)) + vec
    moving = np.array(sorted(total), dtype=np.int64)
    disp = frame.to_pixels(np.array([total[i] for i in moving]).reshape(-1, 2))
    held = np.array(sorted((set(spec.hold) | other_side) - set(total)), dtype=np.int64)
    return moving, disp, held


@register_motion_source("table")
def table_motion(landmarks: np.ndarray, code: str) -> UnitMotion:
    """The hand-written table as a motion source (`--motion table`)."""
    moving, disp, held = landmark_motion(landmarks, code)
    return UnitMotion(moving, disp, held, motion(code).sigma * r.face_frame(landmarks).iod)


def check_catalogue() -> None:
    """Every catalogue AU has motion data and a documented E magnitude (called by tests; cheap)."""
    missing = sorted((set(AUS) - set(MOTIONS)) | (set(AUS) - set(FULL_SOURCE)))
    if missing:
        raise EquimeError(f"no warp motion for AUs {missing}")
