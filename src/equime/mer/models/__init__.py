"""Recognisers built by name (timm-style registry): the paper's four raw-frame baselines and
the flow models.

A `frames` model takes a clip tensor (B, 1, T, H, W) float32 (grayscale, z-scored; see
mer.clips); a `flow` model takes (B, 3, S, S) onset -> apex flow (u, v, strain; see mer.flow).
Both return logits (B, n_classes). `n_frames` and `size` are options because the fully connected
heads of ST-CNN and Simple3DCNN depend on the input shape, as in the authors' Keras models.
A model registers the inputs it reads (`inputs=`) and, when it reads one frame, the sampler that
gives it that frame (`sampling=`, e.g. the MobileNet hybrid's apex).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from equime import plugins
from equime.errors import EquimeError

MODELS: dict[str, Callable[..., torch.nn.Module]] = {}
MODEL_INPUTS: dict[str, tuple[str, ...]] = {}
MODEL_SAMPLING: dict[str, str] = {}
MODEL_LR: dict[str, float] = {}  # a model's own learning rate (default: the paper's 1e-4)
ENTRY_POINT_GROUP = "equime.models"  # other packages add models here (see equime.plugins)


def register_model(
    name: str,
    inputs: tuple[str, ...] = ("frames",),
    sampling: str | None = None,
    lr: float | None = None,
) -> Callable[[Callable[..., torch.nn.Module]], Callable[..., torch.nn.Module]]:
    def wrap(factory: Callable[..., torch.nn.Module]) -> Callable[..., torch.nn.Module]:
        MODELS[name] = factory
        MODEL_INPUTS[name] = tuple(inputs)
        if lr:
            MODEL_LR[name] = lr
        if sampling:
            MODEL_SAMPLING[name] = sampling
        return factory

    return wrap


def canonical_name(name: str) -> str:
    _load_all()
    key = name.lower().replace("-", "").replace("_", "")
    aliases = {m.replace("-", "").replace("_", ""): m for m in MODELS}
    if key not in aliases:
        raise EquimeError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    return aliases[key]


def model_inputs(name: str) -> tuple[str, ...]:
    """The inputs a model reads, its default first ('frames' or 'flow')."""
    return MODEL_INPUTS[canonical_name(name)]


def model_lr(name: str) -> float:
    """The learning rate a model trains with unless told (the paper's Adam 1e-4 by default)."""
    return MODEL_LR.get(canonical_name(name), 1e-4)


def model_sampling(name: str) -> str | None:
    """The sampler a single-frame model needs (None: the dataset's or the user's)."""
    return MODEL_SAMPLING.get(canonical_name(name))


def _load_all() -> None:
    """Every module of this package with `@register_model`, and the entry-point group."""
    plugins.load_all(__name__, "register_model", ENTRY_POINT_GROUP)


def model_names() -> list[str]:
    _load_all()
    return sorted(MODELS)


def create_model(name: str, n_classes: int, **options: Any) -> torch.nn.Module:
    """A freshly initialised model (`options`: n_frames, size, and per-model extras)."""
    key = canonical_name(name)
    if n_classes < 2:
        raise EquimeError(f"a classifier needs at least 2 classes, got {n_classes}")
    try:
        return MODELS[key](n_classes=n_classes, **options)
    except TypeError as exc:
        raise EquimeError(f"model {name}: bad option ({exc})") from exc


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
