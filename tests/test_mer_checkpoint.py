"""Checkpoints: safetensors + config.json round trip, and one-line errors for bad folders."""

from __future__ import annotations

import json

import pytest
import torch

from equime.errors import EquimeError
from equime.mer.checkpoint import load_checkpoint, save_checkpoint
from equime.mer.models import create_model


def _config(name: str) -> dict:
    return {
        "model": name,
        "n_classes": 3,
        "classes": ["negative", "positive", "surprise"],
        "n_frames": 8,
        "size": 16,
        "scheme": "3class",
        "trained_on": {"dataset": "x"},
        "seed": 0,
        "metrics": {"val_accuracy": 0.5},
    }


@pytest.mark.parametrize("name", ["stcnn", "resnet3d", "simple3dcnn", "mobilenet"])
def test_round_trip(tmp_path, name: str) -> None:
    torch.manual_seed(0)
    options = {"image_size": 32} if name == "mobilenet" else {}
    model = create_model(name, 3, n_frames=8, size=16, **options).eval()
    save_checkpoint(tmp_path / name, model, {**_config(name), "options": options})
    loaded, config = load_checkpoint(tmp_path / name)
    x = torch.randn(2, 1, 8, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert config["classes"] == ["negative", "positive", "surprise"]
    assert config["versions"]["torch"] == torch.__version__
    assert (tmp_path / name / "model.safetensors").is_file()


def test_errors(tmp_path) -> None:
    with pytest.raises(EquimeError, match="checkpoint folder not found"):
        load_checkpoint(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EquimeError, match=r"config\.json: missing"):
        load_checkpoint(tmp_path / "empty")
    model = create_model("simple3dcnn", 3, n_frames=8, size=16)
    folder = save_checkpoint(tmp_path / "ok", model, _config("simple3dcnn"))
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(EquimeError, match="corrupt weights"):
        load_checkpoint(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(EquimeError, match="corrupt checkpoint config"):
        load_checkpoint(folder)
    folder = save_checkpoint(tmp_path / "shape", model, _config("simple3dcnn"))
    config = json.loads((folder / "config.json").read_text())
    config["size"] = 32  # a different head size: the weights no longer fit
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(EquimeError, match="do not fit"):
        load_checkpoint(folder)
    with pytest.raises(EquimeError, match="lacks"):
        save_checkpoint(tmp_path / "bad", model, {"model": "x"})
