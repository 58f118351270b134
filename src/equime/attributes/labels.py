"""Normalising outside label spellings onto the shared vocabulary; telling labels from estimates.

Tables spell the same thing many ways (CelebA `Male` = 1/-1, FairFace `Female`, `Latino_Hispanic`,
age ranges); everything is mapped here once so reports and balancing see one vocabulary. A label's
source says whether a person or a model produced it: model estimates start with `model:`, and a
known label (public record, a table, CelebA) always wins over an estimate.
"""

from __future__ import annotations

import re

from equime.attributes.vocabulary import GENDERS, RACES

UNKNOWN = "unknown"
ESTIMATE_PREFIX = "model:"

_GENDER = {
    "woman": "Woman",
    "female": "Woman",
    "f": "Woman",
    "w": "Woman",
    "-1": "Woman",  # CelebA Male == -1
    "man": "Man",
    "male": "Man",
    "m": "Man",
    "1": "Man",  # CelebA Male == 1
}
_RACE = {
    **{race: race for race in RACES},
    "east asian": "asian",
    "southeast asian": "asian",
    "latino": "latino hispanic",
    "hispanic": "latino hispanic",
    "latino hispanic": "latino hispanic",
    "middle eastern": "middle eastern",
    "african american": "black",
    "caucasian": "white",
}


class LabelError(ValueError):
    """A value outside the vocabulary (the caller names the row)."""


def _key(text: object) -> str:
    return re.sub(r"[\s_/-]+", " ", str(text).lower()).strip()


def is_missing(value: object) -> bool:
    text = "" if value is None else str(value).strip().lower()
    return text in ("", "nan", "none", UNKNOWN)


def normalise_gender(value: object) -> str:
    """'Female', 'f', '-1' -> 'Woman'; '' when missing; LabelError for anything else."""
    if is_missing(value):
        return ""
    raw = str(value).strip()
    key = raw.removesuffix(".0") if raw.lstrip("-").removesuffix(".0") == "1" else _key(raw)
    if key not in _GENDER:
        raise LabelError(f"gender {value!r} not one of {', '.join(GENDERS)} (or male/female)")
    return _GENDER[key]


def normalise_race(value: object) -> str:
    """FairFace / DeepFace spellings -> the paper's six labels ('East Asian' -> 'asian')."""
    if is_missing(value):
        return ""
    key = _key(value)
    if key not in _RACE:
        raise LabelError(f"race {value!r} not one of {', '.join(RACES)}")
    return _RACE[key]


def parse_age(value: object) -> tuple[str, str]:
    """Years, or a range like FairFace's '30-39' / 'more than 70' -> (years as text, note).

    A range is stored as its midpoint and the note keeps the range, so the source stays honest.
    """
    if is_missing(value):
        return "", ""
    text = str(value).strip()
    try:
        years = float(text)
    except ValueError:
        pass
    else:
        if not 0 <= years <= 130:
            raise LabelError(f"age {value!r} outside 0-130")
        return f"{years:g}", ""
    match = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
    if match:
        lo, hi = int(match[1]), int(match[2])
        if lo > hi:
            raise LabelError(f"age range {value!r} is reversed")
        return f"{(lo + hi) / 2:g}", f"range {text}"
    match = re.fullmatch(r"(?:more than|over|>)\s*(\d+)", text.lower())
    if match:
        return match[1], f"range {text}"
    raise LabelError(f"age {value!r} is neither years nor a range like 30-39")


def is_estimate(source: object) -> bool:
    """True when a label came from a model rather than a person or a record."""
    return str(source or "").startswith(ESTIMATE_PREFIX)
