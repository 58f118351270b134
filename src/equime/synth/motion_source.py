"""Where the warp's Action-Unit motion comes from: sources behind one interface, found by name.

A source answers one question, "how does AU `code` move the landmarks of this face at intensity
E", as plain data (`UnitMotion`); the warp turns that into a dense field and knows nothing else.
`data` (default: a real-data AU -> mesh model, `synth.data_motion`) and `table` (the hand-written
FACS table, `synth.au_motion`) are built in; a new source is one module in this package with
`@register_motion_source("name")`, or an entry point in the group `equime.motion_sources`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from equime import plugins
from equime.errors import EquimeError

ENTRY_POINT_GROUP = "equime.motion_sources"
DEFAULT = "data"


@dataclass(frozen=True)
class UnitMotion:
    """One AU code on one face at intensity E."""

    moving: np.ndarray  # (n,) landmark indices that carry motion (control points)
    disp: np.ndarray  # (n, 2) their displacement in px
    held: np.ndarray  # (m,) landmark indices pinned in place
    sigma: float  # px: how far the skin around a control point is dragged along
    exact: bool = False  # the field passes through every control point (dense meshes)


MotionSource = Callable[[np.ndarray, str], UnitMotion]  # (landmarks (478, 2) px, code) -> motion
MOTION_SOURCES: dict[str, MotionSource] = {}


def register_motion_source(name: str) -> Callable[[MotionSource], MotionSource]:
    def add(source: MotionSource) -> MotionSource:
        MOTION_SOURCES[name] = source
        return source

    return add


def motion_source_names() -> list[str]:
    return plugins.known_names(__package__, "register_motion_source", ENTRY_POINT_GROUP)


def motion_source(name: str) -> MotionSource:
    """The source registered as `name`; an unknown name is a one-line error listing the known."""
    if name not in MOTION_SOURCES:
        plugins.load_part(__package__, "register_motion_source", ENTRY_POINT_GROUP, name)
    if name not in MOTION_SOURCES:
        raise EquimeError(
            f"unknown motion source '{name}'; available: {', '.join(motion_source_names())}"
        )
    return MOTION_SOURCES[name]
