"""How the LTX backend anchors a clip: which diffusers pipeline, which frames it pins, and whether
the plan's onset / apex / offset then hold.

- `keyframes` (default): `LTXConditionPipeline` with three single-image conditions: the neutral
  face at the planned onset, the warp's apex frame (Z rendered on the face) at the planned apex,
  the neutral face at the planned offset. The model fills the motion between them, so the timing
  is known by construction (`timing_source = keyframes`).
- `condition`: the same pipeline with the face as first and last frame; the model decides when
  the face moves (no timing).
- `i2v`: `LTXImageToVideoPipeline`, the face as first frame only (no timing).

LTX's VAE keeps one latent frame per 8 video frames (latent 0 = frame 0 alone; latent k >= 1 =
frames 8k-7 ... 8k). An image condition at frame i != 0 enters as extra tokens whose time
coordinate is i itself (diffusers `LTXConditionPipeline.prepare_latents`, `_scale_video_ids`),
so any index is accepted, but the video can honour it only as finely as the latent that holds
it: `latent_span(i)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from equime.synth.base import SynthSpec
from equime.synth.timeline import Timeline

TEMPORAL_STRIDE = 8  # LTX-Video VAE: 8 video frames per latent frame (the first frame alone)


@dataclass(frozen=True)
class Keyframe:
    index: int  # frame of the output video the image is pinned to
    role: str  # "neutral" (the face as it is) or "apex" (Z rendered at full intensity)


def keyframes(timeline: Timeline) -> list[Keyframe]:
    """Neutral at onset, Z at apex, neutral at offset: the plan's own timing, pinned."""
    return [
        Keyframe(timeline.onset, "neutral"),
        Keyframe(timeline.apex, "apex"),
        Keyframe(timeline.offset, "neutral"),
    ]


def latent_span(index: int, stride: int = TEMPORAL_STRIDE) -> tuple[int, int]:
    """First and last video frame decoded from the latent frame that holds `index`."""
    if index <= 0:
        return (0, 0)
    k = -(-index // stride)
    return (stride * k - stride + 1, stride * k)


Images = Callable[[str], np.ndarray]  # role -> frame (S, S, 3) uint8


def _keyframe_inputs(spec: SynthSpec, image: Images) -> dict[str, Any]:
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
    from PIL import Image

    return {
        "conditions": [
            LTXVideoCondition(image=Image.fromarray(image(k.role)), frame_index=k.index)
            for k in keyframes(spec.timeline)
        ]
    }


def _endpoint_inputs(spec: SynthSpec, image: Images) -> dict[str, Any]:
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
    from PIL import Image

    face = Image.fromarray(image("neutral"))
    last = spec.timeline.n_frames - 1  # back to the neutral face
    return {
        "conditions": [
            LTXVideoCondition(image=face, frame_index=0),
            LTXVideoCondition(image=face, frame_index=last),
        ]
    }


def _i2v_inputs(spec: SynthSpec, image: Images) -> dict[str, Any]:
    from PIL import Image

    return {"image": Image.fromarray(image("neutral"))}


@dataclass(frozen=True)
class Mode:
    pipeline: str  # diffusers class name
    timing_source: str  # what the row's onset/apex/offset are worth
    inputs: Callable[[SynthSpec, Images], dict[str, Any]]
    needs_apex: bool = False


MODES: dict[str, Mode] = {
    "keyframes": Mode("LTXConditionPipeline", "keyframes", _keyframe_inputs, needs_apex=True),
    "condition": Mode("LTXConditionPipeline", "none", _endpoint_inputs),
    "i2v": Mode("LTXImageToVideoPipeline", "none", _i2v_inputs),
}
DEFAULT_MODE = "keyframes"
