"""Every loader parses its miniature fixture into the right rows, frames and labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mer_fixtures import level, make_casme2, make_casme3, make_miex, make_samm, make_smic

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


def test_registry() -> None:
    assert set(dataset_names()) == {"equime", "folder", "samm", "casme2", "casme3", "smic", "miex"}
    with pytest.raises(EquimeError, match="unknown dataset"):
        load_dataset("ckplus", ".")


def test_samm(tmp_path) -> None:
    table = load_dataset("samm", make_samm(tmp_path))
    assert list(table.columns[: len(ROW_COLUMNS)]) == ROW_COLUMNS
    assert list(table["clip"]) == ["006_1_2", "006_1_3", "007_6_1", "007_7_2"]  # 009 has no frames
    assert list(table["subject"]) == ["006", "006", "007", "007"]
    assert list(table["emotion"]) == ["anger", "contempt", "happiness", "others"]
    assert list(table["aus"]) == ["4+7", "R12+L14", "12", "1+2"]
    first = table.iloc[0]  # frames 5560..5607: onset 5562 -> position 2
    assert (first["onset"], first["apex"], first["offset"]) == (2, 28, 45)
    assert table.iloc[2]["apex"] == (2 + 22) // 2  # apex -1 in the sheet -> midpoint
    assert frame_levels(first, "onset-offset", 96) == [level(n) for n in range(5562, 5606)]
    assert frame_levels(first, "onset-offset", 5) == [level(n) for n in range(5562, 5567)]
    assert frame_levels(first, "apex", 4) == [level(n) for n in range(5586, 5590)]
    assert [map_label(e, "3class") for e in table["emotion"]] == [
        "negative",
        "negative",
        "positive",
        None,
    ]


@pytest.mark.parametrize("version", [1, 2])
def test_casme2_sheet_versions(tmp_path, version: int) -> None:
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
    first = table.iloc[0]  # img46..img86: onset 46 -> 0, offset 86 -> 40
    assert (first["onset"], first["offset"], first["n_frames"]) == (0, 40, 41)
    assert first["apex"] == (13 if version == 1 else 20)  # '/' in v2 -> midpoint
    assert frame_levels(first, "first", 3) == [level(n) for n in (46, 47, 48)]
    schemes = {s: [map_label(e, s) for e in table["emotion"]] for s in ("3class", "5class")}
    assert schemes["3class"] == ["positive", "negative", "negative", None]  # MEGC: repression
    assert schemes["5class"] == ["happiness", "disgust", None, None]


def test_casme3(tmp_path) -> None:
    table = load_dataset("casme3", make_casme3(tmp_path))
    assert list(table["clip"]) == ["spNO.1/a", "spNO.1/b", "spNO.2/a"]
    assert list(table["emotion"]) == ["happiness", "anger", "surprise"]
    assert list(table["aus"]) == ["L12+R12", "4+7", "1+2+5"]
    row = table.iloc[1]
    assert row["source"].endswith("spNO.1/b/color")
    assert (row["onset"], row["apex"], row["offset"]) == (0, 4, 10)
    assert frame_levels(row, "apex", 3) == [level(n) for n in (103, 104, 105)]


def test_smic(tmp_path) -> None:
    table = load_dataset("smic", make_smic(tmp_path))
    assert list(table["clip"]) == ["s1/s1_ne_01", "s1/s1_sur_01", "s2/s2_po_01"]
    assert list(table["emotion"]) == ["negative", "surprise", "positive"]
    assert list(table["apex"]) == [5, 4, 9]  # midpoint: SMIC codes no apex
    assert frame_levels(table.iloc[2], "onset-offset", 96) == [level(n) for n in range(300, 320)]
    assert [map_label(e, "5class") for e in table["emotion"]] == [None, "surprise", None]


def test_miex_label_suffixes_the_right_way_round(tmp_path) -> None:
    table = load_dataset("miex", make_miex(tmp_path)).set_index("clip")
    assert table.loc["000017_mead_0", "emotion"] == "negative"  # the authors' loader said positive
    assert table.loc["000017_mead_1", "emotion"] == "positive"  # ... and negative here
    assert table.loc["000042_mmew_a_2", "emotion"] == "surprise"
    assert table.loc["000042_mmew_a_2", "miex_source"] == "mmew_a"
    assert table.loc["000042_mead_1", "subject"] == "000042"
    assert table.loc["000042_mead_1", "n_frames"] == 5


def test_folder_layouts(tmp_path) -> None:
    from mer_fixtures import write_frames

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
    from mer_fixtures import write_xlsx

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
