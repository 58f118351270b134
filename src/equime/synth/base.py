"""The generator interface and its registry: adding a generator is adding one file.

A module in this package with `@register_generator("name")` is found by name without being
imported (equime.plugins), so `ltx` pulls in torch and diffusers only when asked for; other
packages add generators through the `equime.generators` entry-point group.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from equime import plugins
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
    negative_prompt: str = ""
    au_timelines: dict[str, Timeline] | None = None  # per-AU timing inside `timeline`; None:
    # every AU follows `timeline` (a generator that cannot time AUs apart may ignore it)

    def timeline_of(self, code: str) -> Timeline:
        """The timeline AU `code` follows."""
        return (self.au_timelines or {}).get(code, self.timeline)


class Generator(Protocol):
    name: str
    version: str

    def __call__(self, face: Face, spec: SynthSpec) -> np.ndarray:
        """Return frames (T, S, S, 3) uint8 RGB."""
        ...


# `timing_source` values whose rows keep the plan's onset/apex/offset: the warp renders them;
# LTX keyframe mode pins neutral/apex/neutral frames at them. Any other value ("none"): the
# model chose the timing, so the row leaves it empty.
TIMED_SOURCES = ("ground truth", "keyframes")

GeneratorFactory = Callable[..., Generator]
SettingsCheck = Callable[[int, int, dict[str, Any]], None]
GENERATORS: dict[str, GeneratorFactory] = {}
CHECKS: dict[str, SettingsCheck] = {}
ENTRY_POINT_GROUP = "equime.generators"


def register_generator(
    name: str, check: SettingsCheck | None = None
) -> Callable[[GeneratorFactory], GeneratorFactory]:
    """Register a factory; `check(size, n_frames, options)` vets settings before any model loads."""

    def add(factory: GeneratorFactory) -> GeneratorFactory:
        GENERATORS[name] = factory
        if check is not None:
            CHECKS[name] = check
        return factory

    return add


def generator_factory(name: str) -> GeneratorFactory:
    if name not in GENERATORS:
        plugins.load_part(__package__, "register_generator", ENTRY_POINT_GROUP, name)
    if name not in GENERATORS:
        known = sorted(set(GENERATORS) | set(generator_names()))
        raise EquimeError(f"unknown generator '{name}'; available: {', '.join(known)}")
    return GENERATORS[name]


def generator_names() -> list[str]:
    """Every generator this installation offers, without importing any of them."""
    return plugins.known_names(__package__, "register_generator", ENTRY_POINT_GROUP)


def check_generator(name: str, size: int, n_frames: int, options: dict[str, Any]) -> None:
    """Fail fast on settings a generator cannot use: unknown options, then its own limits."""
    factory = generator_factory(name)
    params = inspect.signature(factory).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(options) - set(params))
        if unknown:
            raise EquimeError(
                f"generator {name} has no option {', '.join(unknown)}; "
                f"its options: {', '.join(params) or 'none'}"
            )
    if name in CHECKS:
        CHECKS[name](size, n_frames, options)


def create_generator(name: str, **options: Any) -> Generator:
    return generator_factory(name)(**options)
