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

NEUTRAL_THRESHOLD = 0.5  # a channel above this (blendshape score, 0-1) is not neutral


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


def beyond(scores: dict[str, float], threshold: float = NEUTRAL_THRESHOLD) -> dict[str, float]:
    """The channels above `threshold`, strongest first."""
    over = {k: v for k, v in scores.items() if v > threshold}
    return dict(sorted(over.items(), key=lambda kv: -kv[1]))


def describe(scores: dict[str, float], threshold: float = 0.2) -> str:
    """'smile 0.90, upper lip raise 0.56' (channels above `threshold`; '' for a neutral face)."""
    return ", ".join(f"{k} {v:.2f}" for k, v in beyond(scores, threshold).items())


def undo_codes(over: dict[str, float]) -> dict[str, float]:
    """AU code -> relative undo weight for the channels in `over` (the largest weight wins)."""
    by_name = {c.name: c for c in CHANNELS}
    out: dict[str, float] = {}
    for name in over:
        for code, weight in by_name[name].undo.items():
            out[code] = max(out.get(code, 0.0), weight)
    return out
