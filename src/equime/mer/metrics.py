"""Recognition metrics, computed from a table of predictions (numpy; checked against scikit-learn).

  accuracy         fraction correct
  weighted_f1      per-class F1 weighted by true support (sklearn average='weighted')
  uf1              unweighted mean of per-class F1 (macro F1; MEGC's UF1), over the classes that
                   occur in the truth or the predictions (sklearn's default label set)
  uar              unweighted average recall over the classes that occur in the truth
                   (sklearn balanced_accuracy_score; MEGC's UAR)
  mean_confidence  mean top softmax probability (the authors' "mean confidence")
Pooled over all folds' predictions, as the MER protocols prescribe.
"""

from __future__ import annotations

from typing import Any

import numpy as np

METRICS = ("accuracy", "weighted_f1", "uf1", "uar", "mean_confidence")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def per_class_f1(matrix: np.ndarray) -> np.ndarray:
    tp = np.diag(matrix).astype(float)
    denominator = matrix.sum(0) + matrix.sum(1)  # 2tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * tp / denominator, 0.0)


def classification_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    confidence: np.ndarray | None = None,
) -> dict[str, Any]:
    """The metrics above plus the confusion matrix (as nested lists) and the sample count."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    if len(y_true) == 0:
        return {**dict.fromkeys(METRICS, float("nan")), "n": 0, "confusion": []}
    matrix = confusion(y_true, y_pred, n_classes)
    support = matrix.sum(1)
    present = (support > 0) | (matrix.sum(0) > 0)
    f1 = per_class_f1(matrix)
    recall = np.diag(matrix)[support > 0] / support[support > 0]
    return {
        "n": len(y_true),
        "accuracy": float(np.trace(matrix) / len(y_true)),
        "weighted_f1": float((f1 * support).sum() / support.sum()),
        "uf1": float(f1[present].mean()),
        "uar": float(recall.mean()),
        "mean_confidence": float(np.mean(confidence)) if confidence is not None else float("nan"),
        "confusion": matrix.tolist(),
    }
