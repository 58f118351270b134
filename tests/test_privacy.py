"""`equime protect` on a tiny recogniser trained here on `equime generate` videos (real warp
micro-expressions of the demo people's photo variants, real training through `equime train`,
real lossless and lossy encodes); attacked on videos of held-out variants."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mer_fixtures import GENERATE, train_recogniser

from equime.cli import main
from equime.mer.clips import read_frames
from equime.video.mp4 import write_mp4

SIZE = 32  # of the generated videos and of the recognisers' input
# Surprise is left out: its warp (AU 1+2+5+26: brows, lids and jaw all move) survives eps 4/255
# (a 5-class Simple3DCNN: 0.91 -> 0.41 under PGD, 20 of 24 surprise clips still read; see
# docs/privacy.md, Example)
CLASSES = ("happiness", "sadness", "disgust", "anger")
PER_CELL = 2  # held-out videos attacked per subject and emotion
N = 4 * len(CLASSES) * PER_CELL  # 4 held-out subjects (2 people x 2 variants)


def _folder_subset(dataset: Path, root: Path, per_cell: int | None = None) -> Path:
    """The CLASSES videos of a generated dataset (at most `per_cell` per subject and emotion),
    copied into a folder dataset: <emotion>/<clip>.mp4 + labels.csv with subject and apex, so a
    recogniser trains on and reads the same frames as from the EquiME dataset."""
    from equime.mer.datasets import load_dataset

    table = load_dataset("equime", dataset)
    table = table[table["emotion"].isin(CLASSES)].sort_values(["emotion", "subject", "clip"])
    if per_cell:
        table = table.groupby(["emotion", "subject"], sort=False).head(per_cell)
    rows = []
    for _, r in table.iterrows():
        path = Path(r["emotion"]) / f"{r['clip']}.mp4"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(r["source"], root / path)
        rows.append({"path": str(path), "label": r["emotion"], "subject": r["subject"]})
        rows[-1].update({k: int(r[k]) for k in ("onset", "apex", "offset")})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)
    return root


@pytest.fixture(scope="module")
def trained(variant_videos, tmp_path_factory) -> dict[str, Path]:
    """A Simple3DCNN to attack, an ST-CNN and an STSTNet (onset -> apex optical flow, the input
    of the field's strong recognisers) for the transfer rows, all trained by `equime train` on
    the session's `equime generate` videos (192 of 4 photo variants, 4 emotions); attacked on
    N videos of the 2 held-out variants."""
    base = tmp_path_factory.mktemp("privacy")
    train = _folder_subset(variant_videos["train"], base / "train")
    cache, folder = base / "cache", ("--dataset", "folder", "--scheme", "native")
    return {
        "base": base,
        "data": _folder_subset(variant_videos["test"], base / "data", PER_CELL),
        "model": train_recogniser(train, "simple3dcnn", base / "simple3dcnn", cache, *folder),
        "transfer": train_recogniser(train, "stcnn", base / "stcnn", cache, *folder),
        "flow": train_recogniser(train, "ststnet", base / "ststnet", cache, *folder),
    }


def _protect(trained, out: Path, *extra: str) -> dict:
    args = ["protect", str(trained["data"]), "--model", str(trained["model"]), "--out", str(out)]
    assert main([*args, "--batch", "16", "--no-progress", *extra]) == 0
    return json.loads((out / "report.json").read_text())


def _row(report: dict, role: str, condition: str) -> dict:
    (row,) = [r for r in report["summary"] if r["role"] == role and r["condition"] == condition]
    return row


EPS_LEVELS = (2, 4, 8)  # the privacy test's eps grid, in 8-bit levels (issue 14, item 6)
BELOW = 1  # one 8-bit level, below the grid: the control that the grid brackets the threshold
# Imperceptibility at the eps found: PSNR >= 35 dB and SSIM >= 0.98 over the changed frames. At
# a0b5f1f (data motion source) PGD measured 43.00 dB / 0.9968 at 2/255 (the eps found),
# 37.14 dB / 0.9881 at 4/255 and 31.13 dB / 0.9569 at 8/255: a generator that needs 8/255 fails
# here, as it should (the perturbation is no longer imperceptible by the 35 dB).
MIN_PSNR_DB = 35.0
MIN_SSIM = 0.98


def _summary(report: dict) -> str:
    before, after = _row(report, "attacked", "original"), _row(report, "attacked", "protected")
    imp = report["imperceptibility"]
    return (
        f"accuracy {before['accuracy']:.3f} -> {after['accuracy']:.3f}, "
        f"p_true {before['mean_p_true']:.3f} -> {after['mean_p_true']:.3f}, "
        f"success {after['attack_success']:.3f}, PSNR min {imp['psnr_min_db']:.2f} dB, "
        f"SSIM min {imp['ssim_min']:.4f}, linf {imp['linf_max_levels']}"
    )


@pytest.fixture(scope="module")
def eps_search(trained) -> dict:
    """Default PGD at every eps of {1, 2, 4, 8}/255 (no stopping rule: each level is run, so the
    test can check the whole curve), and the smallest eps of {2, 4, 8}/255 at which it takes the
    attacked recogniser to chance on the current generator's videos, measured (not assumed): the
    generator may change, and this test follows it. FGSM runs at that eps for the comparison."""
    runs = {}
    for levels in (BELOW, *EPS_LEVELS):
        out = trained["base"] / f"search-pgd-{levels}"
        runs[levels] = _protect(
            trained, out, "--eps", f"{levels}/255", "--no-reencode", "--no-blur"
        )
        print(f"\nprivacy PGD {levels}/255: {_summary(runs[levels])}")
    reached = [
        lv
        for lv in EPS_LEVELS
        if _row(runs[lv], "attacked", "protected")["accuracy"] <= runs[lv]["chance"]
    ]
    if not reached:
        pytest.fail(f"PGD never reached chance at eps {EPS_LEVELS}/255: {runs}")
    levels = reached[0]
    fgsm = _protect(
        trained,
        trained["base"] / f"search-fgsm-{levels}",
        "--attack",
        "fgsm",
        "--eps",
        f"{levels}/255",
        "--no-reencode",
        "--no-blur",
    )
    print(f"\nprivacy eps: PGD reaches chance at {levels}/255; FGSM there: {_summary(fgsm)}")
    return {"levels": levels, "pgd": runs[levels], "fgsm": fgsm, "runs": runs}


@pytest.fixture(scope="module")
def pgd(trained, eps_search) -> dict:
    """The full report at the measured eps: transfer to ST-CNN (frames) and STSTNet (flow),
    with and without the defences (H.264 re-encode, blur)."""
    out = trained["base"] / "pgd"
    levels = eps_search["levels"]
    transfer = ["--transfer", str(trained["transfer"]), "--transfer", str(trained["flow"])]
    return _protect(trained, out, "--attack", "pgd", "--eps", f"{levels}/255", *transfer)


def test_pgd_reaches_chance_at_the_smallest_eps_with_psnr_above_35(trained, eps_search) -> None:
    """Measured at a0b5f1f (data motion source; 32 held-out videos, chance 0.25): accuracy 0.688
    on the originals; after PGD 0.281 at 1/255, 0.062 at 2/255, 0 at 4/255 and 8/255; at 2/255
    attack success 0.909 (20 of the 22 videos read right before), mean p(true class) 0.359 ->
    0.177, PSNR 43.00 dB, SSIM 0.9968; FGSM at 2/255: accuracy 0.156, p(true) 0.221. (At 6d1ec81:
    0.406, 0.219, 0, 0; success 0.682, p(true) 0.433 -> 0.231.)"""
    levels, report, fgsm = eps_search["levels"], eps_search["pgd"], eps_search["fgsm"]
    runs, chance = eps_search["runs"], report["chance"]
    before = _row(report, "attacked", "original")
    after = _row(report, "attacked", "protected")
    assert chance == pytest.approx(1 / len(CLASSES))
    assert before["accuracy"] >= chance + 0.3, before  # the recogniser really reads the videos
    assert after["accuracy"] <= chance, after
    # the whole curve, every level run (not only up to the one found), from the clean videos
    # (eps 0, read above chance) on: more budget never helps the recogniser, and every level from
    # the one found on reaches chance. On warp 3.0 (motion from real faces, per-video variation)
    # PGD reaches chance at 1/255 as well (0.219; 0.281 at a0b5f1f, 0.406 at 6d1ec81): one 8-bit
    # level, the least eps that can be written, is enough, so no smaller eps is left to stay above
    # chance; the grid's smallest level (2/255) is the one the report below is made at. With the
    # start faces of issue 26 (crops kept inside the photo, every AU undone): 0.625 on the
    # originals, 0.438 at 1/255, 0.219 at 2/255, 0.062 at 4/255: one level takes 0.19 off, two
    # reach chance. With lips closed by moving the lower lip (synth/lips.py): 0.688, 0.250 at
    # 1/255, 0.094 at 2/255, 0 at 4/255. (With 2 of the 4 astronaut training variants refused
    # at MAX_UNDO 2.0 E the recogniser read only 0.375-0.469 of the originals.) With the chin
    # raise undone and the lips closed fuller (start faces that read neutral): 0.812 on the
    # originals, 0.500 at 1/255, 0.219 at 2/255, 0 at 4/255.
    accuracy = {0: before["accuracy"]}
    accuracy |= {lv: _row(runs[lv], "attacked", "protected")["accuracy"] for lv in runs}
    curve = [accuracy[lv] for lv in sorted(accuracy)]
    assert curve == sorted(curve, reverse=True), accuracy
    assert accuracy[0] > chance and accuracy[BELOW] <= accuracy[0] - 0.15, accuracy
    assert all(accuracy[lv] <= chance for lv in EPS_LEVELS if lv >= levels), accuracy
    # most of what was read right is now read wrong, and the true class lost probability
    # measured 0.909 (0.682 = 15 of 22 at 6d1ec81, where 0.6 left 1 video of margin)
    assert after["attack_success"] >= 0.6, after
    assert after["mean_p_true"] <= before["mean_p_true"] - 0.1, after  # measured drop 0.182
    imp = report["imperceptibility"]
    assert imp["psnr_min_db"] >= MIN_PSNR_DB and imp["linf_max_levels"] <= levels, imp
    assert imp["ssim_min"] >= MIN_SSIM, imp
    # PGD is the stronger attack at equal eps; FGSM took one step of exactly eps
    f_after = _row(fgsm, "attacked", "protected")
    assert f_after["accuracy"] > after["accuracy"]
    assert f_after["mean_p_true"] > after["mean_p_true"]
    assert fgsm["attack"]["step_size"] == pytest.approx(levels / 255)
    assert report["attack"]["random_start"] is True and report["attack"]["restarts"] == 1


def test_protected_files_are_exact_and_change_only_the_clip_read(trained, pgd, eps_search):
    levels = eps_search["levels"]
    assert pgd["output"]["exact"] == pgd["videos"] == N
    videos = pd.read_csv(trained["base"] / "pgd" / "per_video.csv")
    first = videos.iloc[0]
    written = read_frames(trained["base"] / "pgd" / first["path"])
    original = read_frames(first["source"])
    diff = written.astype(int) - original.astype(int)
    assert np.abs(diff).max() == levels
    moved = np.flatnonzero(np.abs(diff).reshape(len(diff), -1).max(1))
    assert len(moved) == 8 < len(diff) and moved[-1] - moved[0] == 7  # only the clip read moved
    assert moved[0] <= first["apex"] <= moved[-1]


def test_report_has_flow_transfer_and_defence_rows_with_intervals(trained, pgd) -> None:
    conditions = {(r["recogniser"], r["condition"]) for r in pgd["summary"]}
    names = {r["name"]: r for r in pgd["recognisers"]}
    assert [r["input"] for r in pgd["recognisers"]] == ["frames", "frames", "flow"]
    for name in names:
        for condition in ("original", "protected", "protected_h264", "original_h264"):
            assert (name, condition) in conditions
        assert (name, "protected_blur") in conditions and (name, "original_blur") in conditions
    flow = next(n for n, r in names.items() if r["input"] == "flow")
    flow_original = next(
        r for r in pgd["summary"] if r["recogniser"] == flow and r["condition"] == "original"
    )
    assert flow_original["accuracy"] > pgd["chance"]  # the flow recogniser reads the originals
    for row in pgd["summary"]:
        assert row["accuracy_ci_low"] <= row["accuracy"] <= row["accuracy_ci_high"]
        if row["condition"] == "protected_h264":
            assert row["baseline"] == "original_h264"  # re-encoded against re-encoded
        if row["condition"] == "protected_blur":
            assert row["baseline"] == "original_blur"
    text = (trained["base"] / "pgd" / "report.md").read_text()
    assert "then H.264 CRF 23" in text and "re-encode alone" in text and "blur alone" in text
    assert "| flow |" in text and "95 % bootstrap" in text and "random start" in text
    png = (trained["base"] / "pgd" / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert pgd["versions"]["torch"] and pgd["config"]["attack"] == "pgd"
    # the output folder is a dataset again: it trains / evaluates / protects like any other
    from equime.mer.datasets import load_dataset

    again = load_dataset("folder", trained["base"] / "pgd")
    assert len(again) == N and set(again["emotion"]) == set(CLASSES)


def test_success_on_defended_rows_is_against_the_defended_original() -> None:
    """A video the recogniser gets wrong after the re-encode alone is no success of the attack."""
    from equime.privacy.report import summarise

    rows = []
    for clip, (orig, reenc, prot_reenc) in enumerate([(0, 0, 1), (0, 1, 1), (0, 0, 0)]):
        for condition, pred in (
            ("original", orig),
            ("original_h264", reenc),
            ("protected_h264", prot_reenc),
        ):
            rows.append(
                {
                    "clip": f"c{clip}",
                    "recogniser": "r",
                    "role": "attacked",
                    "condition": condition,
                    "y_true": 0,
                    "y_pred": pred,
                    "confidence": 0.9,
                    "p_true": 0.5,
                }
            )
    summary = summarise(pd.DataFrame(rows), None).set_index("condition")
    # re-encode alone breaks clip 1; of clips 0 and 2 (right after re-encoding) the attack
    # breaks clip 0: 1 of 2, where the old baseline (original) would have said 2 of 3
    assert summary.loc["protected_h264", "attack_success"] == pytest.approx(0.5)
    assert summary.loc["original_h264", "attack_success"] == pytest.approx(1 / 3)
    low, high = summary.loc["protected_h264", ["attack_success_ci_low", "attack_success_ci_high"]]
    assert 0 <= low <= 0.5 <= high <= 1


def _perturbation_shares(folder: Path) -> tuple[float, float]:
    """Over every protected video, means of (a) the share of the perturbation's energy at low
    spatial frequencies (what a Gaussian of sigma 2 video pixels keeps) and (b) the share an
    H.264 CRF 23 re-encode keeps: the projection of (re-encoded protected - re-encoded
    original) on (protected - original). Grey, as the recognisers read."""
    import cv2

    from equime.privacy.measure import h264_round_trip

    low, kept = [], []
    for row in pd.read_csv(folder / "per_video.csv").itertuples():
        original, protected = read_frames(row.source), read_frames(folder / row.path)
        delta = (protected.astype(float) - original).mean(-1)
        smooth = np.stack([cv2.GaussianBlur(f, (0, 0), 2) for f in delta])
        low.append((smooth**2).sum() / (delta**2).sum())
        after = h264_round_trip(protected, row.fps, 23).astype(float)
        after = (after - h264_round_trip(original, row.fps, 23)).mean(-1)
        kept.append((after * delta).sum() / (delta**2).sum())
    return float(np.mean(low)), float(np.mean(kept))


def test_smooth_protection_survives_reencode_better(trained, pgd, eps_search) -> None:
    """Attacking a blurred view too moves the perturbation to low frequencies, which H.264 keeps
    (20 steps: the blurred view makes the objective harder). Measured on the pixels: the smooth
    perturbation has more low-frequency energy, and a larger share of it survives CRF 23. The
    recogniser's accuracy after the re-encode is reported, not asserted: at 32 videos the
    intervals overlap (see docs/privacy.md)."""
    eps = f"{eps_search['levels']}/255"
    smooth = _protect(
        trained, trained["base"] / "smooth", "--smooth", "2", "--steps", "20", "--eps", eps
    )
    low_smooth, kept_smooth = _perturbation_shares(trained["base"] / "smooth")
    low_plain, kept_plain = _perturbation_shares(trained["base"] / "pgd")
    print(f"\nlow-frequency share: smooth {low_smooth:.3f}, plain {low_plain:.3f}; kept by CRF 23:")
    print(f"smooth {kept_smooth:.3f}, plain {kept_plain:.3f}")
    print(f"privacy smooth: {_summary(smooth)}")
    assert low_smooth > 2 * low_plain  # measured 0.082 against 0.038 (a0b5f1f; 0.152 / 0.049)
    assert kept_smooth > kept_plain  # measured 0.043 against 0.037 (a0b5f1f; 0.038 / 0.027)
    protected = _row(smooth, "attacked", "protected")
    # still at chance before re-encoding: measured 0.094 = 3 of 32 (a0b5f1f); 0.250 = 8 of 32,
    # chance exactly, at 6d1ec81
    assert protected["accuracy"] <= smooth["chance"], protected
    assert smooth["imperceptibility"]["psnr_min_db"] >= MIN_PSNR_DB  # measured 42.95 dB
    assert smooth["imperceptibility"]["ssim_min"] >= MIN_SSIM  # measured 0.9968
    assert smooth["attack"]["smooth"] == 2.0


def _subset(trained, tmp_path: Path, n: int = 6) -> Path:
    """A folder of videos elsewhere, listed in a labels CSV."""
    labels = pd.read_csv(trained["data"] / "labels.csv").iloc[::5].head(n)
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
        args += ["--target", "sadness", "--steps", "8", "--no-reencode", "--no-blur"]
        args += ["--no-progress"]
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
    assert report["attack"]["target_class"] == "sadness" and report["attack"]["steps"] == 8
    after = _row(report, "attacked", "protected")
    before = _row(report, "attacked", "original")
    assert after["attack_success"] >= 0.5  # most other videos now read as sadness
    assert after["accuracy"] < before["accuracy"]


def test_equime_dataset_input_and_lossy_output(trained, tmp_path) -> None:
    data = tmp_path / "eq"
    args = ["generate", "--demo", "--emotions", "happiness,sadness,anger", "--out", str(data)]
    assert main([*args, *GENERATE]) == 0
    out = tmp_path / "eq-protected"
    args = ["protect", str(data), "--model", str(trained["model"]), "--out", str(out)]
    args += ["--attack", "fgsm", "--lossy", "--no-reencode", "--no-blur", "--no-progress"]
    assert main(args) == 0
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


def test_default_pgd_starts_at_random_per_clip() -> None:
    """Default PGD has a random start: two seeds give different perturbations; the noise is the
    clip's own (same key, same result in any batch), restarts keep the strongest per clip."""
    import torch

    from equime.mer.clips import preprocess
    from equime.mer.models import create_model
    from equime.privacy.attacks import AttackSpec, objective, perturb

    torch.manual_seed(0)
    net = create_model("simple3dcnn", 3, n_frames=8, size=16).eval()
    clips = np.random.default_rng(1).integers(0, 256, (3, 8, 16, 16, 3), dtype=np.uint8)
    spec = AttackSpec(eps=4 / 255, steps=3).validate()
    assert spec.random_start and spec.restarts == 1
    a = perturb(spec, net, clips, [0, 1, 2], 8, 16, keys=["x", "y", "z"])
    b = perturb(
        AttackSpec(eps=4 / 255, steps=3, seed=1), net, clips, [0, 1, 2], 8, 16, keys=["x", "y", "z"]
    )
    assert not np.array_equal(a, b)
    delta = a.astype(int) - clips.astype(int)
    inside = (clips >= 8).all(-1) & (clips <= 247).all(-1)  # no clipping at 0 / 255
    assert (delta[inside][:, 0] == delta[inside][:, 1]).all()  # brightness only: R = G = B
    assert (delta[inside][:, 1] == delta[inside][:, 2]).all()
    alone = perturb(spec, net, clips[1:2], [1], 8, 16, keys=["y"])
    np.testing.assert_array_equal(alone[0], a[1])  # the batch it shares changes nothing
    same = perturb(spec, net, clips[[0, 0]], [0, 0], 8, 16, keys=["x", "w"])
    assert not np.array_equal(same[0], same[1])  # noise per clip, not per batch

    def loss(adv: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(adv).float() / 255
        with torch.no_grad():
            return objective(net(preprocess(x, 8, 16)), torch.tensor([0, 1, 2]), None, "none")

    many = perturb(
        AttackSpec(eps=4 / 255, steps=3, restarts=4),
        net,
        clips,
        [0, 1, 2],
        8,
        16,
        keys=["x", "y", "z"],
    )
    assert (loss(many) >= loss(a) - 1e-4).all()  # restart 0 is the default run


def test_frame_folders_in_videos_out(trained, tmp_path) -> None:
    """A folder of frame-image clips (<label>/<clip>/img<k>.png): protected clips come out as
    lossless MP4s whose frames differ from the images by at most eps."""
    import cv2

    labels = pd.read_csv(trained["data"] / "labels.csv").iloc[[0, N - 1]]
    root = tmp_path / "frames"
    for path, label in zip(labels["path"], labels["label"], strict=True):
        folder = root / label / Path(path).stem
        folder.mkdir(parents=True)
        for k, frame in enumerate(read_frames(trained["data"] / path)):
            cv2.imwrite(str(folder / f"img{k + 1}.png"), frame[:, :, ::-1])
    out = tmp_path / "frames-out"
    args = ["protect", str(root), "--model", str(trained["model"]), "--out", str(out)]
    assert main([*args, "--no-reencode", "--no-blur", "--no-progress"]) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert written == sorted(f"videos/{Path(p).with_suffix('.mp4')}" for p in labels["path"])
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
    assert "FGSM takes one step" in _error(
        capsys, [*base, "--attack", "fgsm", "--step-size", "1/255"]
    )
    assert "--restarts" in _error(capsys, [*base, "--restarts", "0"])
    assert "random start" in _error(capsys, [*base, "--restarts", "3", "--no-random-start"])
    assert "--blur-sigma" in _error(capsys, [*base, "--blur-sigma", "0"])
    assert "--transfer" in _error(capsys, [*base[:3], str(trained["flow"]), *base[4:]])
    assert "not a class" in _error(capsys, [*base, "--target", "surprise"])
    # a checkpoint whose weights are of another architecture
    other = tmp_path / "other"
    shutil.copytree(model, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model": "stcnn"}))
    err = _error(capsys, [*base[:3], str(other), *base[4:]])
    assert "do not fit model stcnn" in err
    # another class count: in the config, and a transfer recogniser with other classes
    (other / "config.json").write_text(json.dumps({**config, "n_classes": 3}))
    assert "do not fit" in _error(capsys, [*base[:3], str(other), *base[4:]])
    three = tmp_path / "three"
    from equime.mer.checkpoint import save_checkpoint
    from equime.mer.models import create_model

    net = create_model("simple3dcnn", 3, n_frames=config["n_frames"], size=SIZE)
    classes = ["happiness", "sadness", "surprise"]
    save_checkpoint(three, net, {**config, "n_classes": 3, "classes": classes})
    err = _error(capsys, [*base, "--transfer", str(three)])
    assert "3 classes" in err and "same classes" in err
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


def test_flow_input_from_memory_equals_mer_flow_from_disk(trained) -> None:
    """The flow recogniser's input computed by protect from decoded frames in memory equals
    mer.flow.prepare_flow reading the same video from disk (so the two cannot drift apart)."""
    from equime.mer.checkpoint import load_checkpoint
    from equime.mer.datasets import load_dataset
    from equime.mer.flow import prepare_flow
    from equime.mer.inputs import preprocess_from_config
    from equime.privacy.measure import Recogniser, flow_input

    model, config = load_checkpoint(trained["flow"])
    rec = Recogniser("ststnet", trained["flow"], model, config, "transfer")
    table = load_dataset("folder", trained["data"])
    for _, row in table.head(2).iterrows():
        ours = flow_input(rec, read_frames(row["source"]), row)
        theirs, _ = prepare_flow(row, preprocess_from_config(config), rec.size)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
