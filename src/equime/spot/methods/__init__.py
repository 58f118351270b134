"""Spotting methods, one file each, found by name: `@register_spot_method("name")` on a function
`(FaceTrack, SpotConfig) -> MethodResult`. Every method reads the same re-aligned face crops and
usable frames (`spot.track`); what it may not spot (unusable frames) is removed after it, in
`spot.run`, for all methods alike."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from equime.errors import EquimeError
from equime.plugins import registered_in

DEFAULT_METHOD = "motion"
_FUNCTIONS: dict[str, Callable] = {}


@dataclass
class MethodResult:
    curve: np.ndarray  # (n,) what the method thresholds, per frame (NaN: not read)
    threshold: float  # the curve's threshold, for the plot
    spots: list  # spot.spotter.Spotted, in onset order


def register_spot_method(name: str) -> Callable[[Callable], Callable]:
    def wrap(fn: Callable) -> Callable:
        _FUNCTIONS[name] = fn
        return fn

    return wrap


def method_names() -> list[str]:
    return sorted(registered_in("equime.spot.methods", "register_spot_method"))


def spot_method(name: str) -> Callable:
    """The method's function, its module imported on first use."""
    modules = registered_in("equime.spot.methods", "register_spot_method")
    if name not in modules:
        raise EquimeError(f"unknown spotting method '{name}'; known: {', '.join(method_names())}")
    importlib.import_module(modules[name])
    return _FUNCTIONS[name]
