"""AU cells as annotators wrote them: with alternatives ('R12 or R15', '4+7 (or 43)').

`mer.labels.parse_aus` reads one FACS string and drops bracketed parts, so an alternative loses
codes ('R12 or R15' -> R15, '4+7 (or 43)' -> 4+7). SAMM's sheet has such cells (MEB, Varanka et
al. 2022, lists rows 15, 18, 41, 64 and 154). The loaders keep every code the annotator named and
the raw cell beside it (`aus_sheet`), so nothing is lost before a choice is made.
"""

from __future__ import annotations

import re

import pandas as pd

from equime.mer.labels import parse_aus

_ALTERNATIVE = re.compile(r"\bor\b|[()\[\]]", re.IGNORECASE)


def has_alternatives(cell: object) -> bool:
    """True when an AU cell names alternatives ('R12 or R15')."""
    return not _is_blank(cell) and re.search(r"\bor\b", str(cell), re.IGNORECASE) is not None


def au_codes(cell: object) -> str:
    """Every AU code in a cell, in order, once: 'R12 or R15' -> 'R12+R15';
    '4+7 (or 43)' -> '4+7+43'; '' when none."""
    if _is_blank(cell):
        return ""
    codes: list[str] = []
    for piece in _ALTERNATIVE.split(str(cell)):
        for code in parse_aus(piece):
            if code not in codes:
                codes.append(code)
    return "+".join(codes)


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, float) and pd.isna(cell)) or str(cell).strip() == ""
