"""Synthetic-to-real protocols of `equime evaluate` end to end on the miniature datasets: the
real set (CASME II) leave-one-subject-out, and the generated set (MiE-X, simulated clips) used
generated-only, pre-trained then fine-tuned, mixed and domain-adversarially, on the same folds,
in one report table; the gradient reversal of the adversarial protocol checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import yaml
from mer_fixtures import make_casme2, make_miex

from equime.cli import main
from equime.errors import EquimeError
from equime.mer.domain import DomainHead, reverse_gradient
from equime.mer.evaluate import load_experiment

TRAININGS = {"within", "generated-only", "pretrain + fine-tune", "mixed", "adversarial"}


def _experiment(tmp_path) -> dict:
    make_casme2(tmp_path / "casme2", extra_subjects=2)
    make_miex(tmp_path / "miex")
    return {
        "name": "synthetic-to-real",
        "out": "results",
        "scheme": "3class",
        "n_frames": 8,
        "size": 16,
        "models": ["simple3dcnn"],
        "datasets": {"casme2": {"path": "casme2"}, "miex": "miex"},
        "train_on": ["casme2"],
        "test_on": ["casme2"],
        "pretrain_on": "miex",
        "mix_with": "miex",
        "mix_weight": 0.5,
        "adversarial_with": "miex",
        "adversarial_weight": 0.3,
        "train": {"epochs": 2, "batch": 4, "threads": 1},
        "cache": "cache",
    }


@pytest.mark.slow
def test_five_protocols_on_the_same_folds(tmp_path) -> None:
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(_experiment(tmp_path)))
    threads = torch.get_num_threads()
    try:
        assert main(["evaluate", str(config), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)
    out = tmp_path / "results"
    results = pd.read_csv(out / "results.csv")
    assert set(results["training"]) == TRAININGS and set(results["test"]) == {"casme2"}
    assert set(results["n"]) == {9}  # every CASME II clip with a 3-class label, each time
    folds = {}
    for row in results.itertuples():
        pred = pd.read_csv(out / "predictions" / f"{row.train}__simple3dcnn__casme2.csv")
        folds[row.training] = pred.set_index("clip")["fold"].sort_index()
        assert pred["unsure"].dtype == bool and pred["confidence"].between(0, 1).all()
    for training in TRAININGS:  # the same clips, each in the same fold
        assert folds[training].equals(folds["within"])
    fine_tuned = out / "folds" / "casme2.pretrain" / "simple3dcnn" / "fold000" / "config.json"
    assert "|pretrain:" in pd.read_json(fine_tuned, typ="series")["experiment_key"]
    mixed = pd.read_json(
        out / "folds" / "casme2.mixed" / "simple3dcnn" / "fold000" / "config.json", typ="series"
    )
    assert mixed["trained_on"]["clips"] == 7 + 6  # the fold's CASME II clips and all of MiE-X
    report = (out / "report.md").read_text()
    assert "## Synthetic to real (same folds)" in report
    for training in ("real-only", "generated-only", "pretrain + fine-tune", "mixed"):
        assert f"| {training} |" in report
    assert (out / "reliability.png").read_bytes()[:4] == b"\x89PNG"


def test_gradient_reversal_and_domain_head() -> None:
    x = torch.ones(3, requires_grad=True)
    (reverse_gradient(x, 0.3) * 2).sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), -0.6))  # forward identity, gradient * -0.3
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.Linear(8, 2))
    head = DomainHead(model, 1.0)
    model(torch.randn(5, 4))
    assert head.features.shape == (5, 8)  # the classifier's input
    loss = head.loss(torch.tensor([0.0, 1, 0, 1, 1]))
    loss.backward()
    classifier_in = model[1].weight.grad
    assert classifier_in is not None and float(classifier_in.abs().sum()) > 0


def test_protocol_names_must_be_datasets(tmp_path) -> None:
    exp = _experiment(tmp_path)
    exp["mix_with"] = "nowhere"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(EquimeError, match="mix_with 'nowhere' is not under datasets"):
        load_experiment(path)
