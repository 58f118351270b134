"""Every loader parses its miniature fixture (the documented layouts with the real files'
quirks) into the right rows, frames and labels, and says which rows it left out and why."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from mer_fixtures import (
    MEGC_LEFT_OUT,
    level,
    make_casme2,
    make_casme3,
    make_miex,
    make_samm,
    make_smic,
    write_frames,
    write_xlsx,
)

from equime.errors import EquimeError
from equime.mer.cache import decode_clip
from equime.mer.clips import read_frames
from equime.mer.datasets import ROW_COLUMNS, dataset_names, load_dataset
from equime.mer.labels import map_label
from equime.mer.sampling import sample_indices


def frame_levels(row: pd.Series, method: str, n: int) -> list[int]:
    """Which frames (by their encoded number's grey level) the sampler and reader picked."""
    frames = read_frames(row["source"], sample_indices(row, method, n))
    return [round(float(f.mean())) for f in frames]


def skipped(table: pd.DataFrame) -> dict[str, str]:
    return {s["clip"]: s["reason"] for s in table.attrs["skipped"]}


def test_registry() -> None:
    assert set(dataset_names()) == {"equime", "folder", "samm", "casme2", "casme3", "smic", "miex"}
    with pytest.raises(EquimeError, match="unknown dataset"):
        load_dataset("ckplus", ".")


def test_samm(tmp_path) -> None:
    """Header on spreadsheet row 14; apex -1 -> midpoint; 200 fps."""
    table = load_dataset("samm", make_samm(tmp_path))
    assert list(table.columns[: len(ROW_COLUMNS)]) == ROW_COLUMNS
    assert list(table["clip"]) == ["006_1_2", "006_1_3", "007_6_1", "007_7_2"]
    assert list(table["subject"]) == ["006", "006", "007", "007"]
    assert list(table["emotion"]) == ["anger", "contempt", "happiness", "others"]
    assert set(table["fps"]) == {200.0}
    first = table.iloc[0]  # frames 5560..5607: onset 5562 -> position 2
    assert (first["onset"], first["apex"], first["offset"]) == (2, 28, 45)
    assert table.iloc[2]["apex"] == (2 + 22) // 2  # apex -1 in the sheet -> midpoint
    assert list(table["apex_source"]) == ["sheet", "sheet", "midpoint", "sheet"]
    assert frame_levels(first, "onset-offset", 96) == [level(n) for n in range(5562, 5606)]
    assert frame_levels(first, "onset-offset", 5) == [level(n) for n in range(5562, 5567)]
    assert frame_levels(first, "apex", 4) == [level(n) for n in range(5586, 5590)]
    assert [map_label(e, "3class") for e in table["emotion"]] == [
        "negative",
        "negative",
        "positive",
        None,
    ]


def test_au_cells_with_alternatives_keep_every_code(tmp_path) -> None:
    """'4+7 (or 43)' parsed to 4 and 'R12 or R15' to R15: every named code is kept now."""
    table = load_dataset("samm", make_samm(tmp_path)).set_index("clip")
    assert table.loc["006_1_2", "aus"] == "4+7+43"
    assert table.loc["007_7_2", "aus"] == "R12+R15"
    assert table.loc["007_7_2", "aus_sheet"] == "R12 or R15"
    assert table.loc["006_1_3", "aus"] == "R12+L14"


def test_missing_frames_are_skipped_not_moved_to_the_nearest_file(tmp_path) -> None:
    """SAMM 008_1_1: the sheet says frames 40-50, the folder holds 100-109. It was loaded as
    onset = apex = offset = 0; now it is left out, with its reason."""
    table = load_dataset("samm", make_samm(tmp_path))
    assert "008_1_1" not in set(table["clip"])
    assert skipped(table) == {"008_1_1": "missing frames", "009_9_9": "no frame folder"}
    detail = next(s["detail"] for s in table.attrs["skipped"] if s["clip"] == "008_1_1")
    assert "40" in detail and "100-109" in detail


def test_unknown_label_and_duplicate_rows_are_skipped(tmp_path) -> None:
    root = make_casme2(tmp_path, 1)
    from openpyxl import load_workbook

    book = load_workbook(root / "CASME2-coding-20140508.xlsx")
    sheet = book.active
    sheet.append([1, "EP03_02", 1, 1, 10, 20, 2, "4+L10", "disgust"])  # the same clip again
    sheet.append([2, "EP09_01", 3, 5, 8, 12, "", "R4", "confused"])
    book.save(root / "CASME2-coding-20140508.xlsx")
    table = load_dataset("casme2", root)
    assert len(table) == 4
    assert [(s["clip"], s["reason"]) for s in table.attrs["skipped"]] == [
        ("sub02/EP09_01", "unknown label"),
        ("sub01/EP03_02", "duplicate"),
    ]


def test_frames_out_of_order_are_skipped(tmp_path) -> None:
    root = make_casme2(tmp_path, 1)
    from openpyxl import load_workbook

    book = load_workbook(root / "CASME2-coding-20140508.xlsx")
    book.active.append([2, "EP10_01", 3, 30, 45, 40, "", "4", "disgust"])  # apex after offset
    book.save(root / "CASME2-coding-20140508.xlsx")
    write_frames(root / "sub02" / "EP10_01", range(30, 50))
    table = load_dataset("casme2", root)
    assert skipped(table) == {"sub02/EP10_01": "frames out of order"}
    assert not any(c.startswith("_") for c in table.columns)  # the blank-header columns


def test_equime_folder_frame_rate(tmp_path) -> None:
    from equime.video.mp4 import write_mp4

    write_mp4(tmp_path / "v" / "a.mp4", np.zeros((5, 16, 16, 3), np.uint8), fps=24)
    pd.DataFrame(
        {
            "id": ["a"],
            "file_name": ["v/a.mp4"],
            "face_id": ["f1"],
            "label": ["happiness"],
            "fps": [24.0],
            "onset": [1],
            "apex": [2],
            "offset": [3],
        }
    ).to_csv(tmp_path / "metadata.csv", index=False)
    row = load_dataset("equime", tmp_path).iloc[0]
    assert (row["fps"], row["apex"], row["apex_source"]) == (24.0, 2, "sheet")


@pytest.mark.parametrize("version", [1, 2])
def test_casme2_sheet_versions(tmp_path, version: int) -> None:
    """Both releases' headers, the two blank-header columns, '/' apexes, 200 fps."""
    table = load_dataset("casme2", make_casme2(tmp_path, version))
    assert list(table["clip"]) == [
        "sub01/EP02_01f",
        "sub01/EP03_02",
        "sub02/EP02_01f",
        "sub02/EP09_01",
    ]
    assert list(table["subject"]) == ["sub01", "sub01", "sub02", "sub02"]
    assert list(table["emotion"]) == ["happiness", "disgust", "repression", "others"]
    assert list(table["aus"]) == ["12", "4+L10", "14", "R4"]
    assert set(table["fps"]) == {200.0}
    first = table.iloc[0]  # img46..img86: onset 46 -> 0, offset 86 -> 40
    assert (first["onset"], first["offset"], first["n_frames"]) == (0, 40, 41)
    assert first["apex"] == (13 if version == 1 else 20)  # '/' in v2 -> midpoint
    assert first["apex_source"] == ("sheet" if version == 1 else "midpoint")
    assert frame_levels(first, "first", 3) == [level(n) for n in (46, 47, 48)]
    schemes = {s: [map_label(e, s) for e in table["emotion"]] for s in ("3class", "5class")}
    assert schemes["3class"] == ["positive", "negative", "negative", None]  # MEGC: repression
    assert schemes["5class"] == ["happiness", "disgust", None, None]


def test_casme2_fixture_has_the_clips_megc_2019_leaves_out(tmp_path) -> None:
    table = load_dataset("casme2", make_casme2(tmp_path, 1, megc=True)).set_index("clip")
    assert set(MEGC_LEFT_OUT) <= set(table.index)
    assert table.loc["sub05/EP19_01", "emotion"] == "fear"
    assert table.loc["sub24/EP08_02", "emotion"] == "sadness"
    assert table.loc["sub04/EP12_01f", "apex_source"] == "midpoint"  # '/' in the release too
    assert all(map_label(table.loc[c, "emotion"], "3class") for c in MEGC_LEFT_OUT)
    # the composite leaves out fear, sadness and the three named clips (MEGC 2019, as MEB does);
    # the CASME II 5-class scheme keeps the named clips and, like the literature's 247-clip
    # protocol (happiness, disgust, repression, surprise, others), has no fear or sadness class
    from equime.mer.labels import label_rows

    table = table.reset_index()
    composite = dict(
        zip(table["clip"], label_rows(table.assign(dataset="casme2"), "megc2019"), strict=True)
    )
    five = dict(zip(table["clip"], label_rows(table, "casme2-5class"), strict=True))
    out = [*MEGC_LEFT_OUT, "sub05/EP19_01", "sub24/EP08_02"]
    assert all(composite[c] is None for c in out)
    rest = table[~table["clip"].isin(out)]
    assert [composite[c] for c in rest["clip"]] == [map_label(e, "3class") for e in rest["emotion"]]
    assert all(five[c] is not None for c in MEGC_LEFT_OUT)
    assert five["sub05/EP19_01"] is None and five["sub24/EP08_02"] is None


def _samm_release(root) -> None:
    """A SAMM sheet with the release's 159 rows (header on row 14) and the rows MEB corrects."""
    header = ["Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", "Action Units"]
    rows = [[99, f"099_0_{i}", 1, 2, 3, "4", "Anger"] for i in range(159)]
    rows[56] = [11, "011_2_3", 5700, 5720, 5800, "4", "Anger"]  # files 5700-5739
    rows[125] = [12, "012_1_1", 1090, -1, 1120, "12", "Happiness"]
    rows[132] = [12, "012_2_1", 4900, 4910, 4960, "12", "Happiness"]  # apex coded: kept
    rows[41] = [13, "013_1_1", 10, 12, 14, "L14 or R14", "Contempt"]
    write_xlsx(
        root / "SAMM_Micro_FACS_Codes_v2.xlsx",
        [*[["x"]] * 13, [*header, "Estimated Emotion"], *rows],
    )
    write_frames(root / "011" / "011_2_3", range(5700, 5740), "011_{:05d}.jpg")
    write_frames(root / "012" / "012_1_1", range(1090, 1121), "012_{:05d}.jpg")
    write_frames(root / "012" / "012_2_1", range(4900, 4961), "012_{:05d}.jpg")
    write_frames(root / "013" / "013_1_1", range(10, 15), "013_{:05d}.jpg")


def test_samm_errata(tmp_path) -> None:
    """MEB's SAMM corrections by its row numbers (0-based after the header on row 14)."""
    _samm_release(tmp_path)
    table = load_dataset("samm", tmp_path).set_index("clip")
    assert list(table.index) == ["013_1_1", "011_2_3", "012_1_1", "012_2_1"]
    assert table.loc["011_2_3", "offset"] == 39  # offset 5800 -> 5739
    assert (table.loc["012_1_1", "apex"], table.loc["012_1_1", "apex_source"]) == (15, "errata")
    assert (table.loc["012_2_1", "apex"], table.loc["012_2_1", "apex_source"]) == (10, "sheet")
    assert table.loc["013_1_1", "aus"] == "L14"
    fixes = {
        (e["clip"], e["field"]): (e["was"], e["now"], e["sheet_row"]) for e in table.attrs["errata"]
    }
    assert fixes == {
        ("011_2_3", "offset"): ("5800", "5739", 71),
        ("012_1_1", "apex"): ("-1", "1105", 140),
        ("013_1_1", "aus"): ("L14 or R14", "L14", 56),
    }
    assert all("tvaranka/meb" in e["source"] for e in table.attrs["errata"])
    raw = load_dataset("samm", tmp_path, errata=False)
    assert raw.attrs["errata"] == [] and skipped(raw)["011_2_3"] == "missing frames"
    assert raw.set_index("clip").loc["013_1_1", "aus"] == "L14+R14"


def test_casme2_errata(tmp_path) -> None:
    """Row 60's offset and the apexes coded '/' (MEB's 21 rows), only where '/' is in the sheet."""
    header = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units"]
    rows = [[26, f"EP99_{i}", 1, 2, 3, "4", "disgust"] for i in range(256)]
    rows[29] = [4, "EP12_01f", 261, "/", 321, "4", "happiness"]
    rows[35] = [5, "EP01_01", 60, 70, 80, "4", "disgust"]  # apex coded: MEB's 68 not applied
    rows[60] = [7, "EP18_01", 60, "/", 100, "4", "disgust"]  # files end at 91
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", [[*header, "Estimated Emotion"], *rows])
    write_frames(tmp_path / "sub04" / "EP12_01f", range(261, 322))
    write_frames(tmp_path / "sub05" / "EP01_01", range(60, 81))
    write_frames(tmp_path / "sub07" / "EP18_01", range(60, 92))
    table = load_dataset("casme2", tmp_path).set_index("clip")
    assert table.loc["sub04/EP12_01f", "apex"] == 279 - 261
    assert table.loc["sub05/EP01_01", "apex"] == 10
    row = table.loc["sub07/EP18_01"]
    assert (row["apex"], row["offset"], row["apex_source"]) == (78 - 60, 91 - 60, "errata")
    assert len(table.attrs["errata"]) == 3
    raw = load_dataset("casme2", tmp_path, errata=False).set_index("clip")
    assert raw.loc["sub04/EP12_01f", "apex_source"] == "midpoint"
    assert "sub07/EP18_01" not in raw.index  # offset 100 has no file


def test_errata_by_row_number_need_the_release_sheet(tmp_path) -> None:
    """In a sheet of another length MEB's row numbers name other clips: not applied, and said."""
    table = load_dataset("samm", make_samm(tmp_path))
    assert table.attrs["errata"] == []
    assert any("159" in note for note in table.attrs["notes"])


def test_casme3_two_micro_expressions_in_one_video(tmp_path) -> None:
    table = load_dataset("casme3", make_casme3(tmp_path)).set_index("clip")
    first, second = table.loc["spNO.1/a/10-22"], table.loc["spNO.1/a/40-48"]
    assert first["source"] == second["source"] and first["source"].endswith("spNO.1/a/color")
    assert (first["onset"], first["apex"], first["offset"]) == (10, 15, 22)
    assert (second["onset"], second["apex"], second["offset"]) == (40, 44, 48)
    assert (first["emotion"], second["emotion"]) == ("happiness", "disgust")
    assert first["video"] == second["video"] == "spNO.1/a"
    assert frame_levels(second, "onset-offset", 96) == [level(n) for n in range(40, 49)]
    row = table.loc["spNO.1/b/100-110"]
    assert (row["onset"], row["apex"], row["offset"], row["fps"]) == (0, 4, 10, 30.0)
    assert frame_levels(row, "apex", 3) == [level(n) for n in (103, 104, 105)]
    assert table.loc["spNO.2/a/0-6", "aus"] == "1+2+5"


def test_casme3_errata(tmp_path) -> None:
    """spNO.216/d (onset 3647 after its apex) and /e (frame 0 does not exist), as MEB fixes them."""
    make_casme3(tmp_path)
    table = load_dataset("casme3", tmp_path).set_index("clip")
    assert table.loc["spNO.216/d/2647-2694", "onset"] == 7  # files from 2640
    assert table.loc["spNO.216/e/1-25", ["onset", "apex", "offset"]].tolist() == [0, 0, 24]
    assert len(table.attrs["errata"]) == 3
    raw = load_dataset("casme3", tmp_path, errata=False)
    assert skipped(raw) == {
        "spNO.216/d/3647-2694": "missing frames",
        "spNO.216/e/0-25": "missing frames",
    }


def test_casme3_full_sheet_keeps_micro_rows(tmp_path) -> None:
    make_casme3(tmp_path, full_sheet=True)
    table = load_dataset("casme3", tmp_path, sheet="CAS(ME)3_part_A_v2.xlsx")
    assert list(table["clip"]) == ["spNO.1/a/10-22", "spNO.1/a/40-48", "spNO.2/a/0-6"]
    assert list(table["emotion"]) == ["happiness", "disgust", "surprise"]  # from the ME sheet
    assert set(table["expression"]) == {"micro"}
    assert skipped(table) == {"spNO.1/a/30-55": "macro-expression"}
    macro = load_dataset("casme3", tmp_path, sheet="CAS(ME)3_part_A_v2.xlsx", expression="all")
    assert skipped(macro) == {"spNO.1/a/30-55": "no emotion label"}


def test_casme3_never_reads_an_unrelated_workbook(tmp_path) -> None:
    make_casme3(tmp_path)
    (tmp_path / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx").unlink()
    with pytest.raises(EquimeError, match="no annotation sheet"):
        load_dataset("casme3", tmp_path)  # participants.xlsx is not a label sheet


def test_smic_three_cameras_under_one_root(tmp_path) -> None:
    table = load_dataset("smic", make_smic(tmp_path))
    assert list(table["clip"]) == [
        "HS/s1/s1_ne_01",
        "HS/s1/s1_sur_01",
        "HS/s2/s2_po_01",
        "NIR/s1/s1_ne_01",
        "VIS/s1/s1_ne_01",
    ]
    assert list(table["fps"]) == [100.0, 100.0, 100.0, 25.0, 25.0]
    assert list(table["subject"]) == ["s1", "s1", "s2", "s1", "s1"]  # one person, three cameras
    assert list(table["emotion"]) == ["negative", "surprise", "positive", "negative", "negative"]
    assert list(table["apex"][:3]) == [5, 4, 9] and set(table["apex_source"]) == {"midpoint"}
    assert frame_levels(table.iloc[2], "onset-offset", 96) == [level(n) for n in range(300, 320)]
    assert skipped(table) == {"HS/s2/empty_clip": "no frame folder"}
    hs = load_dataset("smic", tmp_path, modality="HS")
    assert set(hs["modality"]) == {"HS"} and len(hs) == 3


def test_smic_without_camera_folders(tmp_path) -> None:
    write_frames(tmp_path / "s3" / "micro" / "positive" / "s3_po_01", range(5), "image{:06d}.bmp")
    table = load_dataset("smic", tmp_path)
    assert list(table["clip"]) == ["s3/s3_po_01"] and math.isnan(table["fps"].iloc[0])


def test_miex_label_suffixes_the_right_way_round(tmp_path) -> None:
    table = load_dataset("miex", make_miex(tmp_path)).set_index("clip")
    assert table.loc["000017_mead_0", "emotion"] == "negative"  # the authors' loader said positive
    assert table.loc["000017_mead_1", "emotion"] == "positive"  # ... and negative here
    assert table.loc["000042_mmew_a_2", "emotion"] == "surprise"
    assert table.loc["000042_mmew_a_2", "miex_source"] == "mmew_a"
    assert table.loc["000042_mead_1", "subject"] == "000042"
    assert table.loc["000042_mead_1", "n_frames"] == 5


def test_miex_apex_is_the_last_frame(tmp_path) -> None:
    table = load_dataset("miex", make_miex(tmp_path)).set_index("clip")
    assert table.loc["000051_mmew_0", ["n_frames", "apex"]].tolist() == [2, 1]
    assert table.loc["000051_casme_2", ["n_frames", "apex"]].tolist() == [10, 9]
    assert set(table["apex_source"]) == {"last"} and table["fps"].isna().all()
    row = table.loc["000051_casme_2"]
    assert frame_levels(row, "apex", 1) == [level(9)]


def test_folder_layouts(tmp_path) -> None:
    from equime.video.mp4 import write_mp4

    frames = np.zeros((6, 16, 16, 3), np.uint8)
    write_mp4(tmp_path / "by_label" / "Happy" / "a.mp4", frames, fps=24)
    write_frames(tmp_path / "by_label" / "sad" / "b", range(4))
    table = load_dataset("folder", tmp_path / "by_label")
    assert list(table["clip"]) == ["Happy/a", "sad/b"]
    assert list(table["emotion"]) == ["happiness", "sadness"]
    listed = tmp_path / "listed"
    write_mp4(listed / "clips" / "x.mp4", frames, fps=24)
    pd.DataFrame(
        {
            "path": ["clips/x.mp4"],
            "label": ["Anger"],
            "subject": ["p1"],
            "gender": ["Woman"],
            "age": ["34"],
        }
    ).to_csv(listed / "labels.csv", index=False)
    row = load_dataset("folder", listed).iloc[0]
    assert (row["emotion"], row["subject"], row["gender"], row["age_group"]) == (
        "anger",
        "p1",
        "Woman",
        "31-40",
    )
    assert decode_clip(row, sample_indices(row, "first", 96), 8).shape == (6, 8, 8)


def test_bad_folders(tmp_path) -> None:
    with pytest.raises(EquimeError, match="dataset folder not found"):
        load_dataset("samm", tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EquimeError, match="no annotation sheet"):
        load_dataset("casme2", tmp_path / "empty")
    with pytest.raises(EquimeError, match="no clips found"):
        load_dataset("smic", tmp_path / "empty")
    write_xlsx(tmp_path / "bad" / "CASME2-coding-x.xlsx", [["Foo", "Bar"], [1, 2]])
    with pytest.raises(EquimeError, match="no header row"):
        load_dataset("casme2", tmp_path / "bad")


def test_casme2_sheet_choice(tmp_path) -> None:
    """Two sheet versions side by side: the user must pick one (`sheet`, `--sheet`)."""
    make_casme2(tmp_path, 1)
    make_casme2(tmp_path, 2)
    with pytest.raises(EquimeError, match="several annotation sheets"):
        load_dataset("casme2", tmp_path)
    assert (
        load_dataset("casme2", tmp_path, sheet="CASME2-coding-20140508-v2.xlsx").iloc[0]["apex"]
        == 20
    )
    chosen = load_dataset("casme2", tmp_path, sheet="CASME2-coding-20140508.xlsx")
    assert chosen.iloc[0]["apex"] == 13
    with pytest.raises(EquimeError, match="takes no option sheet"):
        load_dataset("smic", tmp_path, sheet="x.xlsx")


def test_folder_rows_sharing_a_video(tmp_path) -> None:
    """Two expressions of one recording are two clips (`path@onset`); a `clip` column names them
    itself; one id on two rows is a one-line error naming both lines."""
    from equime.video.mp4 import write_mp4

    frames = np.full((6, 16, 16, 3), 90, np.uint8)
    write_mp4(tmp_path / "v.mp4", frames, fps=24)
    rows = {"path": ["v.mp4", "v.mp4"], "label": ["sadness", "happiness"], "onset": [0, 3]}
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    table = load_dataset("folder", tmp_path)
    assert list(table["clip"]) == ["v.mp4@0", "v.mp4@3"]
    assert list(table["emotion"]) == ["sadness", "happiness"]
    assert list(table["onset"]) == [0, 3]
    pd.DataFrame({**rows, "clip": ["cry", "laugh"]}).to_csv(tmp_path / "labels.csv", index=False)
    assert list(load_dataset("folder", tmp_path)["clip"]) == ["cry", "laugh"]
    pd.DataFrame({**rows, "onset": [2, 2]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(EquimeError, match=r"lines 2 and 3 are both clip 'v.mp4@2'"):
        load_dataset("folder", tmp_path)
