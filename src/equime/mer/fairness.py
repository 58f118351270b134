"""Per-group results: accuracy and F1 for each gender, race and age group of a test set, with the
largest gap (max - min) and ratio (min / max) across groups, via fairlearn's MetricFrame.

Groups whose attribute is unknown ('', 'unknown', NaN) are left out rather than pooled, so an
unlabelled remainder never poses as a demographic group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ATTRIBUTES = ("gender", "race", "age_group")
UNKNOWN = {"", "unknown", "nan", "none"}


def _f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _count(y_true: np.ndarray, y_pred: np.ndarray) -> int:
    return len(y_true)


def group_attributes(table: pd.DataFrame) -> list[str]:
    """The attribute columns with at least two known groups."""
    found = []
    for col in ATTRIBUTES:
        if col in table.columns:
            known = {str(v) for v in table[col].dropna() if str(v).strip().lower() not in UNKNOWN}
            if len(known) >= 2:
                found.append(col)
    return found


def per_group(
    table: pd.DataFrame, attributes: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`table` has y_true, y_pred and attribute columns. Returns (per-group rows: attribute, group,
    n, accuracy, f1) and (per attribute and metric: gap, ratio, best and worst group)."""
    from fairlearn.metrics import MetricFrame

    groups, gaps = [], []
    for attr in attributes if attributes is not None else group_attributes(table):
        values = table[attr].astype(str)
        known = ~values.str.strip().str.lower().isin(UNKNOWN)
        if known.sum() == 0 or values[known].nunique() < 2:
            continue
        frame = MetricFrame(
            metrics={"accuracy": _accuracy, "f1": _f1, "n": _count},
            y_true=table.loc[known, "y_true"].to_numpy(),
            y_pred=table.loc[known, "y_pred"].to_numpy(),
            sensitive_features=values[known].rename(attr),
        )
        by_group = frame.by_group.reset_index()
        for _, row in by_group.iterrows():
            groups.append(
                {
                    "attribute": attr,
                    "group": row[attr],
                    "n": int(row["n"]),
                    "accuracy": float(row["accuracy"]),
                    "f1": float(row["f1"]),
                }
            )
        difference, ratio = frame.difference(), frame.ratio()
        for metric in ("accuracy", "f1"):
            col = by_group.set_index(attr)[metric].astype(float)
            gaps.append(
                {
                    "attribute": attr,
                    "metric": metric,
                    "gap": float(difference[metric]),
                    "ratio": float(ratio[metric]),
                    "best": str(col.idxmax()),
                    "worst": str(col.idxmin()),
                    "groups": len(col),
                }
            )
    return (
        pd.DataFrame(groups, columns=["attribute", "group", "n", "accuracy", "f1"]),
        pd.DataFrame(
            gaps, columns=["attribute", "metric", "gap", "ratio", "best", "worst", "groups"]
        ),
    )
