"""`equime evaluate` end to end on the miniature datasets: one experiment file -> the
cross-dataset matrix (with leave-one-subject-out within CASME II), per-group results, the
consistency table, plots and report.md; finished models are reused on a second run."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from mer_fixtures import make_casme2, make_labelled_folder, make_miex, make_samm

from equime.cli import main
from equime.errors import EquimeError
from equime.mer.evaluate import load_experiment


def _experiment(tmp_path) -> dict:
    make_casme2(tmp_path / "casme2", extra_subjects=2)
    make_samm(tmp_path / "samm")
    make_miex(tmp_path / "miex")
    make_labelled_folder(tmp_path / "people")
    return {
        "name": "fixtures",
        "out": "results",
        "scheme": "3class",
        "n_frames": 8,
        "size": 16,
        "models": ["simple3dcnn", "stcnn"],
        "datasets": {
            "casme2": {"path": "casme2"},
            "samm": {"path": "samm", "sampling": "apex"},
            "miex": "miex",
            "people": {"format": "folder", "path": "people"},
        },
        "train_on": ["miex", "casme2"],
        "test_on": ["samm", "casme2", "people"],
        "train": {"epochs": 2, "batch": 4},
        "cache": "cache",
    }


@pytest.mark.slow
def test_evaluate_end_to_end(tmp_path, capsys) -> None:
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(_experiment(tmp_path)))
    assert main(["evaluate", str(config), "--no-progress"]) == 0
    out = tmp_path / "results"
    assert any((tmp_path / "cache").rglob("*.npy"))  # relative to the experiment file
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 2 * 2 * 3  # train sets x models x test sets
    within = results[results["train"] == results["test"]]
    assert set(within["protocol"]) == {"loso"} and set(within["train"]) == {"casme2"}
    loso = pd.read_csv(out / "predictions" / "casme2__stcnn__casme2.csv")
    # each CASME II clip with a 3-class label is predicted once, by the fold leaving its subject out
    assert len(loso) == 9 and loso["fold"].nunique() == 4
    assert (loso.groupby("subject")["fold"].nunique() == 1).all()
    samm = results[(results["test"] == "samm")]
    assert set(samm["n"]) == {3}  # 'Other' has no 3-class label; 009 has no frames
    for col in ("accuracy", "weighted_f1", "uf1", "uar", "mean_confidence", "ece_before", "ece"):
        assert results[col].between(0, 1).all()
    assert (results["unsure"] >= 0).all()  # counted, never dropped: n is every clip
    groups = pd.read_csv(out / "groups.csv")
    assert set(groups["test"]) == {"people"}  # the only test set with attributes
    assert set(groups["attribute"]) == {"gender", "age_group"}
    assert (groups.groupby(["train", "model", "attribute"])["n"].sum() == 8).all()
    consistency = pd.read_csv(out / "consistency.csv")
    assert len(consistency) == 2 * 3 and {"weighted_f1_mean", "weighted_f1_std"} <= set(
        consistency.columns
    )
    report = (out / "report.md").read_text()
    for part in (
        "cross_dataset.png",
        "consistency.png",
        "groups.png",
        "confusion/confusion_miex.png",
        "reliability.png",
        "| loso |",
    ):
        assert part in report
    for png in (
        "cross_dataset.png",
        "consistency.png",
        "groups.png",
        "confusion/confusion_casme2.png",
        "reliability.png",
    ):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "results.json").read_text())
    assert summary["experiment"]["scheme"] == "3class" and "torch" in summary["versions"]
    assert set(results["weights"]) == {"scratch"}
    assert "casme2 -> samm stcnn" in capsys.readouterr().out
    # a second run reuses every trained model (same settings, same clips)
    weights = sorted(out.rglob("model.safetensors"))
    stamps = [p.stat().st_mtime_ns for p in weights]
    assert main(["evaluate", str(config), "--no-progress"]) == 0
    assert [p.stat().st_mtime_ns for p in weights] == stamps
    assert pd.read_csv(out / "results.csv").equals(results)


def test_experiment_file_errors(tmp_path) -> None:
    good = _experiment(tmp_path)
    path = tmp_path / "e.yaml"
    for change, message in (
        ({"train_on": ["nowhere"]}, "'nowhere' is not under datasets"),
        ({"models": ["vgg"]}, "unknown model 'vgg'"),
        ({"scheme": "7class"}, "scheme '7class'"),
        ({"within": "sometimes"}, "within 'sometimes'"),
        ({"train": {"epochs": 1, "optimizer": "sgd"}}, "unknown train settings optimizer"),
        ({"colour": "blue"}, "unknown keys colour"),
        ({"test_on": []}, "'test_on' lists nothing"),
    ):
        path.write_text(yaml.safe_dump({**good, **change}))
        with pytest.raises(EquimeError, match=message):
            load_experiment(path)
    path.write_text("datasets: [unclosed")
    with pytest.raises(EquimeError, match="not valid YAML"):
        load_experiment(path)
    assert main(["evaluate", str(tmp_path / "missing.yaml")]) == 2


def test_paths_relative_to_the_experiment_file(tmp_path) -> None:
    good = _experiment(tmp_path)
    good["checkpoints"] = {"miex": {"stcnn": "ck/stcnn"}}
    good["model_options"] = {"mobilenet": {"weights": "w/mnv2.pth"}}
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "e.yaml"
    good["datasets"] = {
        k: v if isinstance(v, dict) else {"path": v} for k, v in good["datasets"].items()
    }
    for entry in good["datasets"].values():
        entry["path"] = f"../{entry['path']}"
    path.write_text(yaml.safe_dump(good))
    exp = load_experiment(path)
    assert exp.checkpoints["miex"]["stcnn"] == str(tmp_path / "sub" / "ck" / "stcnn")
    assert exp.model_options["mobilenet"]["weights"] == str(tmp_path / "sub" / "w" / "mnv2.pth")
    assert exp.cache == str(tmp_path / "sub" / "cache")
    assert exp.out == str(tmp_path / "sub" / "results")
    assert exp.datasets["casme2"].path == str(tmp_path / "sub" / "../casme2")


def test_given_checkpoint_is_tested_not_trained(tmp_path) -> None:
    import torch

    from equime.mer.checkpoint import save_checkpoint
    from equime.mer.models import create_model

    torch.manual_seed(0)
    model = create_model("simple3dcnn", 3, n_frames=8, size=16)
    config = {
        "model": "simple3dcnn",
        "n_classes": 3,
        "classes": ["negative", "positive", "surprise"],
        "n_frames": 8,
        "size": 16,
        "scheme": "3class",
    }
    save_checkpoint(tmp_path / "given", model, config)
    experiment = {
        **_experiment(tmp_path),
        "models": ["simple3dcnn"],
        "train_on": ["miex"],
        "test_on": ["samm"],
        "checkpoints": {"miex": {"simple3dcnn": "given"}},
    }
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(experiment))
    assert main(["evaluate", str(tmp_path / "e.yaml"), "--no-progress"]) == 0
    assert not (tmp_path / "results" / "checkpoints").exists()  # nothing was trained
    pred = pd.read_csv(tmp_path / "results" / "predictions" / "miex__simple3dcnn__samm.csv")
    assert len(pred) == 3 and set(pred["weights_source"]) == {"scratch"}
