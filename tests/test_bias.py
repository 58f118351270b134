"""Bias metrics: the reference package (`dataset-bias-metrics`, the paper's reference [4])
against independent numpy formulas on random tables, and `equime stats` calling the package."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equime.cli import main
from equime.demographics import bias

dbm = pytest.importorskip("dataset_bias_metrics")


def _random_frames(n_tables: int = 12):
    """Random group x emotion tables of every small shape, 2 x 2 (Yates) included."""
    rng = np.random.default_rng(0)
    for k in range(n_tables):
        groups = list("abcdef"[: 2 + k % 5])
        emotions = list("wxyz"[: 2 + k % 3])
        n = int(rng.integers(20, 400))
        p = rng.dirichlet(np.ones(len(groups)) * 0.7)
        yield pd.DataFrame({"g": rng.choice(groups, n, p=p), "e": rng.choice(emotions, n)})


@pytest.mark.parametrize(
    "frame", list(_random_frames()), ids=lambda f: f"{f.g.nunique()}x{f.e.nunique()}"
)
def test_package_equals_our_formulas_for_every_shared_metric(frame):
    counts = frame["g"].value_counts()
    table = pd.crosstab(frame["g"], frame["e"])
    ours = bias.representational(frame["g"])  # what `equime stats` reports: the package's
    assert ours["entropy"] == pytest.approx(bias.entropy(counts), abs=1e-12)
    assert ours["entropy"] == pytest.approx(dbm.shannon_diversity(frame, "g"), abs=1e-12)
    assert ours["evenness"] == pytest.approx(bias.evenness(counts), abs=1e-12)
    assert ours["effective_groups"] == pytest.approx(bias.effective_groups(counts), abs=1e-12)
    assert ours["imbalance_ratio"] == pytest.approx(counts.max() / counts.min())
    assert ours["simpson_reciprocal"] == pytest.approx(1 / ((counts / counts.sum()) ** 2).sum())
    linked = bias.stereotypical(frame["g"], frame["e"])
    assert linked["cramers_v"] == pytest.approx(bias.cramers_v(table), abs=1e-12)
    package_npmi = bias.npmi_table(frame["g"], frame["e"])
    np.testing.assert_allclose(package_npmi.to_numpy(), bias.npmi(table).to_numpy(), atol=1e-12)


def test_yates_on_two_by_two_and_undefined_single_group():
    two = pd.DataFrame({"g": list("aaaaaabbbb"), "e": list("xxxxxyxyyy")})
    table = pd.crosstab(two["g"], two["e"])
    textbook = bias.cramers_v(table, correction=False)
    assert bias.stereotypical(two["g"], two["e"])["cramers_v"] == pytest.approx(
        bias.cramers_v(table)
    )
    assert bias.cramers_v(table) < textbook - 0.1  # the correction matters on small tables
    one = pd.Series(["white"] * 5)
    values = bias.representational(one)
    assert np.isnan(values["evenness"]) and np.isnan(values["nsd"])  # undefined, not "even"
    assert bias.vocabulary_evenness(one.value_counts(), 6) == 0.0  # EquiME variant: least even
    # two of six races equally present: the package's SEI 1.0, the vocabulary variant 0.387
    pair = pd.Series(["white", "asian"] * 5)
    assert bias.representational(pair)["evenness"] == pytest.approx(1.0)
    assert bias.vocabulary_evenness(pair.value_counts(), 6) == pytest.approx(np.log(2) / np.log(6))


def test_equime_stats_calls_the_package(tmp_path: Path, monkeypatch, capsys):
    """`equime stats` reports the package's numbers: every call into its metric tables is
    seen, and its version is recorded; a missing emotion is no 'unknown' emotion column."""
    calls: list[str] = []
    for module in (dbm.representational, dbm.stereotypical):
        for symbol, fn in list(module.metrics.items()):

            def spy(*args, _fn=fn, _symbol=symbol):
                calls.append(_symbol)
                return _fn(*args)

            monkeypatch.setitem(module.metrics, symbol, spy)
    real_npmi = dbm.local_stereotypical.npmi
    monkeypatch.setattr(
        dbm.local_stereotypical, "npmi", lambda *a: calls.append("NPMI") or real_npmi(*a)
    )
    frame = pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(8)],
            "label": ["happiness", "sadness"] * 3 + ["", "anger"],
            "gender": ["Woman", "Man", "Woman", "Woman", "Man", "Man", "Woman", ""],
            "race": ["white", "asian"] * 4,
        }
    )
    path = tmp_path / "meta.csv"
    frame.to_csv(path, index=False)
    assert main(["stats", str(path), "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    for symbol in ("H", "SEI", "ENS", "IR", "ϕ_C", "NMI", "NPMI"):
        assert symbol in calls, symbol
    record = json.loads((tmp_path / "r" / "stats.json").read_text())
    assert record["versions"]["dataset-bias-metrics"]
    assert record["bias_metrics"]["equime_variants"] == ["vocabulary_evenness"]
    race = record["attributes"]["race"]
    assert race["metrics"]["evenness"] == pytest.approx(1.0)
    assert race["provenance"]["emotion_unknown"] == 1
    by_emotion = pd.read_csv(tmp_path / "r" / "race_by_emotion.csv", index_col=0)
    assert list(by_emotion.columns) == ["anger", "happiness", "sadness"]
    assert by_emotion.to_numpy().sum() == 7
    md = (tmp_path / "r" / "stats.md").read_text()
    assert "dataset-bias-metrics" in md and "vocabulary evenness (EquiME variant)" in md
