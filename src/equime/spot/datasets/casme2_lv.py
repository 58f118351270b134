"""CAS(ME)^2 long videos (Qu et al. 2018, IEEE Trans. Affective Computing 9(4); MEGC 2019-2022):
`CAS(ME)^2code_final.xlsx` (or `code_final.xlsx`): a first sheet without header, one row per
expression: subject number, `<video name>_<k>`, onset, apex, offset, AUs, estimated emotion,
type (micro-expression / macro-expression), self-reported emotion; a sheet 'naming rule1'
(column 1 the subject folder `s15`, column 2 the subject number) and 'naming rule2' (column 0 the
video code `0101`, column 1 its name `anger1`). Frames: `rawpic/s15/15_0101disgustingteeth/
img1.jpg ...`, 30 fps. Video ids follow the MEGC baseline: `s15_0101`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.spot.datasets import find_file, fix_frames, register_loader, to_positions

FPS = 30.0
MAIN = ["subject", "name", "onset", "apex", "offset", "aus", "emotion", "type", "self_report"]


def _code(value: object) -> str:
    text = str(value).strip().removesuffix(".0")
    return text.zfill(4) if text.isdigit() else text


@register_loader("casme2-lv")
def load(root: Path) -> pd.DataFrame:
    path = find_file(root, ("*code_final*.xlsx", "*CAS*ME*2*.xlsx"), "CAS(ME)^2 code sheet")
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except (OSError, ValueError) as exc:
        raise EquimeError(f"{path}: cannot read the sheet ({exc})") from None
    names = list(sheets)
    if len(names) < 3:
        raise EquimeError(f"{path}: expected the code sheet and the two naming-rule sheets")
    main = sheets[names[0]].iloc[:, : len(MAIN)]
    main.columns = MAIN[: main.shape[1]]
    subjects = {
        int(float(r[2])): str(r[1]).strip()
        for r in sheets[names[1]].itertuples(index=False)
        if str(r[2]).replace(".0", "").isdigit()
    }
    videos = {str(r[1]).strip(): _code(r[0]) for r in sheets[names[2]].itertuples(index=False)}
    rows = []
    for r in main.dropna(how="all").itertuples(index=False):
        folder = subjects.get(int(float(r.subject)), f"s{int(float(r.subject))}")
        code = videos.get(str(r.name).strip().split("_")[0])
        if code is None:
            raise EquimeError(f"{path}: video name '{r.name}' is not in the naming-rule sheet")
        found = (
            sorted((root / "rawpic" / folder).glob(f"*_{code}*"))
            if (root / "rawpic").is_dir()
            else []
        )
        video_dir = found[0] if found else root / "rawpic" / folder / f"{folder.lstrip('s')}_{code}"
        rows.append(
            {
                "video": f"{folder}_{code}",
                "subject": folder,
                "path": str(video_dir),
                "fps": FPS,
                "type": str(r.type).strip(),
                "onset": r.onset,
                "apex": r.apex,
                "offset": r.offset,
                "emotion": str(r.emotion).strip(),
                "aus": str(r.aus).strip(),
            }
        )
    return to_positions(fix_frames(pd.DataFrame(rows)))
