"""Known mistakes in the released annotation sheets, with the source of each correction.

The facts come from MEB (Varanka et al., "Data Leakage and Evaluation Issues in
Micro-Expression Analysis", IEEE TAFFC 2023, arXiv 2211.11425; code github.com/tvaranka/meb,
`meb/datasets/datasets.py`), which corrects the sheets before training. MEB names rows by their
0-based number after the header row, as pandas reads the sheet (`data_row` here; the
spreadsheet row is `data_row + header row + 1`). A row number only names the right clip in the
sheet MEB used, so an erratum keyed by row number applies only when the sheet has that sheet's
number of rows (`release_rows`, from MEB's own dataset table: SAMM 159, CASME II 256,
CAS(ME)^3 part A 860), and only when its condition holds (`when`: the apex is not coded, the AU
cell lists alternatives). An erratum that a second source ties to a clip and its wrong value
(`clip`, `was`) is found by those instead, in any sheet version.

Every correction is applied with a log line and listed in the table's attrs['errata'];
`errata=False` (`equime datasets check --no-errata`) reads the sheet as released.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from equime.mer.datasets.aus import has_alternatives

log = logging.getLogger(__name__)

MEB = "MEB (Varanka et al. 2023; github.com/tvaranka/meb, meb/datasets/datasets.py"


@dataclass(frozen=True)
class Erratum:
    row: int  # MEB's data_row
    field: str  # onset | apex | offset | aus
    value: object
    source: str
    when: str = ""  # '' always; 'missing': the sheet codes no apex; 'or': the AU cell has 'or'
    clip: str = ""  # subject/filename, where a second source names the clip
    was: object = None  # the sheet's wrong value, where a second source gives it


@dataclass(frozen=True)
class Errata:
    dataset: str
    release_rows: int
    items: tuple[Erratum, ...]


def _apexes(rows: list[int], values: list[int], source: str) -> tuple[Erratum, ...]:
    return tuple(
        Erratum(r, "apex", v, source, when="missing") for r, v in zip(rows, values, strict=True)
    )


SAMM_SOURCE = f"{MEB} Samm.data_frame)"
SAMM = Errata(
    "samm",
    159,  # SAMM: 159 micro-movements (Davison et al. 2018)
    (
        Erratum(56, "offset", 5739, f"{SAMM_SOURCE}: 'Mistake in file, change offset'"),
        *_apexes(
            [125, 132, 133],
            [1105, 4945, 5130],
            f"{SAMM_SOURCE}: apex coded -1, estimated by MEB from optical flow",
        ),
        *(
            Erratum(
                r,
                "aus",
                v,
                f"{SAMM_SOURCE}: 'or' in the AU cell, chosen by MEB from optical flow",
                when="or",
            )
            for r, v in zip(
                [15, 18, 41, 64, 154], ["R12+R15", "R12+R15", "L14", "R14", "R14A"], strict=True
            )
        ),
    ),
)

CASME2_SOURCE = f"{MEB} Casme2.data_frame)"
CASME2 = Errata(
    "casme2",
    256,
    (
        Erratum(60, "offset", 91, f"{CASME2_SOURCE}: 'Mistake in file, change offset to 91'"),
        *_apexes(
            [
                29,
                35,
                43,
                45,
                51,
                53,
                60,
                117,
                118,
                126,
                136,
                147,
                155,
                168,
                170,
                177,
                202,
                203,
                234,
                237,
                238,
            ],
            [
                279,
                68,
                77,
                81,
                166,
                100,
                78,
                187,
                89,
                80,
                88,
                134,
                231,
                53,
                329,
                111,
                91,
                103,
                98,
                153,
                98,
            ],
            f"{CASME2_SOURCE}: apex '/' in the sheet, estimated by MEB from optical flow",
        ),
    ),
)

CASME3_SOURCE = f"{MEB} Casme3A.data_frame)"
CASME3 = Errata(
    "casme3",
    860,
    (
        Erratum(128, "apex", 123, CASME3_SOURCE),
        Erratum(
            749,
            "onset",
            2647,
            f"{CASME3_SOURCE}; onset 3647 after its apex",
            clip="spNO.216/d",
            was=3647,
        ),
        Erratum(708, "offset", 34, CASME3_SOURCE),
        Erratum(796, "offset", 1845, CASME3_SOURCE),
        Erratum(798, "offset", 2403, CASME3_SOURCE),
        Erratum(750, "onset", 1, f"{CASME3_SOURCE}; there is no frame 0", clip="spNO.216/e", was=0),
        Erratum(750, "apex", 1, f"{CASME3_SOURCE}; there is no frame 0", clip="spNO.216/e", was=0),
    ),
)


def _missing(value: object) -> bool:
    try:
        return int(float(str(value).strip())) < 0
    except (TypeError, ValueError):
        return True


def _same(value: object, expected: object) -> bool:
    try:
        return int(float(str(value).strip())) == int(expected)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(value).strip() == str(expected)


def apply_errata(
    sheet: pd.DataFrame, errata: Errata, clip_of: Callable[[pd.Series], str], enabled: bool = True
) -> pd.DataFrame:
    """The sheet with `errata` applied (a copy); attrs['errata'] lists what was changed, and,
    when a row-numbered erratum could not be applied, why."""
    sheet = sheet.copy()
    sheet["apex_source"] = ""
    applied: list[dict[str, object]] = []
    notes: list[str] = []
    sheet.attrs["errata"] = applied
    sheet.attrs["notes"] = notes
    if not enabled:
        notes.append("errata off: the sheet is read as released")
        log.info("%s: %s", errata.dataset, notes[-1])
        return sheet
    clips = [clip_of(line) for _, line in sheet.iterrows()]
    release = len(sheet) == errata.release_rows
    for item in errata.items:
        if item.clip and item.was is not None:
            hits = [
                i
                for i, clip in enumerate(clips)
                if clip == item.clip and _same(sheet.at[i, item.field], item.was)
            ]
        elif release:
            hits = [i for i in range(len(sheet)) if int(sheet.at[i, "data_row"]) == item.row]
        else:
            continue
        for i in hits:
            old = sheet.at[i, item.field]
            if item.when == "missing" and not _missing(old):
                continue
            if item.when == "or" and not has_alternatives(old):
                continue
            sheet.at[i, item.field] = item.value
            if item.field == "apex":
                sheet.at[i, "apex_source"] = "errata"
            note = {
                "clip": clips[i],
                "sheet_row": int(sheet.at[i, "sheet_row"]),
                "field": item.field,
                "was": "" if pd.isna(old) else str(old),
                "now": str(item.value),
                "source": item.source,
            }
            log.info(
                "%s: %s %s %s -> %s (%s)",
                errata.dataset,
                note["clip"],
                item.field,
                note["was"],
                note["now"],
                item.source,
            )
            applied.append(note)
    if not release and any(not (e.clip and e.was is not None) for e in errata.items):
        notes.append(
            f"the sheet has {len(sheet)} rows, not the {errata.release_rows} of the release "
            "MEB's row numbers refer to: row-numbered errata not applied"
        )
        log.info("%s: %s", errata.dataset, notes[-1])
    if applied:
        log.warning(
            "%s: %d sheet corrections applied (%s); errata=False (--no-errata) reads the "
            "sheet as released",
            errata.dataset,
            len(applied),
            MEB.split(";")[0] + ")",
        )
    return sheet
