"""The demographic vocabulary (the paper's, via DeepFace), shared by sources, layout and reports."""

from __future__ import annotations

GENDERS = ("Woman", "Man")
RACES = ("asian", "indian", "black", "white", "middle eastern", "latino hispanic")
AGE_GROUPS = ("under 20", "20-30", "31-40", "41-50", "51-60", "over 60")
ATTRIBUTES = ("gender", "race", "age")


def age_group(age: float | str | None) -> str:
    """Years -> the paper's bin; '' when unknown."""
    try:
        years = float(age)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if years < 20:
        return "under 20"
    for group, upper in (("20-30", 30), ("31-40", 40), ("41-50", 50), ("51-60", 60)):
        if years <= upper:
            return group
    return "over 60"


def demographic_columns() -> list[str]:
    """Every attribute stores value, confidence and source."""
    cols = []
    for attr in ATTRIBUTES:
        cols += [attr, f"{attr}_confidence", f"{attr}_source"]
    return [*cols, "age_group"]
