"""Confidence a person can read: temperature scaling, calibration error and an out-of-distribution
score, all fitted on the validation split (held-out identities) and stored in the checkpoint.

- Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): one
  scalar T > 0 divides the logits, fitted by minimising the validation negative log-likelihood;
  the predicted class never changes, only how sure the model says it is. A validation split
  the model classifies without one error has no finite minimiser (the likelihood only grows as
  T -> 0, which would make the model surer of everything, real clips included): T stays 1 and
  the checkpoint says `separable`.
- Expected calibration error (Guo et al. 2017, after Naeini et al. 2015): top-probability bins
  of equal width (`BINS`), the support-weighted mean |accuracy - confidence|.
- Energy score (Liu et al., "Energy-based Out-of-distribution Detection", NeurIPS 2020):
  E(x) = -T logsumexp(f(x) / T) with T = 1 as in the paper; the score is -E(x), higher for
  inputs like the training data. The threshold is the `ENERGY_QUANTILE` quantile of the
  validation scores (95% of in-distribution validation clips kept, the paper's TPR-95
  operating point); a clip scoring below it is `unsure`: still predicted, counted apart.
- Motion size (flow inputs): the energy score reads logits, and logits grow with the input, so a
  real expression that moves the face several times more than any generated micro-expression
  scores as *more* familiar, not less. The range of the training clips' flow size
  (mer.inputs.flow_size) widened by `SIZE_SLACK` either side is stored; a clip outside it is
  `unsure` too, whatever the flow scale shows the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

BINS = 15
ENERGY_QUANTILE = 0.05
T_RANGE = (0.05, 20.0)
SIZE_SLACK = 1.5


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def energy_score(logits: np.ndarray) -> np.ndarray:
    """-E(x) = logsumexp(f(x)) (T = 1): higher is more like the training data."""
    z = np.asarray(logits, np.float64)
    top = z.max(1)
    return top + np.log(np.exp(z - top[:, None]).sum(1))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """T minimising the mean NLL of softmax(logits / T) (LBFGS on log T, clipped to T_RANGE)."""
    x = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(np.clip(log_t.exp().item(), *T_RANGE))


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = BINS
) -> float:
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if len(confidence) == 0:
        return float("nan")
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total / len(confidence))


def calibrate(
    logits: np.ndarray, labels: np.ndarray, sizes: np.ndarray | None = None
) -> dict[str, Any]:
    """What the checkpoint stores: temperature, energy threshold, the validation ECE before and
    after, and (flow: `sizes` of the training clips) the motion-size range (plain data)."""
    correct = np.asarray(logits).argmax(1) == np.asarray(labels)
    separable = bool(correct.all())
    temperature = 1.0 if separable else fit_temperature(logits, labels)
    scores = energy_score(logits)
    return {
        "method": "temperature scaling (Guo et al. 2017); energy score (Liu et al. 2020)",
        "temperature": temperature,
        "separable": separable,
        "energy_threshold": float(np.quantile(scores, ENERGY_QUANTILE)),
        "energy_quantile": ENERGY_QUANTILE,
        "val_clips": len(labels),
        "val_ece_before": expected_calibration_error(softmax(logits).max(1), correct),
        "val_ece_after": expected_calibration_error(softmax(logits, temperature).max(1), correct),
        **(
            {"size_range": [float(np.min(sizes)) / SIZE_SLACK, float(np.max(sizes)) * SIZE_SLACK]}
            if sizes is not None and len(sizes)
            else {}
        ),
    }


def read_out(
    logits: np.ndarray, calibration: dict[str, Any], sizes: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Calibrated probabilities, raw top probability, energy score, the unsure flag and why,
    of each clip under a checkpoint's calibration (an old checkpoint without one: T = 1, never
    unsure)."""
    temperature = float(calibration.get("temperature", 1.0))
    threshold = calibration.get("energy_threshold")
    scores = energy_score(logits)
    unfamiliar = scores < threshold if threshold is not None else np.zeros(len(scores), bool)
    limits = calibration.get("size_range")
    if limits is not None and sizes is not None:
        odd_size = (np.asarray(sizes) < limits[0]) | (np.asarray(sizes) > limits[1])
    else:
        odd_size = np.zeros(len(scores), bool)
    why = np.array(
        [
            "; ".join(w for w, hit in (("energy", e), ("motion size", m)) if hit)
            for e, m in zip(unfamiliar, odd_size, strict=True)
        ],
        dtype=object,
    )
    return {
        "probs": softmax(logits, temperature),
        "raw_confidence": softmax(logits).max(1),
        "energy": scores,
        "unsure": unfamiliar | odd_size,
        "unsure_why": why,
    }


def plot_reliability(
    panels: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]], path: Path, bins: int = BINS
) -> None:
    """Reliability diagrams (Guo et al. 2017, Fig. 1): accuracy per confidence bin before and
    after temperature scaling, a panel per (title, raw confidence, calibrated confidence,
    correct)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(panels))
    cols = min(4, n)
    rows = -(-n // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.6 * rows), squeeze=False)
    for ax in grid.ravel()[len(panels) :]:
        ax.axis("off")
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    for ax, (title, raw, calibrated, correct) in zip(grid.ravel(), panels, strict=False):
        for conf, label, colour in ((raw, "before", "tab:red"), (calibrated, "after", "tab:blue")):
            which = np.minimum((np.asarray(conf) * bins).astype(int), bins - 1)
            acc = [
                np.asarray(correct, float)[which == b].mean() if (which == b).any() else np.nan
                for b in range(bins)
            ]
            ece = expected_calibration_error(conf, correct, bins)
            ax.plot(centres, acc, "o-", color=colour, label=f"{label} (ECE {ece:.3f})", ms=3)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(title, fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
