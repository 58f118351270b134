"""Flow inputs and MER-standard preprocessing: label schemes, time normalisation, the flow of the
same motion at 200 and 25 fps, the flow models, and `--input` recorded and checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from mer_fixtures import make_casme2
from mer_flow_fixtures import render_motion

from equime.errors import EquimeError
from equime.mer.datasets import load_dataset
from equime.mer.labels import get_scheme, label_rows, map_label, scheme_classes
from equime.mer.preprocess import Preprocess, fps_of, time_indices


def test_schemes_equime5_alias_casme2_five_and_megc2019(tmp_path) -> None:
    assert get_scheme("5class").name == "equime5"  # old checkpoints / experiments still load
    assert scheme_classes("5class") == scheme_classes("equime5")
    assert scheme_classes("casme2-5class") == [
        "happiness",
        "disgust",
        "repression",
        "surprise",
        "others",
    ]
    assert map_label("Others", "casme2-5class") == "others"
    assert map_label("fear", "casme2-5class") is None
    table = load_dataset("casme2", make_casme2(tmp_path / "c2"))
    extra = pd.DataFrame(
        [
            {"dataset": "casme2", "clip": "sub04/EP12_01f", "emotion": "disgust"},
            {"dataset": "casme2", "clip": "sub10/EP01_01", "emotion": "fear"},
            {"dataset": "samm", "clip": "020/020_1_1", "emotion": "fear"},
            {"dataset": "casme2", "clip": "c2/sub24/EP02_07", "emotion": "happiness"},
        ]
    )
    both = pd.concat([table[["dataset", "clip", "emotion"]], extra], ignore_index=True)
    three = label_rows(both, "3class")
    megc = label_rows(both, "megc2019")
    assert three[-4:] == ["negative", "negative", "negative", "positive"]
    # MEGC 2019 leaves out CASME II fear / sadness and three named clips; SAMM fear stays
    assert megc[-4:] == [None, None, "negative", None]
    assert megc[:4] == three[:4] == ["positive", "negative", "negative", None]
    with pytest.raises(EquimeError, match="unknown label scheme"):
        get_scheme("7class")


def test_time_normalisation_reads_the_same_instants() -> None:
    """200 fps and 25 fps sources read at 25 fps: the same real times (frame k*8 vs frame k)."""
    fast = time_indices(40, 400, 10, 200.0, 25.0)
    slow = time_indices(5, 50, 10, 25.0, 25.0)
    assert np.allclose(np.array(fast) / 200.0, np.array(slow) / 25.0)
    assert time_indices(0, 10, 4, 12.5, 25.0) == [0, 0, 1, 2]  # slower source: frames repeat
    assert fps_of({"fps": 200.0, "dataset": "samm"}) == 200.0
    assert fps_of({"fps": float("nan"), "dataset": "samm", "source": ""}) == 200.0  # documented
    assert fps_of({"dataset": "casme3", "source": ""}) == 30.0


@pytest.mark.slow
def test_flow_of_the_same_motion_at_200_and_25_fps(tmp_path) -> None:
    """The same motion sampled at 200 fps and at 25 fps gives flow inputs within 10 % (relative
    L2) of each other, the apex estimated (the loader's midpoint is not the peak) at the same
    instant within 1/50 s, and the motion read as upward (v < 0) around the mouth."""
    from equime.mer.flow import prepare_flow

    prep = Preprocess(input="flow", align=True)
    out = {}
    for fps in (200.0, 25.0):
        row = pd.Series(render_motion(tmp_path / f"m{int(fps)}", fps))
        flow, info = prepare_flow(row, prep, 28)
        assert info["aligned"] and info["apex_estimated"]
        out[fps] = (flow, info["apex_used"] / fps)
    (a, ta), (b, tb) = out[200.0], out[25.0]
    assert abs(ta - 0.24) <= 0.02 and abs(tb - 0.24) <= 0.02
    rel = np.linalg.norm(a[:2] - b[:2]) / np.linalg.norm(a[:2])
    print(f"relative L2 difference of u, v: {rel:.4f}; apex {ta:.3f} s / {tb:.3f} s")
    assert rel < 0.10
    low = a[1, 24:28, 8:26].mean()  # the bump sits on the chin: it moved up (v < 0, % of crop)
    assert low < -0.2
    assert abs(a[1, 2:12, :].mean()) < 0.1 * abs(low)  # forehead and eyes still


@pytest.mark.parametrize("name", ["ststnet", "htnet"])
def test_flow_models_shapes_and_gradients(name: str) -> None:
    from equime.mer.models import count_parameters, create_model, model_inputs

    torch.manual_seed(0)
    model = create_model(name, 3, size=28)
    x = torch.randn(2, 3, 28, 28, requires_grad=True)
    model(x).sum().backward()
    assert model(x).shape == (2, 3) and x.grad is not None and x.grad.abs().sum() > 0
    assert model_inputs(name) == ("flow",)
    assert count_parameters(model) == {"ststnet": 1683, "htnet": 2457603}[name]


def test_input_must_fit_the_model() -> None:
    from equime.mer.inputs import resolve_input

    assert resolve_input("ststnet", None) == "flow"
    assert resolve_input("stcnn", None) == "frames"
    with pytest.raises(EquimeError, match="reads flow, not frames"):
        resolve_input("ststnet", "frames")
    with pytest.raises(EquimeError, match="reads frames, not flow"):
        resolve_input("resnet3d", "flow")


def test_train_refuses_a_model_on_the_wrong_input(tmp_path, capsys) -> None:
    from equime.cli import main

    code = main(["train", str(tmp_path), "--model", "ststnet", "--input", "frames", "--out", "x"])
    err = capsys.readouterr().err
    assert code == 2 and "reads flow, not frames" in err and "Traceback" not in err


def test_evaluate_refuses_a_checkpoint_of_another_input() -> None:
    from equime.mer.evaluate import _check_input
    from equime.mer.train import TrainConfig

    cfg = TrainConfig(data=".", model="ststnet", out="x")
    _check_input(cfg, {"input": "flow"}, "ck")  # same input: fine
    with pytest.raises(EquimeError, match="trained on input frames, experiment uses flow"):
        _check_input(cfg, {}, "ck")  # an old checkpoint: frames
