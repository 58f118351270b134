"""Input representations a recogniser reads (`equime train --input`, `input:` in an experiment):

  frames  today's clips: grayscale frames, trimmed / zero-padded to T, z-scored per clip
          (mer.clips.finish): (B, 1, T, S, S). Optional alignment and time normalisation
          (mer.preprocess) are settings of this input.
  flow    onset -> apex optical flow on the aligned face crop, head motion out (mer.flow):
          (B, 3, S, S) u, v, optical strain; S = 28 by default (STSTNet's size).
The checkpoint records the input and its settings; a model is refused on another input.

Flow scale (`flow_scale`, recorded in the checkpoint): real expressions move the face several
times more than generated micro-expressions, so a model that reads raw flow meets real clips far
outside anything it learnt. `p95` divides a clip's three channels by the 95th percentile of its
flow magnitude sqrt(u^2 + v^2) inside the face (`flow_size`: an ellipse around the alignment
template of faces.align; the crop's corners hold hair and background), so the model reads the
pattern of the motion, not its size; strain is linear in the flow, so one factor keeps u, v and
strain consistent. A floor (`SCALE_FLOOR`, percent of the crop side) keeps a still clip's noise
from being blown up to an expression's size. `none` reads raw flow.
Measured (BENCHMARKS.md "Generated-only recognition meets real clips"): `p95` costs 0.04-0.08
UF1 across people on generated data (seed 0 falls to 0.83, under the 0.9 bar; on generated
clips the size is part of the expression: surprise moves the face about 4x more than anger) and
names fewer real clips, so new checkpoints keep `none` (DEFAULT_FLOW_SCALE); the size a real
clip moves is checked instead (mer.calibration: outside the training range -> `unsure`).
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


SCALE_FLOOR = 0.2  # percent of the crop side (0.26 px of the 128 px crop): below, flow is noise
SCALE_QUANTILE = 0.95


def face_mask(size: int) -> torch.Tensor:
    """(size, size) bool: the face inside the aligned crop (faces.align TEMPLATE: eyes at y 0.40,
    mouth corners at y 0.76), an ellipse centred (0.5, 0.55) with half-axes 0.36 x 0.45."""
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return ((x - 0.5) / 0.36) ** 2 + ((y - 0.55) / 0.45) ** 2 <= 1.0


def flow_size(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, S, S) raw flow -> (B,) its robust maximum magnitude in the face (SCALE_QUANTILE
    of sqrt(u^2 + v^2), percent of the crop side): how much the clip moves the face."""
    mask = face_mask(x.shape[-1]).to(x.device)
    magnitude = torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)[:, mask]  # (B, pixels in the face)
    return torch.quantile(magnitude, SCALE_QUANTILE, dim=1)


def robust_scale(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, S, S) flow -> the same divided per clip by its flow_size, floored at SCALE_FLOOR."""
    return x / flow_size(x).clamp(min=SCALE_FLOOR)[:, None, None, None]


FLOW_SCALES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": lambda x: x,
    "p95": robust_scale,
}
DEFAULT_FLOW_SCALE = "none"  # see the docstring: p95 measured worse


def scale_flow(x: torch.Tensor, name: str) -> torch.Tensor:
    if name not in FLOW_SCALES:
        raise EquimeError(f"unknown flow_scale {name!r}; known: {', '.join(FLOW_SCALES)}")
    return FLOW_SCALES[name](x)


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
