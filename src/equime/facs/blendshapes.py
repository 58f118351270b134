"""Which MediaPipe blendshapes each FACS Action Unit raises, read from data/au_blendshapes.json.

The one table both sides use: the verify read-out turns blendshape scores into AU activations
with it, and the warp generator's motion table names the same blendshapes as what its motion
must raise. Keeping it as data lets a user refine it without touching code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from equime.errors import EquimeError
from equime.facs.aus import AUS, parse_code

BLENDSHAPE_NAMES = (  # MediaPipe's 52 output categories, in its order
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)


@lru_cache(maxsize=1)
def au_blendshapes() -> dict[int, tuple[str, ...]]:
    """AU number -> the blendshapes it raises (every catalogue AU has at least one)."""
    text = (resources.files("equime") / "data" / "au_blendshapes.json").read_text(encoding="utf-8")
    data = json.loads(text)
    table = {int(k): tuple(v) for k, v in data["aus"].items()}
    check_mapping(table, tuple(data.get("silent", {}).get("blendshapes", ())))
    return table


def check_mapping(table: dict[int, tuple[str, ...]], silent: tuple[str, ...] = ()) -> None:
    """Every catalogue AU is mapped, only to real blendshape names that the model does raise
    (`silent` ones never move); nothing else is mapped."""
    known = set(BLENDSHAPE_NAMES)
    problems = [f"AU{n}: not in the catalogue" for n in table if n not in AUS]
    problems += [f"AU{n}: not mapped" for n in AUS if not table.get(n)]
    problems += [
        f"AU{n}: unknown blendshape '{name}'"
        for n, names in table.items()
        for name in names
        if name not in known
    ]
    problems += [
        f"AU{n}: '{name}' is silent in MediaPipe's model"
        for n, names in table.items()
        for name in names
        if name in silent
    ]
    if problems:
        raise EquimeError("data/au_blendshapes.json: " + "; ".join(problems))


def blendshapes_for(code: str) -> tuple[str, ...]:
    """Blendshapes of an AU code ('12', 'R12', 'AU4'); a sided code reads both sides' scores."""
    _, number, _ = parse_code(code)
    return au_blendshapes()[number]


def share_blendshapes(a: int, b: int) -> bool:
    """True when AUs a and b are read (partly) from the same blendshape: the read-out cannot tell
    them apart, so one of them showing while the other was requested is not a false positive."""
    table = au_blendshapes()
    return bool(set(table[a]) & set(table[b]))
