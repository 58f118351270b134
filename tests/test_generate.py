"""`equime generate` end to end on the real demo faces: outputs, resume, kill safety, seeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from equime.cli import main
from equime.dataset.metadata import AU_COLUMNS
from equime.video.mp4 import read_mp4

SMALL = ["--frames", "33", "--size", "128", "--no-progress"]


def run_cli(*args: str) -> int:
    return main([*args])


def metadata(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "metadata.parquet")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    assert run_cli("generate", "--demo", "--out", str(out), "--workers", "2", *SMALL) == 0
    return out


def test_demo_makes_every_face_and_emotion(demo_run: Path) -> None:
    meta = metadata(demo_run)
    assert len(meta) == 10 and meta["face_id"].nunique() == 2
    assert sorted(meta["target_emotion"].unique()) == sorted(
        ["happiness", "sadness", "surprise", "disgust", "anger"]
    )
    assert (meta["label"] == meta["target_emotion"]).all()  # no label noise by default
    for row in meta.itertuples():
        frames = read_mp4(demo_run / row.file_name)
        assert frames.shape == (33, 128, 128, 3)
        assert row.file_name.startswith(f"videos/{row.label}/white/Woman/")
        assert 0 < row.onset < row.apex < row.offset < 33
    csv = pd.read_csv(demo_run / "metadata.csv")
    assert list(csv["id"]) == list(meta["id"])
    assert set(AU_COLUMNS) <= set(meta.columns)
    card = json.loads((demo_run / "dataset.json").read_text())
    assert card["videos"] == 10 and card["licence"] == "CC BY-NC-SA 4.0"
    assert card["versions"]["equime"] and card["config"]["n_frames"] == 33
    assert "CC BY-NC-SA 4.0" in (demo_run / "README.md").read_text()
    assert (demo_run / "contact_sheet.png").stat().st_size > 10_000
    assert pd.read_csv(demo_run / "rejected.csv").empty


def test_metadata_records_z_and_its_label(demo_run: Path) -> None:
    meta = metadata(demo_run)
    meta = meta[meta["face_id"] == meta["face_id"].iloc[0]].set_index("target_emotion")
    assert meta.loc["happiness", "AU12"] > 0 and meta.loc["happiness", "AU04"] == 0
    assert meta.loc["sadness", "AU15"] > 0
    assert "AU12" in meta.loc["happiness", "prompt"]
    assert meta.loc["anger", "fz_emotion"] == "anger"


def test_rerun_skips_finished_and_redoes_missing_or_partial(demo_run: Path, capsys) -> None:
    before = metadata(demo_run).set_index("id")["sha256"]
    first, second = (demo_run / f for f in metadata(demo_run)["file_name"][:2])
    first.unlink()
    second.write_bytes(second.read_bytes()[:1000])  # a partial file from some other tool
    assert run_cli("generate", "--demo", "--out", str(demo_run), "--workers", "1", *SMALL) == 0
    assert "2 videos made, 8 already done" in capsys.readouterr().out
    after = metadata(demo_run).set_index("id")["sha256"]
    pd.testing.assert_series_equal(before.sort_index(), after.sort_index())


def test_rerun_redoes_videos_of_another_generator_version(demo_run: Path, capsys) -> None:
    row_file = next((demo_run / ".equime" / "rows").glob("*.json"))
    row = json.loads(row_file.read_text(encoding="utf-8"))
    row_file.write_text(json.dumps({**row, "generator_version": "0.9"}), encoding="utf-8")
    assert run_cli("generate", "--demo", "--out", str(demo_run), "--workers", "1", *SMALL) == 0
    assert "1 videos made, 9 already done" in capsys.readouterr().out
    remade = json.loads(row_file.read_text(encoding="utf-8"))
    assert remade["generator_version"] == row["generator_version"]
    assert remade["sha256"] == row["sha256"]  # same inputs, same bytes


def test_same_config_elsewhere_gives_identical_videos(demo_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "again with spaces ü"
    assert run_cli("generate", "--demo", "--out", str(out), "--workers", "1", *SMALL) == 0
    a = metadata(demo_run).set_index("id")["sha256"].sort_index()
    b = metadata(out).set_index("id")["sha256"].sort_index()
    pd.testing.assert_series_equal(a, b)


def test_noise_seed_changes_only_eps_x(demo_run: Path, tmp_path: Path) -> None:
    args = ["generate", "--demo", "--emotions", "happiness", "--limit", "1", *SMALL]
    quiet = ["--head-motion", "0", "--light-drift", "0", "--sensor-noise", "0", "--asymmetry", "0"]
    quiet += ["--take-variation", "0"]  # each video's own performance is eps_X too
    runs = {}
    for name, extra in {"a": ["--noise-seed", "1"], "b": ["--noise-seed", "2"]}.items():
        for q, flags in {"noisy": [], "quiet": quiet}.items():
            out = tmp_path / f"{name}-{q}"
            assert run_cli(*args, "--out", str(out), *extra, *flags) == 0
            runs[name, q] = metadata(out).iloc[0]
    keep = ["aus", "onset", "apex", "offset", "label", "seed"]
    assert (runs["a", "noisy"][keep] == runs["b", "noisy"][keep]).all()
    assert runs["a", "noisy"]["sha256"] != runs["b", "noisy"]["sha256"]
    assert runs["a", "quiet"]["sha256"] == runs["b", "quiet"]["sha256"]


def test_counterfactual_changes_one_au_only(tmp_path: Path) -> None:
    args = ["generate", "--demo", "--emotions", "happiness", "--limit", "1", *SMALL]
    assert run_cli(*args, "--out", str(tmp_path / "factual")) == 0
    assert run_cli(*args, "--out", str(tmp_path / "cf"), "--do", "12=0") == 0
    fact, cf = metadata(tmp_path / "factual").iloc[0], metadata(tmp_path / "cf").iloc[0]
    assert fact["AU12"] > 0 and cf["AU12"] == 0
    others = [c for c in AU_COLUMNS if c != "AU12"]
    assert (fact[others] == cf[others]).all()
    assert (
        fact[["onset", "apex", "offset", "noise_seed"]]
        == cf[["onset", "apex", "offset", "noise_seed"]]
    ).all()


def test_other_config_in_same_folder_is_refused(demo_run: Path, capsys) -> None:
    code = run_cli("generate", "--demo", "--out", str(demo_run), "--seed", "5", *SMALL)
    err = capsys.readouterr().err
    assert code == 2 and "different config (differs in: seed)" in err and "--overwrite" in err
    assert len(metadata(demo_run)) == 10  # nothing lost


def test_overwrite_replaces_the_run(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    args = ["generate", "--demo", "--emotions", "anger", "--limit", "1", "--out", str(out), *SMALL]
    assert run_cli(*args) == 0
    assert run_cli(*args, "--seed", "3", "--overwrite") == 0
    assert metadata(out)["seed"].nunique() == 1 and len(metadata(out)) == 1


def test_non_dataset_folder_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    assert run_cli("generate", "--demo", "--out", str(tmp_path), *SMALL) == 2
    assert "holds no EquiME run" in capsys.readouterr().err
    assert (tmp_path / "thesis.docx").read_text() == "precious"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--emotions", "joy"], "unknown emotion joy; allowed: happiness"),
        (["--do", "99=0.2"], "unknown Action Unit 99"),
        (["--do", "12=2"], "out of range"),
        (["--size", "255"], "must be even"),
    ],
)
def test_bad_settings_give_one_line(demo_run: Path, capsys, flags: list[str], message: str) -> None:
    before = metadata(demo_run)
    assert run_cli("generate", "--demo", "--out", str(demo_run), *SMALL, *flags) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    pd.testing.assert_frame_equal(before, metadata(demo_run))  # finished work untouched


def test_config_file_and_flags(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        "emotions: [surprise]\nlimit: 1\ndo: {26: 0}\nper_face: 2\nn_frames: 33\nsize: 128\n"
    )
    out = tmp_path / "ds"
    assert (
        run_cli("generate", "--demo", "--config", str(config), "--out", str(out), "--seed", "4")
        == 0
    )
    meta = metadata(out)
    assert len(meta) == 2 and (meta["AU26"] == 0).all() and (meta["seed"] > 0).all()
    recorded = json.loads((out / "dataset.json").read_text())["config"]
    assert recorded["seed"] == 4 and recorded["do"] == {"26": 0.0}
    bad = tmp_path / "bad.yaml"
    bad.write_text("emotion: [surprise]\n")
    with pytest.raises(Exception, match="unknown setting emotion"):
        from equime.generation.config import load_config_file

        load_config_file(bad)


def _photos(folder: Path) -> tuple[dict[str, str], list[str]]:
    """Write unusable photos (name -> expected reason) and usable odd ones (names) to `folder`."""
    from PIL import Image

    from equime.faces.sources import demo_sources

    folder.mkdir(parents=True, exist_ok=True)
    astronaut_path, hopper_path = (s.path for s in demo_sources())
    astronaut = Image.open(astronaut_path).convert("RGB")
    (folder / "notes.jpg").write_text("this is a text file")
    data = astronaut_path.read_bytes()
    (folder / "broken.png").write_bytes(data[: len(data) // 3])
    Image.new("RGB", (300, 300), (128, 128, 128)).save(folder / "wall.png")
    far = Image.new("RGB", (400, 400), (200, 200, 200))
    far.paste(astronaut.resize((256, 256)), (0, 0))
    far.save(folder / "far away.png")
    two = Image.new("RGB", (880, 600), (230, 230, 230))
    two.paste(astronaut.resize((600, 600)), (0, 0))
    two.paste(Image.open(hopper_path).convert("RGB").resize((280, 328)), (600, 60))
    two.save(folder / "two people.png")
    astronaut.convert("L").save(folder / "grey.png")
    astronaut.convert("CMYK").save(folder / "cmyk.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90 degrees clockwise
    astronaut.rotate(90, expand=True).save(folder / "rotated.jpg", exif=exif)
    bad = {
        "notes.jpg": "not a readable image",
        "broken.png": "not a readable image",
        "wall.png": "no face found",
        "far away.png": "below the minimum of 64px",
    }
    return bad, ["two people.png", "grey.png", "cmyk.jpg", "rotated.jpg"]


def test_bad_photos_are_rejected_and_the_run_goes_on(tmp_path: Path) -> None:
    from equime.faces.sources import demo_sources

    photos = tmp_path / "fotos ç 表情"
    photos.mkdir()
    (photos / "astro naut.png").write_bytes(demo_sources()[0].path.read_bytes())
    out = tmp_path / "ds"
    args = ["generate", str(photos), "--out", str(out), "--emotions", "anger", *SMALL]
    assert run_cli(*args) == 0
    first = metadata(out)
    bad, odd = _photos(photos / "sub dir")
    (photos / "sub dir" / "same again.png").write_bytes(demo_sources()[0].path.read_bytes())
    bad["same again.png"] = "same bytes as astro naut.png"
    assert run_cli(*args) == 0  # same config: resumes, keeps the finished video
    meta = metadata(out)
    assert first.loc[0, "sha256"] in set(meta["sha256"])
    made = {Path(p).name for p in meta["source_path"]}
    assert made == {"astro naut.png", *odd}
    notes = meta.set_index(meta["source_path"].map(lambda p: Path(p).name))["face_notes"]
    assert notes["two people.png"].startswith("2 faces found; used the largest")
    rejected = pd.read_csv(out / "rejected.csv")
    reasons = dict(
        zip(rejected["path"].map(lambda p: Path(p).name), rejected["reason"], strict=True)
    )
    assert set(reasons) == set(bad)
    for name, reason in bad.items():
        assert reason in reasons[name], (name, reasons[name])
    # paths are recorded relative to the input folder: no home folder travels with the dataset
    assert "sub dir/grey.png" in set(meta["source_path"])
    for name in ("metadata.csv", "README.md", "dataset.json", "rejected.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert str(tmp_path) not in text and str(photos.resolve()) not in text, name
    assert not any(
        str(tmp_path) in str(v) for v in pd.read_parquet(out / "metadata.parquet").values.ravel()
    )


def _video_count(root: Path) -> int:
    rows = root / ".equime" / "rows"
    return len(list(rows.glob("*.json"))) if rows.exists() else 0


def test_sigkill_mid_run_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    args = ["generate", "--demo", "--per-face", "3", "--workers", "2", *SMALL]
    reference = tmp_path / "reference"
    assert run_cli(*args, "--out", str(reference)) == 0
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "equime.cli", *args, "--out", str(killed)]
    proc = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _video_count(killed) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_at_kill = _video_count(killed)
    assert 0 < done_at_kill < 30, "the kill must land mid-run"
    partial = [p for p in (killed / "videos").rglob("*") if p.is_file() and p.suffix != ".mp4"]
    assert partial == []  # temporary files never live inside the dataset
    assert run_cli(*args, "--out", str(killed)) == 0
    a = metadata(reference).set_index("id")["sha256"].sort_index()
    b = metadata(killed).set_index("id")["sha256"].sort_index()
    pd.testing.assert_series_equal(a, b)
    assert len(a) == 30


def test_hugging_face_datasets_reads_the_folder(demo_run: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(demo_run.parent / "hf-cache"))
    from datasets import load_dataset

    ds = load_dataset(str(demo_run), split="train")
    assert len(ds) == 10 and "video" in ds.column_names
    assert sorted(ds["id"]) == sorted(metadata(demo_run)["id"])
    # one frame, decoded from the path `datasets` gives (the README's route without torchcodec)
    import av
    from datasets import Video

    row = ds.cast_column("video", Video(decode=False))[0]
    with av.open(row["video"]["path"]) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert frame.shape[2] == 3 and frame.shape[0] == frame.shape[1] and frame.std() > 10
