"""The paper's four baseline recognisers, built by name (timm-style registry).

Every model takes a clip tensor (B, 1, T, H, W) float32 (grayscale, z-scored; see mer.clips) and
returns logits (B, n_classes). `n_frames` and `size` are options because the fully connected
heads of ST-CNN and Simple3DCNN depend on the input shape, as in the authors' Keras models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from equime import plugins
from equime.errors import EquimeError

MODELS: dict[str, Callable[..., torch.nn.Module]] = {}
ENTRY_POINT_GROUP = "equime.models"  # other packages add models here (see equime.plugins)


def register_model(
    name: str,
) -> Callable[[Callable[..., torch.nn.Module]], Callable[..., torch.nn.Module]]:
    def wrap(factory: Callable[..., torch.nn.Module]) -> Callable[..., torch.nn.Module]:
        MODELS[name] = factory
        return factory

    return wrap


def _load_all() -> None:
    """Every module of this package with `@register_model`, and the entry-point group."""
    plugins.load_all(__name__, "register_model", ENTRY_POINT_GROUP)


def model_names() -> list[str]:
    _load_all()
    return sorted(MODELS)


def create_model(name: str, n_classes: int, **options: Any) -> torch.nn.Module:
    """A freshly initialised model (`options`: n_frames, size, and per-model extras)."""
    _load_all()
    key = name.lower().replace("-", "").replace("_", "")
    aliases = {m.replace("-", "").replace("_", ""): m for m in MODELS}
    if key not in aliases:
        raise EquimeError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    if n_classes < 2:
        raise EquimeError(f"a classifier needs at least 2 classes, got {n_classes}")
    try:
        return MODELS[aliases[key]](n_classes=n_classes, **options)
    except TypeError as exc:
        raise EquimeError(f"model {name}: bad option ({exc})") from exc


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
