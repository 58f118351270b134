"""The FACS Action Units EquiME can request, with the face region each one moves.

Intensities live on a 0-1 scale. FACS letters map to it as A=0.2, B=0.4, C=0.6, D=0.8, E=1.0,
so a micro-expression (FACS A-B) sits around 0.1-0.45.

A code names one AU on both sides ("12") or on one side ("R12", "L12"; R is the subject's right,
which is the image's left in a frontal photo). Only AUs that are anatomically paired may be sided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from equime.errors import EquimeError


@dataclass(frozen=True)
class ActionUnit:
    number: int
    name: str
    region: str  # one of REGIONS
    words: str  # plain words for a prompt: what a viewer sees
    sided: bool  # may be requested on one side only


REGIONS = ("brows", "eyes", "cheeks", "nose", "mouth", "chin", "jaw")

_CATALOGUE = (
    ActionUnit(1, "Inner Brow Raiser", "brows", "the inner ends of the eyebrows lift", False),
    ActionUnit(2, "Outer Brow Raiser", "brows", "the outer ends of the eyebrows lift", True),
    ActionUnit(4, "Brow Lowerer", "brows", "the eyebrows lower and draw together", False),
    ActionUnit(5, "Upper Lid Raiser", "eyes", "the upper eyelids lift, widening the eyes", False),
    ActionUnit(6, "Cheek Raiser", "cheeks", "the cheeks lift, narrowing the eyes from below", True),
    ActionUnit(7, "Lid Tightener", "eyes", "the lower eyelids tighten", True),
    ActionUnit(9, "Nose Wrinkler", "nose", "the nose wrinkles", False),
    ActionUnit(10, "Upper Lip Raiser", "mouth", "the upper lip lifts", True),
    ActionUnit(12, "Lip Corner Puller", "mouth", "the lip corners pull up and back", True),
    ActionUnit(14, "Dimpler", "mouth", "the lip corners tighten into dimples", True),
    ActionUnit(15, "Lip Corner Depressor", "mouth", "the lip corners pull down", True),
    ActionUnit(16, "Lower Lip Depressor", "mouth", "the lower lip pulls down", False),
    ActionUnit(17, "Chin Raiser", "chin", "the chin pushes the lower lip up", False),
    ActionUnit(20, "Lip Stretcher", "mouth", "the lips stretch sideways", True),
    ActionUnit(23, "Lip Tightener", "mouth", "the lips tighten", False),
    ActionUnit(24, "Lip Pressor", "mouth", "the lips press together", False),
    ActionUnit(25, "Lips Part", "mouth", "the lips part slightly", False),
    ActionUnit(26, "Jaw Drop", "jaw", "the jaw drops slightly", False),
)

AUS: dict[int, ActionUnit] = {au.number: au for au in _CATALOGUE}

INTENSITY_LETTERS = {"A": 0.2, "B": 0.4, "C": 0.6, "D": 0.8, "E": 1.0}

_CODE = re.compile(r"^(?:AU)?([LR]?)(?:AU)?0*(\d+)([A-E]?)$", re.IGNORECASE)


def all_codes() -> list[str]:
    """Every code a Z vector may hold, in a stable order: bilateral AUs, then sided ones."""
    codes = [str(n) for n in AUS]
    codes += [f"{side}{n}" for n, au in AUS.items() if au.sided for side in ("R", "L")]
    return codes


def column_name(code: str) -> str:
    """Metadata column for a code: '12' -> 'AU12', 'R12' -> 'AU12R'."""
    side, number, _ = parse_code(code)
    return f"AU{number:02d}{side}"


def parse_code(text: str) -> tuple[str, int, float | None]:
    """'R12A' -> ('R', 12, 0.2); 'AU4' -> ('', 4, None). Unknown AUs name what is allowed."""
    match = _CODE.match(text.strip())
    if not match:
        raise EquimeError(f"'{text}' is not an Action Unit code (examples: 12, AU12, R12, 6B)")
    side, number, letter = match.group(1).upper(), int(match.group(2)), match.group(3).upper()
    if number not in AUS:
        allowed = ", ".join(str(n) for n in AUS)
        raise EquimeError(f"unknown Action Unit {number} in '{text}'; known AUs: {allowed}")
    if side and not AUS[number].sided:
        sided = ", ".join(str(n) for n, au in AUS.items() if au.sided)
        raise EquimeError(f"AU{number} cannot be one-sided ('{text}'); one-sided AUs: {sided}")
    return side, number, INTENSITY_LETTERS.get(letter) if letter else None


def normalise_code(text: str) -> str:
    side, number, _ = parse_code(text)
    return f"{side}{number}"


def check_intensity(code: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise EquimeError(
            f"intensity {value} for AU {code} is out of range; use 0-1 (FACS A=0.2 … E=1.0)"
        )
    return float(value)
