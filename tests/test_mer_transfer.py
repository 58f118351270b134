"""Recognition across people and datasets: STSTNet on flow trained on one demo person and tested
on the other (both ways), the MobileNet hybrid reading the apex at EquiME's default sampling,
and the MEGC 2019 composite experiment from docs/mer.md end to end on the miniature datasets."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from mer_fixtures import make_casme2, make_samm, make_smic
from mer_flow_fixtures import person_folder

from equime.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "mer.md"
# the setting (20 per face) at 128 px instead of 256 (the full size: benchmarks/
# bench_mer_flow.py, BENCHMARKS.md); every other generator setting is the default
PER_FACE = 20
SIZE = 128
# The bar. Measured at this size with STSTNet's default training (flow augmented,
# mer.augment): warp 3.0 (motion from real faces, person / per-video variation 0.05 / 0.15)
# 0.907 / 1.000, a thin margin (0.1 / 0.1: 0.891; no variation: 0.900; docs/generator.md);
# warp 2.0 (the table) 0.950 / 1.000, seeds 0-4: 0.942-0.990 / 0.980-1.000 (chance 0.2).
# Without augmentation it was 0.81 / 0.93 at 12 per face: training on one face needs it.
# With the start faces of issue 26 (the astronaut's smile undone with the real-data motion, lips
# closed with the jaw; portraits landmarked on the whole photo as before): 0.939 / 1.000.
MIN_UF1 = 0.9


def _generate(folder: Path, out: Path, *extra: str) -> Path:
    args = ["generate", str(folder), "--out", str(out), "--workers", "2", "--no-progress"]
    assert main([*args, *extra]) == 0
    return out


def _evaluate(experiment: dict, config: Path) -> None:
    """`equime evaluate` on `experiment` written to `config`; the experiment's `threads: 1`
    sets torch's thread count for the process, so the test's own is put back after."""
    config.write_text(yaml.safe_dump(experiment))
    threads = torch.get_num_threads()
    try:
        assert main(["evaluate", str(config), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)


@pytest.mark.slow
def test_flow_transfers_across_people(tmp_path) -> None:
    """One dataset from a folder holding only the astronaut photo and one holding only Grace
    Hopper's (generator defaults, 20 per face, at 128 px); `equime evaluate` with STSTNet on
    flow trains on one person and tests on the other: UF1 >= MIN_UF1 both ways (chance 0.2)."""
    for person in ("astronaut", "grace"):
        photos = person_folder(tmp_path / f"{person}_photos", person)
        _generate(photos, tmp_path / person, "--per-face", str(PER_FACE), "--size", str(SIZE))
    experiment = {
        "name": "cross-identity",
        "out": "results",
        "scheme": "equime5",
        "input": "flow",
        "models": ["ststnet"],
        "datasets": {
            "astronaut": {"format": "equime", "path": "astronaut"},
            "grace": {"format": "equime", "path": "grace"},
        },
        "train_on": ["astronaut", "grace"],
        "test_on": ["astronaut", "grace"],
        "within": "skip",
        "cache": "cache",
        "train": {"threads": 1},  # STSTNet's own lr (1e-3), 100 epochs, patience 15
    }
    _evaluate(experiment, tmp_path / "cross.yaml")
    results = pd.read_csv(tmp_path / "results" / "results.csv")
    print(results[["train", "test", "uf1", "uar", "accuracy"]])
    assert len(results) == 2 and set(results["protocol"]) == {"cross-dataset"}
    assert (results["uf1"] >= MIN_UF1).all()
    pred = pd.read_csv(tmp_path / "results" / "predictions" / "astronaut__ststnet__grace.csv")
    assert not pred["apex_estimated"].any()  # EquiME's apex is the generator's own
    assert (pred["apex_used"] == pred["apex"]).all()


@pytest.mark.slow
def test_mobilenet_reads_the_apex_at_equime_default_sampling(tmp_path) -> None:
    """Within-identity split (train on 6 repeats of each (person, emotion), test on the other
    2): MobileNet hybrid at the dataset's default sampling (`first`, 96 frames) learns. Before the
    fix it read frame 48 of a 17-frame clip: padding, so chance (0.2)."""
    from mer_fixtures import GENERATE

    from equime.mer.cache import ClipCache
    from equime.mer.checkpoint import load_checkpoint
    from equime.mer.datasets import load_dataset
    from equime.mer.metrics import classification_metrics
    from equime.mer.predict import predict_table
    from equime.mer.train import TrainConfig, apply_scheme, fit, save_fit

    data = tmp_path / "demo"
    assert main(["generate", "--demo", "--per-face", "8", "--out", str(data), *GENERATE]) == 0
    table, classes = apply_scheme(load_dataset("equime", data), "equime5")
    repeat = table.groupby(["subject", "emotion"]).cumcount()
    train, test = (
        table[repeat < 6].reset_index(drop=True),
        table[repeat >= 6].reset_index(drop=True),
    )
    cfg = TrainConfig(
        data=str(data),
        model="mobilenet",
        out=str(tmp_path / "ck"),
        epochs=20,
        lr=1e-3,
        size=32,
        threads=1,
        cache=str(tmp_path / "cache"),
        progress=False,
        options={"image_size": 64},
    )
    threads = torch.get_num_threads()
    try:
        fitted = fit(train, classes, "first", cfg)
        save_fit(cfg.out, cfg, fitted, train, classes, "first")
        model, config = load_checkpoint(cfg.out)
        pred = predict_table(model, config, test, "first", ClipCache(tmp_path / "cache"))
    finally:
        torch.set_num_threads(threads)
    metrics = classification_metrics(pred["y_true"], pred["y_pred"], 5)
    print(f"MobileNet hybrid, within identity: {metrics}")
    assert metrics["accuracy"] >= 0.5  # chance 0.2; measured 1.00 (old middle frame: 0.20)
    assert fitted.sampling == config["sampling"] == "apex-frame"


def _docs_experiment() -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)
    return yaml.safe_load(next(b for b in blocks if "scheme: megc2019" in b))


@pytest.mark.slow
def test_megc2019_composite_preset_end_to_end(tmp_path) -> None:
    """The docs' composite experiment on the miniature SMIC, CASME II and SAMM: one pooled LOSO,
    every clip predicted once by the fold leaving its subject out; UF1 and UAR are
    scikit-learn's macro F1 and balanced accuracy on the pooled predictions."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    from equime.mer.datasets import load_dataset
    from equime.mer.labels import label_rows

    exp = _docs_experiment()
    assert exp["scheme"] == "megc2019" and exp["within"] == "loso"
    paths = {
        "smic": make_smic,
        "casme2": lambda p: make_casme2(p, extra_subjects=2),
        "samm": make_samm,
    }
    for name, make in paths.items():
        exp["datasets"][name]["path"] = str(make(tmp_path / name))
    exp.update(
        out=str(tmp_path / "results"),
        cache=str(tmp_path / "cache"),
        models=["ststnet"],
        train={"epochs": 2, "batch": 4, "threads": 1},
    )
    _evaluate(exp, tmp_path / "megc.yaml")
    results = pd.read_csv(tmp_path / "results" / "results.csv")
    assert list(results["protocol"]) == ["loso"]
    pred = pd.read_csv(tmp_path / "results" / "predictions" / "composite__ststnet__composite.csv")
    expected = []  # every clip of the three with a class under megc2019, named as pooled
    for name in paths:
        table = load_dataset(name, exp["datasets"][name]["path"])
        kept = table[[c is not None for c in label_rows(table, "megc2019")]]
        expected += [f"{name}/{clip}" for clip in kept["clip"]]
    assert len(expected) >= 12
    assert sorted(pred["clip"]) == sorted(expected)  # each clip once
    assert set(pred["dataset"]) == {"smic", "casme2", "samm"}
    assert pred["fold"].nunique() == pred["subject"].nunique() >= 6
    assert (pred.groupby("subject")["fold"].nunique() == 1).all()
    assert pred.loc[pred["dataset"] == "smic", "apex_estimated"].all()  # SMIC has no apex
    row = results.iloc[0]
    y_true, y_pred = pred["y_true"].to_numpy(), pred["y_pred"].to_numpy()
    assert np.isclose(row["uf1"], f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert np.isclose(row["uar"], balanced_accuracy_score(y_true, y_pred))
