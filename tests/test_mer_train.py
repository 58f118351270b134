"""`equime train` end to end on a tiny generated EquiME dataset (real MP4s, real cache)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from equime.cli import main
from equime.mer.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def tiny_equime(tmp_path_factory):
    """20 clips (2 faces x 5 emotions x 2), 17 frames at 32x32, made by the real generator."""
    out = tmp_path_factory.mktemp("mer") / "tiny"
    code = main(
        [
            "generate",
            "--demo",
            "--per-face",
            "2",
            "--frames",
            "17",
            "--size",
            "32",
            "--out",
            str(out),
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    return out


def test_train_cli_writes_checkpoint_and_uses_cache(tiny_equime, tmp_path, capsys) -> None:
    args = [
        "train",
        str(tiny_equime),
        "--model",
        "simple3dcnn",
        "--out",
        str(tmp_path / "ck"),
        "--epochs",
        "2",
        "--frames",
        "16",
        "--size",
        "32",
        "--batch",
        "4",
        "--cache",
        str(tmp_path / "cache"),
        "--seed",
        "3",
        "--no-progress",
    ]
    assert main(args) == 0
    assert "best epoch" in capsys.readouterr().out
    _model, config = load_checkpoint(tmp_path / "ck")
    assert config["classes"] == ["happiness", "sadness", "surprise", "disgust", "anger"]
    assert config["n_frames"] == 16 and config["size"] == 32 and config["seed"] == 3
    assert config["trained_on"]["clips"] == 20 and config["weights_source"] == "scratch"
    history = pd.read_csv(tmp_path / "ck" / "history.csv")
    assert list(history["epoch"]) == [1, 2]
    cached = sorted((tmp_path / "cache").rglob("*.npy"))
    assert len(cached) == 20
    # same seed, same data -> the same weights; the second run decodes nothing
    stamp = {p: p.stat().st_mtime_ns for p in cached}
    assert main([*args[:5], str(tmp_path / "ck2"), *args[6:]]) == 0
    assert {p: p.stat().st_mtime_ns for p in cached} == stamp
    first = (tmp_path / "ck" / "model.safetensors").read_bytes()
    assert (tmp_path / "ck2" / "model.safetensors").read_bytes() == first
    saved = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert saved["metrics"]["epochs_run"] == 2


def test_train_errors_are_one_line(tiny_equime, tmp_path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "equime.cli",
        "train",
        str(tiny_equime),
        "--model",
        "vgg",
        "--out",
        str(tmp_path / "x"),
        "--cache",
        str(tmp_path / "c"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "unknown model 'vgg'" in done.stderr
    assert "Traceback" not in done.stderr
    code = main(
        ["train", str(tmp_path / "nowhere"), "--model", "stcnn", "--out", str(tmp_path / "y")]
    )
    assert code == 2


def test_fit_survives_a_last_batch_of_one(tmp_path) -> None:
    """ResNet3D's batch norm cannot train on a batch of one clip: such a last batch is dropped."""
    from mer_fixtures import make_casme2

    from equime.mer.datasets import load_dataset
    from equime.mer.train import TrainConfig, apply_scheme, fit, split_by_subject

    table, classes = apply_scheme(
        load_dataset("casme2", make_casme2(tmp_path / "c2", 1, 2)), "3class"
    )
    train_rows, _ = split_by_subject(table, 0.2, 0)
    cfg = TrainConfig(
        data="c2",
        model="resnet3d",
        out="x",
        scheme="3class",
        epochs=1,
        batch=len(train_rows) - 1,
        n_frames=4,
        size=16,
        progress=False,
        cache=str(tmp_path / "cache"),
    )
    fitted = fit(table, classes, "onset-offset", cfg)
    assert len(fitted.history) == 1 and fitted.best_epoch == 1
