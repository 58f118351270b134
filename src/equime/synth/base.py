"""The generator interface and its registry: one file and one entry per generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from equime.errors import EquimeError
from equime.faces.face import Face
from equime.synth.timeline import Timeline


@dataclass(frozen=True)
class SynthSpec:
    """What one video must show: plain data taken from a plan row."""

    aus: dict[str, float]  # Z: AU code -> intensity (0-1)
    emotion: str  # the label Y the video is made for
    timeline: Timeline
    seed: int  # drives eps_X only; Z and the timeline are already fixed
    prompt: str = ""


class Generator(Protocol):
    name: str
    version: str

    def __call__(self, face: Face, spec: SynthSpec) -> np.ndarray:
        """Return frames (T, S, S, 3) uint8 RGB."""
        ...


GeneratorFactory = Callable[..., Generator]
GENERATORS: dict[str, GeneratorFactory] = {}


def register_generator(name: str) -> Callable[[GeneratorFactory], GeneratorFactory]:
    def add(factory: GeneratorFactory) -> GeneratorFactory:
        GENERATORS[name] = factory
        return factory

    return add


def create_generator(name: str, **options: Any) -> Generator:
    import equime.synth.warp  # noqa: F401  (registers the embedded generator)

    if name not in GENERATORS:
        raise EquimeError(f"unknown generator '{name}'; available: {', '.join(sorted(GENERATORS))}")
    return GENERATORS[name](**options)
