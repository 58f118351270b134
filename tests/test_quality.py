"""equime quality: each metric against an independent implementation on real images, the
orderings the metrics must show, CLIP-IQA on a tiny CLIP built here, and the command end to end
on a real demo dataset (Table-2 layout, comparison plot, three kinds of input folder)."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from equime.cli import main
from equime.quality import QualityOptions
from equime.quality.base import BUILD_COUNTS, build_metrics
from equime.quality.brisque import Brisque, load_svr, model_dir
from equime.quality.consecutive import psnr_pairs, ssim_pairs
from equime.quality.tv import total_variation
from equime.video.mp4 import write_mp4

BRISQUE_TOLERANCE = 0.05  # BRISQUE points; the package's scale is 0-100


def _noised(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def brisque_metric() -> Brisque:
    return Brisque(load_svr(model_dir()))


def test_psnr_ssim_equal_scikit_image(astronaut):
    """Consecutive pairs (t-1, t) against skimage's reference functions, colour and grey."""
    shifted = np.roll(astronaut, 2, axis=1)
    frames = np.stack([astronaut, _noised(astronaut, 8), shifted, shifted])
    psnr, ssim = psnr_pairs(frames), ssim_pairs(frames)
    for k in range(3):
        a, b = frames[k], frames[k + 1]
        if k < 2:
            assert psnr[k] == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), 1e-9)
        else:
            assert np.isinf(psnr[k])  # identical neighbours
        ref = structural_similarity(a, b, channel_axis=2, data_range=255)
        assert ssim[k] == pytest.approx(ref, abs=1e-9)
    camera = data.camera()
    grey = np.stack([camera, _noised(camera, 5), cv2.GaussianBlur(camera, (0, 0), 1)])[..., None]
    for k, value in enumerate(ssim_pairs(grey)):
        assert value == pytest.approx(
            structural_similarity(grey[k, ..., 0], grey[k + 1, ..., 0], data_range=255), abs=1e-9
        )
    assert psnr_pairs(grey, every=2)[0] == pytest.approx(
        peak_signal_noise_ratio(grey[1], grey[2], data_range=255), 1e-9
    )


def test_brisque_equals_the_brisque_package(astronaut, brisque_metric):
    """Our features + the package's shipped SVR against the package's own scorer.

    brisque 0.2.0's scorer fails on numpy >= 2.4: its AGGD fit returns 1-element arrays and
    `scale_features` calls float() on them. The smallest fix, here in the test only, flattens
    each feature to a scalar before handing it to the package's own scaling and libsvm call."""
    from brisque import BRISQUE

    class PackageScorer(BRISQUE):
        def scale_features(self, features):
            return super().scale_features([np.asarray(f, float).reshape(-1)[0] for f in features])

    package = PackageScorer(url=False)
    images = {
        "astronaut": astronaut,
        "blurred": cv2.GaussianBlur(astronaut, (0, 0), 3),
        "noised": _noised(astronaut, 25),
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
    }
    ours = brisque_metric.scores(np.stack([cv2.resize(im, (512, 512)) for im in images.values()]))
    for value, (name, image) in zip(ours, images.items(), strict=True):
        expected = package.score(cv2.resize(image, (512, 512)))
        assert value == pytest.approx(expected, abs=BRISQUE_TOLERANCE), name


def test_brisque_orders_clean_before_blur_and_noise_and_tv_rises_with_noise(
    astronaut, brisque_metric
):
    blurred = cv2.GaussianBlur(astronaut, (0, 0), 3)
    noised = _noised(astronaut, 25)
    clean, blur, noise = brisque_metric.scores(np.stack([astronaut, blurred, noised]))
    assert clean < blur and clean < noise
    assert clean == pytest.approx(10.8, abs=0.1)  # the `brisque` package's own scorer gives 10.8
    tv = total_variation(np.stack([astronaut, _noised(astronaut, 5), noised]))
    assert tv[0] < tv[1] < tv[2]
    # piq's definition: sqrt of summed squared neighbour differences on the [0, 1] scale
    x = astronaut.astype(np.float64) / 255
    expected = np.sqrt(((x[1:] - x[:-1]) ** 2).sum() + ((x[:, 1:] - x[:, :-1]) ** 2).sum())
    assert tv[0] == pytest.approx(expected, rel=1e-12)


def test_brisque_never_negative_and_says_when_it_clips(brisque_metric):
    """The LIVE SVR extrapolates below 0 on very clean images (camera: about -7.9); the score
    column is clipped to the 0-100 scale and the raw mean and clipped count are reported."""
    camera = np.repeat(data.camera()[None, ..., None], 2, axis=0)
    values = brisque_metric(camera, QualityOptions(definition="exact", grayscale=True))
    assert values["brisque_raw"] == pytest.approx(-7.88, abs=0.1)
    assert values["brisque"] == 0.0 and values["brisque_clipped_frames"] == 2


def test_brisque_of_a_black_frame_is_a_number(brisque_metric):
    """A black frame (a fade, a dropped frame) has no contrast to fit; it still gets a finite
    score instead of dividing by zero."""
    black = np.zeros((2, 64, 64, 1), np.uint8)
    values = brisque_metric(black, QualityOptions(definition="exact", grayscale=True))
    assert np.isfinite(values["brisque_raw"]) and 0.0 <= values["brisque"] <= 100.0


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory) -> Path:
    """A randomly initialised tiny CLIPModel and a character-level CLIP tokenizer, saved with
    save_pretrained and loaded back by the metric from that folder."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in "abcdefghijklmnopqrstuvwxyz.":
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    torch.manual_seed(0)
    layers = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4)
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(vocab),
            max_position_embeddings=32,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            **layers,
        ),
        vision_config=dict(image_size=32, patch_size=8, **layers),
        projection_dim=16,
    )
    folder = tmp_path_factory.mktemp("tiny_clip")
    CLIPModel(config).save_pretrained(folder)
    CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(folder)
    return folder


def test_clipiqa_runs_on_a_tiny_clip_and_equals_clip_similarities(tiny_clip, astronaut):
    import torch
    from transformers import AutoTokenizer, CLIPModel

    metrics, unavailable = build_metrics(
        QualityOptions(definition="exact", clip_model=str(tiny_clip))
    )
    assert unavailable == {}
    frames = np.stack([astronaut, _noised(astronaut, 40), astronaut[::-1].copy()])
    scores = metrics["clipiqa"].scores(frames)
    assert scores.shape == (3,) and np.all((scores > 0) & (scores < 1))
    assert scores[0] != scores[1]
    # batching changes nothing
    assert metrics["clipiqa"].scores(frames[1:2])[0] == pytest.approx(scores[1], abs=1e-5)
    # independent path: CLIPModel's own forward gives cos * exp(logit_scale) for both prompts
    model = CLIPModel.from_pretrained(tiny_clip).eval()
    tokens = AutoTokenizer.from_pretrained(tiny_clip)(
        ["Good photo.", "Bad photo."], padding=True, return_tensors="pt"
    )
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bicubic", antialias=True)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.inference_mode():
        out = model(**tokens, pixel_values=(x.clamp(0, 1) - mean) / std)
        cosine = out.logits_per_image / model.logit_scale.exp()
    expected = (100 * cosine).softmax(dim=-1)[:, 0].numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_clipiqa_unavailable_says_why(tmp_path):
    _, unavailable = build_metrics(QualityOptions(metrics=("clipiqa",)))
    assert "--clip-model" in unavailable["clipiqa"]
    missing = tmp_path / "no_such_model"
    _, unavailable = build_metrics(QualityOptions(clip_model=str(missing), metrics=("clipiqa",)))
    assert str(missing) in unavailable["clipiqa"]


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("quality") / "demo"
    argv = ["generate", "--demo", "--frames", "33", "--size", "128", "--no-progress"]
    assert main([*argv, "--out", str(root)]) == 0
    return root


def test_table2_for_the_demo_dataset(demo_dataset, tiny_clip, capsys):
    before = BUILD_COUNTS.get("clipiqa", 0)
    argv = ["quality", str(demo_dataset), "--no-progress", "--workers", "1"]
    assert main([*argv, "--clip-model", str(tiny_clip)]) == 0
    printed = capsys.readouterr().out
    assert BUILD_COUNTS["clipiqa"] == before + 1  # one model for all 10 videos
    out = demo_dataset / "reports" / "quality"  # the default for a dataset folder
    table = pd.read_parquet(out / "quality.parquet")
    assert len(table) == 10 and (table == pd.read_csv(out / "quality.csv")).shape == table.shape
    for col in ["psnr", "ssim", "tv", "brisque", "clipiqa", "bitrate_kbps", "file_size_bytes"]:
        assert table[col].notna().all(), col
    meta = pd.read_parquet(demo_dataset / "metadata.parquet").set_index("id").loc[table.id]
    assert table.duration_s.to_numpy() == pytest.approx(meta.duration_s.to_numpy(), rel=1e-6)
    assert (table.n_frames == 33).all()
    sizes = [(demo_dataset / name).stat().st_size for name in meta.file_name]
    assert list(table.file_size_bytes) == sizes
    assert table.bitrate_kbps.iloc[0] == pytest.approx(
        table.file_size_bytes.iloc[0] * 8 / table.duration_s.iloc[0] / 1000
    )
    md = (out / "quality.md").read_text()
    assert "| dataset | PSNR | SSIM | TV | BRISQUE | CLIP-IQA |" in md and md.strip() in printed
    row = next(line for line in md.splitlines() if line.startswith("| demo |"))
    assert row.count("±") == 5  # every metric with mean ± std
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    assert summary.loc["psnr", "mean"] == pytest.approx(table.psnr.mean())
    assert summary.loc["ssim", "std"] == pytest.approx(table.ssim.std())
    assert (out / "histograms.png").read_bytes()[:4] == b"\x89PNG"
    info = json.loads((out / "quality.json").read_text())
    assert info["options"]["definition"] == "paper" and info["versions"]["brisque"]
    assert "Definition `paper`" in md and "Identical consecutive frames:" in md
    meta = pd.read_parquet(demo_dataset / "metadata.parquet").set_index("id")  # rewritten
    assert meta.loc[table.id, "quality_psnr"].to_numpy() == pytest.approx(table.psnr.to_numpy())


def _as_frame_folders(dataset: Path, target: Path) -> None:
    """The demo's videos as a SAMM-style tree: subject/clip/img1.png ... (no zero padding)."""
    from equime.video.mp4 import read_mp4

    meta = pd.read_parquet(dataset / "metadata.parquet")
    for row in meta.head(4).itertuples():
        folder = target / row.face_id[:8] / row.id
        folder.mkdir(parents=True)
        for k, frame in enumerate(read_mp4(dataset / row.file_name), start=1):
            cv2.imwrite(str(folder / f"img{k}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def test_frame_folders_against_a_folder_of_videos(demo_dataset, tmp_path, capsys):
    """Real-dataset layout (lossless PNG frames) compared with the same clips as MP4 files:
    the PSNR distributions coincide, so natural frame order and both readers agree."""
    frames_root, videos_root = tmp_path / "frames_ds", tmp_path / "videos_ds"
    _as_frame_folders(demo_dataset, frames_root)
    meta = pd.read_parquet(demo_dataset / "metadata.parquet").head(4)
    videos_root.mkdir()
    for row in meta.itertuples():
        shutil.copy(demo_dataset / row.file_name, videos_root / f"{row.id}.mp4")
    out = tmp_path / "report"
    argv = ["quality", str(frames_root), "--out", str(out), "--reference", str(videos_root)]
    argv += ["--definition", "exact", "--grayscale"]
    assert main([*argv, "--no-progress", "--workers", "1", "--fps", "24"]) == 0
    capsys.readouterr()
    mine = pd.read_parquet(out / "quality.parquet")
    ref = pd.read_parquet(out / "reference_quality.parquet")
    assert list(mine.id.str.split("/").str[-1]) == list(ref.id)
    np.testing.assert_allclose(mine.psnr, ref.psnr, rtol=1e-12)
    np.testing.assert_allclose(mine.brisque, ref.brisque, rtol=1e-12)
    assert (mine.brisque >= 0).all() and (mine.brisque_clipped_frames == 0).all()
    assert mine.duration_s.iloc[0] == pytest.approx(33 / 24)
    assert mine.file_size_bytes.iloc[0] == sum(
        p.stat().st_size for p in (frames_root / mine.path.iloc[0]).iterdir()
    )
    dev = pd.read_csv(out / "deviation.csv").set_index("metric")
    assert dev.loc["psnr", "difference"] == pytest.approx(0, abs=1e-9)
    assert dev.loc["psnr", "ks_statistic"] == 0
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    md = (out / "quality.md").read_text()
    assert "## Deviation from videos_ds" in md and "| frames_ds |" in md and "| videos_ds |" in md
    # an earlier report with the same settings serves as the reference without measuring again
    again = tmp_path / "again"
    argv = ["quality", str(frames_root), "--out", str(again), "--reference", str(out)]
    argv += ["--definition", "exact", "--grayscale"]
    assert main([*argv, "--no-progress", "--workers", "1", "--fps", "24"]) == 0
    capsys.readouterr()
    dev = pd.read_csv(again / "deviation.csv")
    assert (dev.difference == 0).all() and (dev.ks_statistic == 0).all()
    assert "## Deviation from frames_ds (reference)" in (again / "quality.md").read_text()


def test_grey_and_colour_in_worker_processes(demo_dataset):
    """The process pool (two workers, spawn) gives the in-process numbers; grey frames change
    PSNR and TV but BRISQUE stays on the same non-negative scale."""
    from equime.quality.measure import measure_folder

    colour_opts = QualityOptions(definition="exact", metrics=("psnr", "brisque"))
    _, colour, _ = measure_folder(demo_dataset, colour_opts, 1, False)
    grey_opts = QualityOptions(
        definition="exact", grayscale=True, metrics=("psnr", "tv", "brisque")
    )
    _, grey, unavailable = measure_folder(demo_dataset, grey_opts, 2, False)
    _, grey_here, _ = measure_folder(demo_dataset, grey_opts, 1, False)
    assert unavailable == {}
    pd.testing.assert_frame_equal(grey, grey_here, rtol=1e-9)
    assert (grey.brisque > 0).all()
    assert np.abs(grey.brisque - colour.brisque).max() < 2.0
    assert not np.allclose(grey.psnr, colour.psnr)


def test_a_broken_video_is_reported_and_the_rest_measured(demo_dataset, tmp_path, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    first = pd.read_parquet(demo_dataset / "metadata.parquet").file_name[0]
    shutil.copy(demo_dataset / first, folder / "good.mp4")
    (folder / "broken.mp4").write_bytes(b"not a video")
    out = tmp_path / "report"
    argv = ["quality", str(folder), "--out", str(out), "--no-progress", "--workers", "1"]
    assert main(argv) == 0
    capsys.readouterr()
    table = pd.read_parquet(out / "quality.parquet").set_index("id")
    assert "cannot read video" in table.loc["broken", "error"] and not table.loc["good", "error"]
    assert np.isfinite(table.loc["good", "psnr"]) and np.isnan(table.loc["broken", "psnr"])
    assert "broken not measured" in (out / "quality.md").read_text()
    assert json.loads((out / "quality.json").read_text())["failed"].keys() == {"broken"}


def test_user_errors_are_one_line_and_leave_nothing(tmp_path, capsys, monkeypatch):
    """A missing or empty input (or reference) is refused before anything is created: no
    quality_<name> folder (nor its .tmp) in the working directory, no --out folder."""
    monkeypatch.chdir(tmp_path)  # where a folder that is not an EquiME dataset reports by default
    (tmp_path / "empty").mkdir()
    (tmp_path / "clips").mkdir()
    frames = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), np.uint8)
    write_mp4(tmp_path / "clips" / "a.mp4", frames, 24)
    before = sorted(tmp_path.rglob("*"))
    reference = ["--reference", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]
    for argv in (["missing"], ["empty"], ["clips", *reference]):
        assert main(["quality", str(tmp_path / argv[0]), *argv[1:], "--no-progress"]) == 2
        assert sorted(tmp_path.rglob("*")) == before, argv
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("equime: error:") for line in err)


# --- the paper's definitions against the authors' script, written out directly -------------


def _authors_psnr(img1: np.ndarray, img2: np.ndarray) -> float:
    """evaluation_framework/video_quality_metrics.py `compute_psnr`, verbatim in substance
    (uint8 arrays in, so the subtraction and the square wrap modulo 256)."""
    mse = np.mean((img1 - img2) ** 2)
    if mse == 0:
        return 100
    return 20 * np.log10(255.0 / np.sqrt(mse))


def _piq_total_variation(gray: np.ndarray) -> float:
    """piq.total_variation(x, norm_type='l2') on one (1, 1, H, W) float32 frame in [0, 1]
    (piq/tv.py: sqrt of the summed squared differences along W and along H)."""
    import torch

    x = torch.from_numpy(gray).float().div(255.0)[None, None]
    w = torch.sum(torch.pow(x[:, :, :, 1:] - x[:, :, :, :-1], 2), dim=[1, 2, 3])
    h = torch.sum(torch.pow(x[:, :, 1:, :] - x[:, :, :-1, :], 2), dim=[1, 2, 3])
    return float(torch.sqrt(h + w).mean())


@pytest.fixture(scope="module")
def paper_clip(tmp_path_factory, astronaut) -> Path:
    """A lossless MP4 (any decoder returns these exact frames): small motion, two identical
    pairs, and one large jump whose differences exceed 16 (the authors' uint8 PSNR wraps)."""
    from equime.video.lossless import write_lossless_mp4

    face = cv2.resize(astronaut[:256, 128:384], (64, 48))
    frames = [face, np.roll(face, 1, axis=1), np.roll(face, 1, axis=1), _noised(face, 3)]
    frames += [frames[-1], 255 - frames[-1], np.roll(face, 2, axis=0)]
    folder = tmp_path_factory.mktemp("paper") / "clips"
    folder.mkdir()
    write_lossless_mp4(folder / "clip.mp4", np.stack(frames), 24)
    return folder


def test_paper_definition_equals_the_authors_formulas(paper_clip, tmp_path, capsys):
    """`equime quality --definition paper` on a clip against the authors' script re-done here:
    OpenCV decode, BGR->grey, skimage SSIM defaults, piq's TV, their PSNR (100 for identical
    pairs, averaged in). SSIM and TV exactly; PSNR with identical pairs counted their way."""
    cap = cv2.VideoCapture(str(paper_clip / "clip.mp4"))
    grey = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        grey.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    cap.release()
    assert len(grey) == 7
    pairs = list(itertools.pairwise(grey))
    wrapped = np.mean([_authors_psnr(a, b) for a, b in pairs])
    true_mse = [np.mean((a.astype(float) - b.astype(float)) ** 2) for a, b in pairs]
    psnr = np.mean([100 if m == 0 else 10 * np.log10(255**2 / m) for m in true_mse])
    ssim = np.mean([structural_similarity(a, b) for a, b in pairs])
    tv = np.mean([_piq_total_variation(g) for g in grey])

    out = tmp_path / "report"
    argv = ["quality", str(paper_clip), "--out", str(out), "--no-progress", "--workers", "1"]
    assert main([*argv, "--definition", "paper"]) == 0
    printed = capsys.readouterr().out
    row = pd.read_parquet(out / "quality.parquet").iloc[0]
    assert row.ssim == pytest.approx(ssim, abs=1e-12)
    assert row.tv == pytest.approx(tv, rel=1e-6)  # piq sums in float32
    assert row.psnr == pytest.approx(psnr, abs=1e-9)
    assert row.psnr_uint8 == pytest.approx(wrapped, abs=1e-9)  # their literal arithmetic
    assert row.psnr_uint8 > row.psnr + 1  # the inverted frame's wrap-around is visible
    assert row.identical_pairs == 2 and row.pairs == 6
    info = json.loads((out / "quality.json").read_text())
    assert info["identical_pairs"] == {
        "identical_pairs": 2,
        "pairs": 6,
        "clips_with_identical_pairs": 1,
        "clips_only_identical": 0,
    }
    assert "Identical consecutive frames: 2 of 6 pairs, in 1 clips" in printed
    summary = pd.read_csv(out / "summary.csv").set_index("metric")
    assert summary.loc["identical_pairs", "mean"] == 2 and (summary.definition == "paper").all()

    # exact: the same clip in colour, identical pairs left out of PSNR and SSIM alike
    out = tmp_path / "exact"
    argv = ["quality", str(paper_clip), "--out", str(out), "--no-progress", "--workers", "1"]
    assert main([*argv, "--definition", "exact"]) == 0
    assert "left out of PSNR and SSIM" in capsys.readouterr().out
    row = pd.read_parquet(out / "quality.parquet").iloc[0]
    assert row.identical_pairs == 2 and "psnr_uint8" not in row.index
    assert row.psnr < psnr  # no 100 dB pairs averaged in


def test_a_clip_of_only_identical_frames_is_counted_not_dropped(tmp_path):
    from equime.quality.measure import measure_frames

    still = np.repeat(data.astronaut()[None, :64, :64], 4, axis=0)
    for definition, psnr, ssim in (("paper", 100.0, 1.0), ("exact", None, None)):
        opts = QualityOptions(definition=definition, metrics=("psnr", "ssim"))
        metrics, _ = build_metrics(opts)
        values = measure_frames(still, metrics, opts)
        assert values["identical_pairs"] == 3 == values["pairs"]
        if psnr is None:
            assert np.isnan(values["psnr"]) and np.isnan(values["ssim"])
        else:
            assert values["psnr"] == psnr and values["ssim"] == pytest.approx(ssim)
    from equime.quality.report import identical_pairs

    table = pd.DataFrame({"identical_pairs": [3, 0], "pairs": [3, 5], "psnr": [np.nan, 40.0]})
    assert identical_pairs(table)["clips_only_identical"] == 1


def test_paper_brisque_keeps_negative_values(brisque_metric):
    camera = np.repeat(data.camera()[None, ..., None], 2, axis=0)
    paper = brisque_metric(camera, QualityOptions(definition="paper"))
    assert paper["brisque"] == pytest.approx(-7.88, abs=0.1) == paper["brisque_raw"]
    assert paper["brisque_clipped_frames"] == 2


def test_paper_clipiqa_keeps_the_frame_size(tiny_clip, astronaut):
    """`paper` feeds the frame at its own (non-square) size, as piq does; `exact` squeezes it
    to the model's square input. Equal on a square frame of the model's size."""
    wide = cv2.resize(astronaut, (64, 32))
    square = cv2.resize(astronaut, (32, 32))
    paper, _ = build_metrics(QualityOptions(definition="paper", clip_model=str(tiny_clip)))
    exact, _ = build_metrics(QualityOptions(definition="exact", clip_model=str(tiny_clip)))
    assert paper["clipiqa"].scores(wide[None])[0] != pytest.approx(
        exact["clipiqa"].scores(wide[None])[0], abs=1e-6
    )
    assert paper["clipiqa"].scores(square[None])[0] == pytest.approx(
        exact["clipiqa"].scores(square[None])[0], abs=1e-5
    )


@pytest.fixture(scope="module")
def tiny_piq_clip(tmp_path_factory) -> Path:
    """A folder like piq's ~/.cache/clip: RN50.pt (here a tiny randomly initialised ResNet CLIP
    with OpenAI's parameter names, saved as a state dict) and clipiqa_tokens.pt."""
    import math

    import torch

    from equime.quality.clip_resnet import ModifiedResNet, Transformer

    torch.manual_seed(0)
    visual = ModifiedResNet((1, 1, 1, 1), 32, 4, 64, 8)
    for module in visual.modules():  # BN statistics that are not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    text = Transformer(64, 1, 1)
    state = {f"visual.{k}": v for k, v in visual.state_dict().items()}
    state |= {f"transformer.{k}": v for k, v in text.state_dict().items()}
    state |= {
        "token_embedding.weight": torch.randn(50, 64),
        "positional_embedding": torch.randn(8, 64) * 0.01,
        "ln_final.weight": torch.ones(64),
        "ln_final.bias": torch.zeros(64),
        "text_projection": torch.randn(64, 32) * 0.1,
        "logit_scale": torch.tensor(math.log(100.0)),
    }
    folder = tmp_path_factory.mktemp("piq_clip")
    torch.save(state, folder / "RN50.pt")
    tokens = torch.zeros(2, 8, dtype=torch.long)
    tokens[0, :4] = torch.tensor([48, 5, 6, 49])  # start, "good", "photo.", end (the largest id)
    tokens[1, :4] = torch.tensor([48, 7, 6, 49])
    torch.save(tokens, folder / "clipiqa_tokens.pt")
    return folder


def test_clipiqa_with_piqs_resnet_clip(tiny_piq_clip, astronaut):
    """piq's backbone (RN50 files in the --clip-model folder): the score is piq's formula on the
    model's own encoders, at the frame's size under `paper`; grey equals equal RGB channels."""
    import torch

    from equime.quality.clip_resnet import load

    paper, unavailable = build_metrics(QualityOptions(clip_model=str(tiny_piq_clip)))
    assert unavailable == {} and paper["clipiqa"].backbone == "piq RN50"
    wide = cv2.resize(astronaut, (96, 48))
    score = paper["clipiqa"].scores(wide[None])[0]
    model, tokens = load(tiny_piq_clip)
    x = torch.from_numpy(wide).permute(2, 0, 1)[None].float() / 255
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.no_grad():
        image = model.encode_image((x - mean) / std)  # 96 x 48 in: no resize, no position emb.
        text = model.encode_text(tokens)
    image, text = image / image.norm(dim=-1, keepdim=True), text / text.norm(dim=-1, keepdim=True)
    expected = (model.logit_scale.exp() * image @ text.T).softmax(-1)[0, 0].item()
    assert score == pytest.approx(expected, abs=1e-6)
    grey = cv2.cvtColor(wide, cv2.COLOR_RGB2GRAY)
    assert paper["clipiqa"].scores(grey[None, ..., None])[0] == pytest.approx(
        paper["clipiqa"].scores(np.repeat(grey[None, ..., None], 3, -1))[0], abs=1e-6
    )
    exact, _ = build_metrics(QualityOptions(definition="exact", clip_model=str(tiny_piq_clip)))
    assert exact["clipiqa"].scores(wide[None])[0] != pytest.approx(score, abs=1e-6)  # 64 x 64
    (tiny_piq_clip.parent / "broken").mkdir()
    broken = tiny_piq_clip.parent / "broken"
    torch.save({"visual.conv1.weight": torch.zeros(1)}, broken / "RN50.pt")
    shutil.copy(tiny_piq_clip / "clipiqa_tokens.pt", broken / "clipiqa_tokens.pt")
    _, unavailable = build_metrics(QualityOptions(clip_model=str(broken), metrics=("clipiqa",)))
    assert "cannot load piq's CLIP" in unavailable["clipiqa"]
