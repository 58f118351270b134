"""Emotion prototypes: which AUs make each emotion, as data.

Required AUs follow the EMFACS table; optional ones (with the probability that a sample switches
them on) follow MiE-X's expert rules, so samples of one emotion vary the way real ones do.
`neutral` has no AUs: a control clip that holds only eps_X.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from equime.errors import EquimeError


@dataclass(frozen=True)
class Prototype:
    emotion: str
    required: tuple[str, ...]
    optional: dict[str, float] = field(default_factory=dict)  # AU code -> probability of being on


PROTOTYPES: dict[str, Prototype] = {
    p.emotion: p
    for p in (
        Prototype("happiness", ("6", "12"), {"25": 0.3}),
        Prototype("sadness", ("1", "4", "15"), {"17": 0.3}),
        Prototype("surprise", ("1", "2", "5", "26"), {"25": 0.5}),
        Prototype("fear", ("1", "2", "4", "5", "20"), {"7": 0.5, "26": 0.5}),
        Prototype("anger", ("4", "5", "7", "23"), {"24": 0.3}),
        Prototype("disgust", ("9", "15", "16"), {"10": 0.5, "17": 0.3}),
        Prototype("contempt", ("R12", "R14")),
        Prototype("neutral", ()),
    )
}

EMOTIONS = tuple(e for e in PROTOTYPES if e != "neutral")  # the seven basic emotions
PAPER_EMOTIONS = (
    "happiness",
    "sadness",
    "surprise",
    "disgust",
    "anger",
)  # the released dataset's five


def parse_emotions(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """'all' -> the seven; 'paper' -> the paper's five; or a comma list. Errors list the known."""
    names = text.split(",") if isinstance(text, str) else list(text)
    names = [n.strip().lower() for n in names if n.strip()]
    if names == ["all"]:
        return EMOTIONS
    if names == ["paper"] or not names:
        return PAPER_EMOTIONS
    unknown = [n for n in names if n not in PROTOTYPES]
    if unknown:
        raise EquimeError(
            f"unknown emotion {', '.join(unknown)}; "
            f"allowed: {', '.join(PROTOTYPES)} (or 'all', 'paper')"
        )
    return tuple(dict.fromkeys(names))
