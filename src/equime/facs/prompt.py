"""Z in words: the prompt text every generator records (and the LTX backend will condition on)."""

from __future__ import annotations

from equime.facs.aus import AUS, parse_code

_LEVELS = (
    (0.2, "a trace of"),
    (0.4, "slight"),
    (0.6, "marked"),
    (0.8, "pronounced"),
    (1.01, "extreme"),
)


def intensity_word(value: float) -> str:
    return next(word for limit, word in _LEVELS if value <= limit)


def describe_aus(aus: dict[str, float]) -> str:
    """'AU6 (slight): the cheeks lift, ...; AU12 (slight): ...' in catalogue order."""
    parts = []
    for code, value in sorted(aus.items(), key=lambda kv: (parse_code(kv[0])[1], kv[0])):
        if value <= 0:
            continue
        side, number, _ = parse_code(code)
        where = {"R": " on the right side", "L": " on the left side"}.get(side, "")
        parts.append(f"AU{number} ({intensity_word(value)}): {AUS[number].words}{where}")
    return "; ".join(parts)


def prompt_text(emotion: str, aus: dict[str, float]) -> str:
    if not any(v > 0 for v in aus.values()):
        return "A still, neutral face looking at the camera; no facial movement."
    return (
        f"A face looking at the camera shows a brief, subtle micro-expression of {emotion}: "
        f"{describe_aus(aus)}. The movement lasts under half a second, "
        "then the face returns to neutral."
    )
