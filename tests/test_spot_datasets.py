"""Loaders of real long-video datasets on fixtures built from their documented formats:
CAS(ME)^2 (code sheet without header + two naming-rule sheets, rawpic/), SAMM-LV (notes above the
header, `Micro - 1/2`), CAS(ME)^3 part A (ME and MaE label sheets, <Subject>/<Filename>/color/):
right videos, types, 0-based frame positions, fps; errors name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mer_fixtures import write_samm_lv_sheet
from PIL import Image

from equime.errors import EquimeError
from equime.spot.datasets import load_long_dataset, loader_names


def _frames(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for name in names:
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / name)


def _casme2(root: Path) -> None:
    main = [
        [1, "anger1_1", 557, 572, 608, "4+10", "others", "macro-expression", "anger"],
        [1, "disgust1_3", 2120, 2124, 2133, "9", "disgust", "micro-expression", "disgust"],
        [2, "anger1_2", 100, 110, 0, "4", "negative", "macro-expression", "anger"],  # no offset
    ]
    with pd.ExcelWriter(root / "CAS(ME)^2code_final.xlsx") as xl:
        pd.DataFrame(main).to_excel(xl, sheet_name="CASFEcode_final", header=False, index=False)
        rule1 = [["sub one", "s15", 1], ["sub two", "s16", 2]]
        pd.DataFrame(rule1).to_excel(xl, sheet_name="naming rule1", header=False, index=False)
        rule2 = [["0401", "anger1"], ["0101", "disgust1"]]
        pd.DataFrame(rule2).to_excel(xl, sheet_name="naming rule2", header=False, index=False)
    _frames(root / "rawpic" / "s15" / "15_0401anger1", ["img1.jpg", "img2.jpg", "img10.jpg"])


def test_casme2_long_videos(tmp_path: Path) -> None:
    _casme2(tmp_path)
    table = load_long_dataset("casme2-lv", tmp_path)
    assert table["video"].tolist() == ["s15_0401", "s15_0101", "s16_0401"]
    assert table["type"].tolist() == ["mae", "me", "mae"]
    assert table[["onset", "apex", "offset"]].values.tolist() == [
        [556, 571, 607],
        [2119, 2123, 2132],
        [99, 109, 109],  # offset 0 in the sheet: the apex
    ]
    assert table.loc[0, "path"].endswith("rawpic/s15/15_0401anger1")
    assert (table["fps"] == 30).all() and table.loc[1, "emotion"] == "disgust"


def _sammlv(root: Path) -> None:
    notes = [["SAMM Long Videos", *[""] * 9], ["Release 2", *[""] * 9]] + [[""] * 10] * 7
    rows = [
        ["006", "006_1_1", 1, 566, 648, 743, 178, "Macro", "R12", ""],
        ["006", "006_1_2", 1, 1100, 1140, 1180, 81, "Micro - 1/2", "4", ""],
        ["007", "007_3_1", 3, 200, -1, 300, 101, "Macro", "1+2", "apex not coded"],
    ]
    write_samm_lv_sheet(root, notes, rows)
    _frames(root / "SAMM_longvideos" / "006_1", ["006_1_0001.jpg", "006_1_0002.jpg"])


def test_samm_long_videos(tmp_path: Path) -> None:
    _sammlv(tmp_path)
    table = load_long_dataset("samm-lv", tmp_path)
    assert table["video"].tolist() == ["006_1", "006_1", "007_3"]
    assert table["type"].tolist() == ["mae", "me", "mae"]
    assert table[["onset", "apex", "offset"]].values.tolist() == [
        [565, 647, 742],
        [1099, 1139, 1179],
        [199, 249, 299],
    ]
    assert (table["fps"] == 200).all() and table.loc[0, "aus"] == "R12"
    assert table.loc[0, "path"].endswith("SAMM_longvideos/006_1")


def _casme3(root: Path) -> None:
    cols = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
    me = [
        ["spNO.1", "a", 12, 15, 20, "4", 1, "disgust"],
        ["spNO.2", "b", 30, 33, 38, "12", 2, "happy"],
    ]
    mae = [["spNO.1", "a", 100, 130, 160, "6+12", 2, "happy"]]
    pd.DataFrame(me, columns=cols).to_excel(
        root / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx", index=False
    )
    pd.DataFrame(mae, columns=cols).to_excel(
        root / "cas(me)3_part_A_MaE_label_JpgIndex_v2.xlsx", index=False
    )
    _frames(root / "spNO.1" / "a" / "color", ["0.jpg", "1.jpg", "2.jpg"])  # numbered from 0


def test_casme3_part_a_long_videos(tmp_path: Path) -> None:
    _casme3(tmp_path)
    table = load_long_dataset("casme3-lv", tmp_path).sort_values(
        ["video", "onset"], ignore_index=True
    )
    assert table["video"].tolist() == ["spNO.1_a", "spNO.1_a", "spNO.2_b"]
    assert table["type"].tolist() == ["me", "mae", "me"]  # from the sheets' names
    # frames of spNO.1/a start at 0.jpg: positions are the numbers; spNO.2 is absent: number - 1
    assert table[["onset", "apex", "offset"]].values.tolist() == [
        [12, 15, 20],
        [100, 130, 160],
        [29, 32, 37],
    ]
    assert table.loc[0, "path"].endswith("spNO.1/a/color") and table.loc[2, "emotion"] == "happy"


def test_registry_and_errors(tmp_path: Path) -> None:
    assert {"casme2-lv", "samm-lv", "casme3-lv"} <= set(loader_names())
    with pytest.raises(EquimeError, match="unknown long-video dataset 'smic'"):
        load_long_dataset("smic", tmp_path)
    with pytest.raises(EquimeError, match="no SAMM-LV sheet found"):
        load_long_dataset("samm-lv", tmp_path)
    pd.DataFrame([["x"], ["y"]]).to_excel(
        tmp_path / "SAMM_LongVideos_V2_Release.xlsx", header=False, index=False
    )
    with pytest.raises(EquimeError, match=r"SAMM_LongVideos_V2_Release\.xlsx: no header row"):
        load_long_dataset("samm-lv", tmp_path)
