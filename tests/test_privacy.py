"""`equime protect` on a tiny recogniser trained here on generated videos (real MP4s, real
training through `equime train`, real lossless and lossy encodes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from privacy_fixtures import CLASSES, make_dataset

from equime.cli import main
from equime.mer.clips import read_frames
from equime.video.mp4 import write_mp4

FRAMES, SIZE = 16, 32


def _train(data: Path, model: str, out: Path, cache: Path, seed: int = 0) -> Path:
    args = ["train", str(data), "--dataset", "folder", "--scheme", "native", "--model", model]
    args += ["--out", str(out), "--epochs", "8", "--frames", str(FRAMES), "--size", str(SIZE)]
    args += ["--batch", "8", "--lr", "1e-3", "--cache", str(cache), "--seed", str(seed)]
    assert main([*args, "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """36 generated videos (4 subjects x 3 classes x 3), a Simple3DCNN to attack and an ST-CNN
    trained on the same data for the transfer test."""
    base = tmp_path_factory.mktemp("privacy")
    data = make_dataset(base / "data", subjects=4, per_class=3, frames=FRAMES + 1, size=SIZE)
    cache = base / "cache"
    return {
        "base": base,
        "data": data,
        "model": _train(data, "simple3dcnn", base / "simple", cache),
        "transfer": _train(data, "stcnn", base / "stcnn", cache),
    }


def _protect(trained, out: Path, *extra: str) -> dict:
    args = ["protect", str(trained["data"]), "--model", str(trained["model"]), "--out", str(out)]
    assert main([*args, "--batch", "36", "--no-progress", *extra]) == 0
    return json.loads((out / "report.json").read_text())


def _row(report: dict, role: str, condition: str) -> dict:
    (row,) = [r for r in report["summary"] if r["role"] == role and r["condition"] == condition]
    return row


@pytest.fixture(scope="module")
def pgd(trained) -> dict:
    out = trained["base"] / "pgd"
    return _protect(
        trained, out, "--attack", "pgd", "--eps", "4/255", "--transfer", str(trained["transfer"])
    )


def test_pgd_brings_accuracy_to_chance_with_psnr_above_35(trained, pgd) -> None:
    chance = pgd["chance"]
    before = _row(pgd, "attacked", "original")
    after = _row(pgd, "attacked", "protected")
    assert chance == pytest.approx(1 / 3)
    assert before["accuracy"] >= chance + 0.3, before  # the recogniser really reads the videos
    assert after["accuracy"] <= chance, after
    assert after["mean_p_true"] < before["mean_p_true"]
    assert after["attack_success"] >= 0.7
    imp = pgd["imperceptibility"]
    assert imp["psnr_min_db"] >= 35.0 and imp["ssim_min"] > 0.9
    assert imp["linf_max_levels"] <= 4
    # the written files are lossless: the recogniser was scored on what a reader decodes
    assert pgd["output"]["exact"] == pgd["videos"] == 36
    videos = pd.read_csv(trained["base"] / "pgd" / "per_video.csv")
    first = videos.iloc[0]
    written = read_frames(trained["base"] / "pgd" / first["path"])
    original = read_frames(first["source"])
    diff = written.astype(int) - original.astype(int)
    assert np.abs(diff).max() == 4 and np.abs(diff[FRAMES:]).max() == 0  # only the clip moved


def test_report_has_transfer_and_reencode_rows(trained, pgd) -> None:
    conditions = {(r["role"], r["condition"]) for r in pgd["summary"]}
    for role in ("attacked", "transfer"):
        for condition in ("original", "protected", "protected_h264", "original_h264"):
            assert (role, condition) in conditions
    transfer = _row(pgd, "transfer", "original")
    assert transfer["accuracy"] > pgd["chance"]  # the transfer recogniser reads the originals
    text = (trained["base"] / "pgd" / "report.md").read_text()
    assert "| transfer | protected |" in text and "then H.264 CRF 23" in text
    assert "re-encode alone" in text and "PSNR" in text
    png = (trained["base"] / "pgd" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert pgd["versions"]["torch"] and pgd["config"]["attack"] == "pgd"
    # the output folder is a dataset again: it trains / evaluates / protects like any other
    from equime.mer.datasets import load_dataset

    again = load_dataset("folder", trained["base"] / "pgd")
    assert len(again) == 36 and set(again["emotion"]) == set(CLASSES)


def test_fgsm_does_less_than_pgd(trained, pgd) -> None:
    fgsm = _protect(trained, trained["base"] / "fgsm", "--attack", "fgsm", "--no-reencode")
    f_after, p_after = _row(fgsm, "attacked", "protected"), _row(pgd, "attacked", "protected")
    print("FGSM", f_after, "PGD", p_after)
    assert f_after["accuracy"] > p_after["accuracy"]
    assert f_after["mean_p_true"] > p_after["mean_p_true"]
    assert {r["condition"] for r in fgsm["summary"]} == {"original", "protected"}
    assert fgsm["imperceptibility"]["psnr_min_db"] >= 35.0


def test_smooth_protection_survives_reencode_better(trained, pgd) -> None:
    """Attacking a blurred view too moves the perturbation to low frequencies, which H.264 keeps:
    after a CRF 23 re-encode the recogniser reads fewer videos than with plain PGD."""
    smooth = _protect(trained, trained["base"] / "smooth", "--smooth", "2")
    plain = _row(pgd, "attacked", "protected_h264")
    robust = _row(smooth, "attacked", "protected_h264")
    assert _row(smooth, "attacked", "protected")["accuracy"] <= smooth["chance"]
    assert robust["accuracy"] < plain["accuracy"], (robust, plain)
    assert smooth["imperceptibility"]["psnr_min_db"] >= 35.0
    assert smooth["attack"]["smooth"] == 2.0


def _subset(trained, tmp_path: Path, n: int = 6) -> Path:
    """A folder of videos elsewhere, listed in a labels CSV."""
    labels = pd.read_csv(trained["data"] / "labels.csv").iloc[::6].head(n)
    root = tmp_path / "subset"
    for path in labels["path"]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained["data"] / path, root / path)
    labels.to_csv(root / "labels.csv", index=False)
    return root


def test_same_inputs_same_outputs_and_targeted(trained, tmp_path) -> None:
    root = _subset(trained, tmp_path)
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        args = ["protect", str(root), "--model", str(trained["model"]), "--out", str(out)]
        args += ["--target", "surprise", "--steps", "8", "--no-reencode", "--no-progress"]
        assert main(args) == 0
        report = json.loads((out / "report.json").read_text())
        report.pop("timing")
        report["config"].pop("out")
        files = {
            p.relative_to(out): p.read_bytes() for p in sorted((out / "videos").rglob("*.mp4"))
        }
        runs.append((report, files))
    assert runs[0] == runs[1]
    report = runs[0][0]
    assert report["attack"]["target_class"] == "surprise" and report["attack"]["steps"] == 8
    after = _row(report, "attacked", "protected")
    before = _row(report, "attacked", "original")
    assert after["attack_success"] >= 0.5  # most non-surprise videos now read as surprise
    assert after["accuracy"] < before["accuracy"]


def test_equime_dataset_input_and_lossy_output(trained, tmp_path) -> None:
    data = tmp_path / "eq"
    assert (
        main(
            [
                "generate",
                "--demo",
                "--emotions",
                "happiness,sadness,surprise",
                "--frames",
                "17",
                "--size",
                str(SIZE),
                "--out",
                str(data),
                "--workers",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    out = tmp_path / "eq-protected"
    args = ["protect", str(data), "--model", str(trained["model"]), "--out", str(out)]
    assert main([*args, "--attack", "fgsm", "--lossy", "--no-reencode", "--no-progress"]) == 0
    meta = pd.read_parquet(data / "metadata.parquet")
    labels = pd.read_csv(out / "labels.csv")
    assert len(labels) == len(meta) == 6
    assert sorted(labels["clip"]) == sorted(meta["id"])
    by_id = dict(zip(meta["id"], meta["label"], strict=True))
    assert all(by_id[c] == lab for c, lab in zip(labels["clip"], labels["label"], strict=True))
    # mirrors the dataset's layout; lossy H.264 does not decode to the protected frames
    assert {p.removeprefix("videos/") for p in labels["path"]} == {
        f.removeprefix("videos/") for f in meta["file_name"]
    }
    report = json.loads((out / "report.json").read_text())
    assert report["output"]["exact"] < 6 and "lossy" in report["output"]["format"]


def test_attack_core_stays_in_budget() -> None:
    """PGD and FGSM on a random tiny model: the 8-bit result never leaves the eps-ball or [0, 255],
    and the targeted objective moves towards the target."""
    import torch

    from equime.mer.clips import frames_to_tensor, preprocess
    from equime.mer.models import create_model
    from equime.privacy.attacks import AttackSpec, parse_amount, perturb

    assert parse_amount("4/255") == pytest.approx(4 / 255) and parse_amount("0.02") == 0.02
    assert AttackSpec(method="pgd", eps=4 / 255, steps=10).alpha == pytest.approx(1 / 255)
    torch.manual_seed(0)
    net = create_model("simple3dcnn", 3, n_frames=8, size=16).eval()
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (2, 8, 16, 16, 3), dtype=np.uint8)
    clips[0, :, :4] = 255  # saturated pixels stay in range
    for method in ("fgsm", "pgd"):
        for target in (None, 2):
            spec = AttackSpec(method=method, eps=3 / 255, steps=4, target=target).validate()
            adv = perturb(spec, net, clips, [0, 1], 8, 16)
            assert adv.dtype == np.uint8 and adv.shape == clips.shape
            assert np.abs(adv.astype(int) - clips.astype(int)).max() == 3
    spec = AttackSpec(method="pgd", eps=8 / 255, steps=10, target=2).validate()
    adv = perturb(spec, net, clips, [0, 1], 8, 16)
    with torch.no_grad():
        before = torch.softmax(net(preprocess(frames_to_tensor(clips[0]), 8, 16)), 1)[0, 2]
        after = torch.softmax(net(preprocess(frames_to_tensor(adv[0]), 8, 16)), 1)[0, 2]
    assert after > before


def test_frame_folders_in_videos_out(trained, tmp_path) -> None:
    """A folder of frame-image clips (<label>/<clip>/img<k>.png): protected clips come out as
    lossless MP4s whose frames differ from the images by at most eps."""
    import cv2

    labels = pd.read_csv(trained["data"] / "labels.csv").iloc[[0, 3]]
    root = tmp_path / "frames"
    for path, label in zip(labels["path"], labels["label"], strict=True):
        folder = root / label / Path(path).stem
        folder.mkdir(parents=True)
        for k, frame in enumerate(read_frames(trained["data"] / path)):
            cv2.imwrite(str(folder / f"img{k + 1}.png"), frame[:, :, ::-1])
    out = tmp_path / "frames-out"
    args = ["protect", str(root), "--model", str(trained["model"]), "--out", str(out)]
    assert main([*args, "--no-reencode", "--no-progress"]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert written == ["videos/happiness/s0_0.mp4", "videos/sadness/s0_0.mp4"]
    video = read_frames(out / written[0])
    source = read_frames(root / Path(written[0]).parent.name / Path(written[0]).stem)
    assert video.shape == source.shape
    assert 0 < np.abs(video.astype(int) - source.astype(int)).max() <= 4


# ---- bad input: one line, exit 2 -------------------------------------------------------------


def _error(capsys, args: list[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("equime: error:") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_input_messages(trained, tmp_path, capsys) -> None:
    data, model = str(trained["data"]), str(trained["model"])
    base = ["protect", data, "--model", model, "--out", str(tmp_path / "o"), "--no-progress"]
    assert "out of range" in _error(capsys, [*base, "--eps", "0.5"])
    assert "out of range" in _error(capsys, [*base, "--eps", "0"])
    assert "not a number" in _error(capsys, [*base, "--eps", "four"])
    assert "below one 8-bit level" in _error(capsys, [*base, "--eps", "0.001"])
    assert "--step-size" in _error(capsys, [*base, "--step-size", "8/255"])
    assert "--steps" in _error(capsys, [*base, "--steps", "0"])
    assert "not a class" in _error(capsys, [*base, "--target", "anger"])
    # a checkpoint whose weights are of another architecture
    other = tmp_path / "other"
    shutil.copytree(model, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model": "stcnn"}))
    err = _error(capsys, [*base[:3], str(other), *base[4:]])
    assert "do not fit model stcnn" in err
    # another class count: in the config, and a transfer recogniser with other classes
    (other / "config.json").write_text(json.dumps({**config, "n_classes": 5}))
    assert "do not fit" in _error(capsys, [*base[:3], str(other), *base[4:]])
    five = tmp_path / "five"
    from equime.mer.checkpoint import save_checkpoint
    from equime.mer.labels import FIVE
    from equime.mer.models import create_model

    net = create_model("simple3dcnn", 5, n_frames=FRAMES, size=SIZE)
    save_checkpoint(five, net, {**config, "n_classes": 5, "classes": list(FIVE)})
    err = _error(capsys, [*base, "--transfer", str(five)])
    assert "5 classes" in err and "same classes" in err
    assert "not found" in _error(capsys, [*base[:3], str(tmp_path / "none"), *base[4:]])
    assert not (tmp_path / "o").exists()  # nothing written before the checks passed


def test_videos_of_another_size(trained, tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    root = tmp_path / "sizes"
    write_mp4(root / "a.mp4", rng.integers(0, 255, (17, SIZE, SIZE, 3), np.uint8), 24)
    write_mp4(root / "b.mp4", rng.integers(0, 255, (17, 48, 48, 3), np.uint8), 24)
    pd.DataFrame({"path": ["a.mp4", "b.mp4"], "label": ["happiness", "sadness"]}).to_csv(
        root / "labels.csv", index=False
    )
    base = ["protect", str(root), "--model", str(trained["model"]), "--no-progress"]
    err = _error(capsys, [*base, "--out", str(tmp_path / "o")])
    assert "b.mp4: frames are 48x48 but the other videos are 32x32" in err
    small = tmp_path / "small"
    write_mp4(small / "happiness" / "a.mp4", rng.integers(0, 255, (17, 16, 16, 3), np.uint8), 24)
    err = _error(
        capsys,
        [
            "protect",
            str(small),
            "--model",
            str(trained["model"]),
            "--out",
            str(tmp_path / "o2"),
            "--no-progress",
        ],
    )
    assert "16x16, smaller than recogniser" in err and "32x32 input" in err
    err = _error(capsys, [*base, "--out", str(root / "inside")])
    assert "outside the input" in err
