"""Calibration (mer.calibration): temperature scaling recovers a known over-confidence, the
expected calibration error agrees with a direct count, and the energy threshold keeps the
chosen share of validation clips."""

from __future__ import annotations

import numpy as np
import pytest

from equime.mer.calibration import (
    ENERGY_QUANTILE,
    calibrate,
    energy_score,
    expected_calibration_error,
    read_out,
    softmax,
)


def _overconfident(n: int = 4000, k: int = 5, sharpen: float = 4.0, seed: int = 0):
    """Labels drawn from softmax(z): z is calibrated, sharpen * z is over-confident."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, k))
    p = softmax(z)
    labels = np.array([rng.choice(k, p=row) for row in p])
    return sharpen * z, labels


def test_temperature_undoes_a_known_overconfidence() -> None:
    logits, labels = _overconfident()
    cal = calibrate(logits, labels)
    assert abs(cal["temperature"] - 4.0) < 0.4  # the sharpening put in
    assert cal["val_ece_before"] > 0.15 and cal["val_ece_after"] < 0.03
    read = read_out(logits, cal)
    assert (read["probs"].argmax(1) == logits.argmax(1)).all()  # the class never changes
    assert np.allclose(read["probs"].sum(1), 1)
    right = logits.argmax(1)  # no error to learn from: T stays 1, not -> 0
    assert calibrate(logits, right)["temperature"] == 1.0


def test_ece_is_the_binned_gap() -> None:
    confidence = np.array([0.95, 0.95, 0.55, 0.55, 0.55, 0.25])
    correct = np.array([1, 0, 1, 1, 0, 0])
    # bins: 0.95 (2 clips, acc 0.5), 0.55 (3 clips, acc 2/3), 0.25 (1 clip, acc 0)
    expected = (2 * 0.45 + 3 * abs(2 / 3 - 0.55) + 1 * 0.25) / 6
    assert np.isclose(expected_calibration_error(confidence, correct), expected)
    assert np.isnan(expected_calibration_error(np.array([]), np.array([])))


def test_energy_threshold_flags_what_is_unlike_validation() -> None:
    logits, labels = _overconfident(sharpen=1.0)
    cal = calibrate(logits, labels)
    share = read_out(logits, cal)["unsure"].mean()
    assert abs(share - ENERGY_QUANTILE) < 0.01  # the validation clips below the quantile
    faint = np.zeros((3, 5)) - 10.0  # logits far below anything seen: unsure
    assert read_out(faint, cal)["unsure"].all()
    assert np.allclose(energy_score(np.zeros((1, 5))), np.log(5))  # logsumexp by hand
    assert not read_out(faint, {})["unsure"].any()  # an old checkpoint: never unsure


@pytest.mark.slow
def test_calibrated_on_generated_held_out_identities(variant_videos, tmp_path) -> None:
    """STSTNet on flow (defaults) trained on 4 variants of each demo person, validation holding
    out 2 of those 8 identities, tested on 2 other variants of both: the expected calibration
    error after temperature scaling is at most 0.05."""
    import torch

    from equime.mer.cache import ClipCache
    from equime.mer.datasets import load_dataset
    from equime.mer.predict import predict_table
    from equime.mer.train import TrainConfig, apply_scheme, checkpoint_config, fit

    train, classes = apply_scheme(load_dataset("equime", variant_videos["train"]), "equime5")
    test = load_dataset("equime", variant_videos["test"])
    cache = ClipCache(tmp_path / "cache")
    cfg = TrainConfig(data="", model="ststnet", out="", progress=False, threads=1, epochs=40)
    threads = torch.get_num_threads()
    try:
        fitted = fit(train, classes, "first", cfg, cache)
    finally:
        torch.set_num_threads(threads)
    config = checkpoint_config(cfg, fitted, train, classes, "first")
    pred = predict_table(fitted.model, config, test, "first", cache)
    right = (pred["y_true"] == pred["y_pred"]).to_numpy()
    before = expected_calibration_error(pred["raw_confidence"], right)
    after = expected_calibration_error(pred["confidence"], right)
    print(f"accuracy {right.mean():.3f}, ECE {before:.3f} -> {after:.3f}", config["calibration"])
    assert right.mean() > 0.5 and after <= 0.05
