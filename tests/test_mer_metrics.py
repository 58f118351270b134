"""Metrics equal scikit-learn's on a fixed table of predictions; per-group results on a fixed
table with attributes, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
)

from equime.mer.fairness import per_group
from equime.mer.metrics import classification_metrics

# 12 predictions over 4 classes; class 3 is never true but is predicted once
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 3, 1, 1, 0, 2, 2, 1, 2, 0])
CONF = np.array([0.9, 0.8, 0.5, 0.4, 0.7, 0.6, 0.5, 0.9, 0.8, 0.4, 0.7, 0.3])


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_metrics_equal_sklearn() -> None:
    m = classification_metrics(Y_TRUE, Y_PRED, 4, CONF)
    assert m["n"] == 12
    assert m["accuracy"] == pytest.approx(accuracy_score(Y_TRUE, Y_PRED))
    assert m["weighted_f1"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="weighted"))
    assert m["uf1"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average="macro"))
    assert m["uar"] == pytest.approx(balanced_accuracy_score(Y_TRUE, Y_PRED))
    assert m["mean_confidence"] == pytest.approx(CONF.mean())
    assert m["confusion"] == confusion_matrix(Y_TRUE, Y_PRED, labels=range(4)).tolist()
    assert m["accuracy"] == pytest.approx(7 / 12)  # and by hand


def test_metrics_random_tables_equal_sklearn() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        n, k = int(rng.integers(5, 60)), int(rng.integers(2, 6))
        t, p = rng.integers(0, k, n), rng.integers(0, k, n)
        m = classification_metrics(t, p, k)
        assert m["weighted_f1"] == pytest.approx(
            f1_score(t, p, average="weighted", zero_division=0)
        )
        assert m["uf1"] == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
        assert m["uar"] == pytest.approx(balanced_accuracy_score(t, p))


def test_per_group_table() -> None:
    table = pd.DataFrame(
        {
            "y_true": [0, 1, 2, 0, 1, 2, 0, 1, 0],
            "y_pred": [0, 1, 2, 0, 0, 0, 1, 1, 0],
            "gender": ["Woman"] * 4 + ["Man"] * 4 + [""],  # the last one is unknown: left out
            "race": ["white"] * 9,  # one group only: no comparison
            "age_group": [
                "20-30",
                "20-30",
                "31-40",
                "31-40",
                "20-30",
                "31-40",
                "20-30",
                "31-40",
                "20-30",
            ],
        }
    )
    groups, gaps = per_group(table)
    g = groups.set_index(["attribute", "group"])
    assert set(groups["attribute"]) == {"gender", "age_group"}
    assert g.loc[("gender", "Woman"), "accuracy"] == 1.0
    assert g.loc[("gender", "Man"), "accuracy"] == 0.25
    assert g.loc[("gender", "Man"), "n"] == 4
    man = table[table["gender"] == "Man"]
    assert g.loc[("gender", "Man"), "f1"] == pytest.approx(
        f1_score(man["y_true"], man["y_pred"], average="weighted")
    )
    gap = gaps.set_index(["attribute", "metric"])
    assert gap.loc[("gender", "accuracy"), "gap"] == pytest.approx(0.75)
    assert gap.loc[("gender", "accuracy"), "ratio"] == pytest.approx(0.25)
    assert gap.loc[("gender", "accuracy"), "worst"] == "Man"
    # age: 20-30 has 5 clips (3 right), 31-40 has 4 (3 right); the unknown-gender row counts here
    assert g.loc[("age_group", "20-30"), "accuracy"] == pytest.approx(3 / 5)
    assert g.loc[("age_group", "31-40"), "accuracy"] == pytest.approx(3 / 4)
    assert gap.loc[("age_group", "accuracy"), "ratio"] == pytest.approx(0.6 / 0.75)
    assert gap.loc[("age_group", "accuracy"), "best"] == "31-40"
