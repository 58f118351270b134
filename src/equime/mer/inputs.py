"""Input representations a recogniser reads (`equime train --input`, `input:` in an experiment):

  frames  today's clips: grayscale frames, trimmed / zero-padded to T, z-scored per clip
          (mer.clips.finish): (B, 1, T, S, S). Optional alignment and time normalisation
          (mer.preprocess) are settings of this input.
  flow    onset -> apex optical flow on the aligned face crop, head motion out (mer.flow):
          (B, 3, S, S) u, v, optical strain; S = 28 by default (STSTNet's size).
The checkpoint records the input and its settings; a model is refused on another input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from equime.errors import EquimeError
from equime.mer.augment import augment_flow, augment_frames
from equime.mer.clips import finish
from equime.mer.preprocess import Preprocess


@dataclass(frozen=True)
class InputSpec:
    name: str
    default_size: int
    to_model: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]
    padded: bool  # stored clips are padded to n_frames in batches (frames) or fixed (flow)
    aligned: bool  # always aligned (flow) or only when asked (frames)
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor]  # mer.augment, training
    augmented: bool  # augmented by default (frames: no, the paper's baselines as trained)


INPUTS: dict[str, InputSpec] = {
    "frames": InputSpec(
        "frames",
        default_size=64,
        to_model=lambda x, lengths, n: finish(x, n, lengths),
        padded=True,
        aligned=False,
        augment=augment_frames,
        augmented=False,
    ),
    "flow": InputSpec(
        "flow",
        default_size=28,
        to_model=lambda x, lengths, n: x,
        padded=False,
        aligned=True,
        augment=augment_flow,
        augmented=True,
    ),
}


def get_input(name: str) -> InputSpec:
    if name not in INPUTS:
        raise EquimeError(f"unknown input {name!r}; known: {', '.join(INPUTS)}")
    return INPUTS[name]


def resolve_input(model: str, wanted: str | None) -> str:
    """The input a model trains on: `wanted` if the model reads it (else an error), or the
    model's own default."""
    from equime.mer.models import model_inputs

    accepted = model_inputs(model)
    if wanted is None:
        return accepted[0]
    get_input(wanted)
    if wanted not in accepted:
        raise EquimeError(
            f"model {model} reads {' or '.join(accepted)}, not {wanted} (set input: "
            f"{accepted[0]} or choose a {wanted} model)"
        )
    return wanted


def make_preprocess(name: str, align: bool | None = None, fps: float | None = None) -> Preprocess:
    spec = get_input(name)
    if fps is not None and fps <= 0:
        raise EquimeError(f"fps {fps} must be positive")
    return Preprocess(input=name, align=spec.aligned or bool(align), fps=fps)


def preprocess_from_config(config: dict) -> Preprocess:
    """The checkpoint's preprocessing (old checkpoints: plain frames)."""
    stored = config.get("preprocess") or {}
    return Preprocess(
        input=config.get("input", "frames"),
        align=bool(stored.get("align", False)),
        fps=stored.get("fps"),
        crop=int(stored.get("crop", Preprocess.crop)),
    )
