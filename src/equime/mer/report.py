"""The evaluation report: PNG plots like the paper's Figures 4 (cross-dataset scores per model)
and 5 (consistency across models: mean and spread per training set), confusion matrices,
per-group bars, and report.md tying them together with the tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _plt():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_cross_dataset(table: pd.DataFrame, path: Path) -> None:
    """Figure 4: weighted F1 and accuracy per model by training set, a row per test set."""
    plt = _plt()
    tests = list(dict.fromkeys(table["test"]))
    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(len(tests), 2, figsize=(10, 3.2 * len(tests)), squeeze=False)
    width = 0.8 / max(1, len(models))
    for row, test in enumerate(tests):
        part = table[table["test"] == test]
        trains = list(dict.fromkeys(part["train"]))
        for col, metric in enumerate(("weighted_f1", "accuracy")):
            ax = axes[row][col]
            for k, model in enumerate(models):
                values = [
                    part[(part["train"] == t) & (part["model"] == model)][metric].mean()
                    for t in trains
                ]
                ax.bar(np.arange(len(trains)) + k * width, values, width, label=model)
            ax.set_xticks(np.arange(len(trains)) + width * (len(models) - 1) / 2, trains)
            ax.set_ylim(0, 1)
            ax.set_title(f"test: {test} - {metric.replace('_', ' ')}")
            ax.set_xlabel("trained on")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_consistency(consistency: pd.DataFrame, path: Path) -> None:
    """Figure 5: mean weighted F1 over models per training set, error bars = std across models."""
    plt = _plt()
    tests = list(dict.fromkeys(consistency["test"]))
    fig, axes = plt.subplots(1, len(tests), figsize=(4.5 * len(tests), 3.5), squeeze=False)
    for ax, test in zip(axes[0], tests, strict=True):
        part = consistency[consistency["test"] == test]
        ax.bar(
            part["train"],
            part["weighted_f1_mean"],
            yerr=part["weighted_f1_std"].fillna(0),
            capsize=6,
            color="tab:blue",
            alpha=0.8,
        )
        ax.set_ylim(0, 1)
        ax.set_title(f"test: {test}")
        ax.set_ylabel("weighted F1 (mean ± std over models)")
        ax.set_xlabel("trained on")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusions(table: pd.DataFrame, folder: Path) -> list[Path]:
    """One figure per training set: a confusion matrix per (model, test set), rows normalised."""
    plt = _plt()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for train, part in table.groupby("train", sort=False):
        models = list(dict.fromkeys(part["model"]))
        tests = list(dict.fromkeys(part["test"]))
        fig, axes = plt.subplots(
            len(models), len(tests), figsize=(3.3 * len(tests), 3.0 * len(models)), squeeze=False
        )
        for i, model in enumerate(models):
            for j, test in enumerate(tests):
                ax = axes[i][j]
                hit = part[(part["model"] == model) & (part["test"] == test)]
                if hit.empty:
                    ax.axis("off")
                    continue
                matrix = np.array(hit.iloc[0]["confusion"], float)
                classes = hit.iloc[0]["classes"]
                rows = matrix.sum(1, keepdims=True)
                ax.imshow(
                    np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0),
                    vmin=0,
                    vmax=1,
                    cmap="Blues",
                )
                for (a, b), v in np.ndenumerate(matrix):
                    ax.text(b, a, int(v), ha="center", va="center", fontsize=7)
                ax.set_xticks(range(len(classes)), [c[:4] for c in classes], fontsize=7)
                ax.set_yticks(range(len(classes)), [c[:4] for c in classes], fontsize=7)
                ax.set_title(f"{model} -> {test}", fontsize=8)
        fig.suptitle(f"trained on {train} (rows: true, columns: predicted)", fontsize=9)
        fig.tight_layout()
        path = folder / f"confusion_{train}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_groups(groups: pd.DataFrame, path: Path) -> None:
    """Accuracy per group, a panel per attribute, a bar series per train->test and model."""
    plt = _plt()
    attributes = list(dict.fromkeys(groups["attribute"]))
    fig, axes = plt.subplots(1, len(attributes), figsize=(5 * len(attributes), 3.5), squeeze=False)
    for ax, attr in zip(axes[0], attributes, strict=True):
        part = groups[groups["attribute"] == attr].copy()
        part["series"] = part["train"] + "->" + part["test"] + " " + part["model"]
        pivot = part.pivot_table(index="group", columns="series", values="accuracy")
        width = 0.8 / max(1, pivot.shape[1])
        for k, series in enumerate(pivot.columns):
            ax.bar(np.arange(len(pivot)) + k * width, pivot[series], width, label=series)
        ax.set_xticks(
            np.arange(len(pivot)) + width * (pivot.shape[1] - 1) / 2, pivot.index, fontsize=8
        )
        ax.set_ylim(0, 1)
        ax.set_title(f"accuracy per {attr}")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    if frame.empty:
        return "_none_\n"
    cells = frame.copy()
    for col in cells.columns:
        if pd.api.types.is_float_dtype(cells[col]):
            cells[col] = cells[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}f}")
    lines = ["| " + " | ".join(map(str, cells.columns)) + " |", "|" + "---|" * len(cells.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines) + "\n"


SYNTHETIC_TO_REAL = ("generated-only", "pretrain + fine-tune", "mixed", "adversarial")


def synthetic_to_real(table: pd.DataFrame) -> pd.DataFrame:
    """One row per real test set, model and training protocol, all on the same folds: the
    ordinary within-dataset run is `real-only`."""
    if "training" not in table or not table["training"].isin(SYNTHETIC_TO_REAL).any():
        return pd.DataFrame()
    tested = set(table.loc[table["training"].isin(SYNTHETIC_TO_REAL), "test"])
    rows = table[
        table["test"].isin(tested) & table["training"].isin(("within", *SYNTHETIC_TO_REAL))
    ]
    rows = rows.assign(training=rows["training"].replace("within", "real-only"))
    cols = ["test", "model", "training", "n", "accuracy", "uf1", "uar", "ece", "unsure"]
    return rows[cols].reset_index(drop=True)


def reliability_panels(predictions: dict) -> list[tuple[str, Any, Any, Any]]:
    """(title, raw confidence, calibrated confidence, correct) per train -> test and model."""
    panels = []
    for (train, model, test), (pred, _classes, _protocol) in predictions.items():
        if len(pred):
            correct = (pred["y_true"] == pred["y_pred"]).to_numpy()
            title = f"{model}: {train} -> {test}"
            panels.append((title, pred["raw_confidence"], pred["confidence"], correct))
    return panels


def write_report(
    out: Path,
    exp: Any,
    table: pd.DataFrame,
    consistency: pd.DataFrame,
    groups: pd.DataFrame,
    gaps: pd.DataFrame,
    predictions: dict | None = None,
) -> Path:
    from equime.mer.calibration import plot_reliability

    plot_cross_dataset(table, out / "cross_dataset.png")
    plot_reliability(reliability_panels(predictions or {}), out / "reliability.png")
    to_real = synthetic_to_real(table)
    plot_consistency(consistency, out / "consistency.png")
    confusions = plot_confusions(table, out / "confusion")
    if not groups.empty:
        plot_groups(groups, out / "groups.png")
    weights = {}
    for ckpt in sorted((out / "checkpoints").glob("*/*/config.json")):
        weights[f"{ckpt.parent.parent.name}/{ckpt.parent.name}"] = json.loads(ckpt.read_text()).get(
            "weights_source"
        )
    cols = [
        "train",
        "test",
        "model",
        "protocol",
        "n",
        "accuracy",
        "weighted_f1",
        "uf1",
        "uar",
        "mean_confidence",
        "ece_before",
        "ece",
        "unsure",
        "accuracy_sure",
        "weights",
    ]
    text = [
        f"# Micro-expression recognition: {exp.name}\n",
        f"Scheme **{exp.scheme}**, {exp.n_frames} frames at {exp.size}x{exp.size}, "
        f"seed {exp.seed}. "
        "Cross-dataset: trained on all of one set, tested on all of another. Within a set: "
        "leave-one-subject-out for real datasets, held-out identities for synthetic ones "
        "(predictions pooled over folds). UF1 = macro F1, UAR = mean per-class recall.\n",
        "## Results (paper Figure 4)\n",
        _markdown(table[cols]),
        "\n![cross-dataset](cross_dataset.png)\n",
        *(
            [
                "## Synthetic to real (same folds)\n",
                "real-only: trained on each fold's real clips; generated-only: on the generated "
                "set alone; pretrain + fine-tune: on the generated set, then each fold's real "
                "clips; mixed: both in one training set, generated clips weighted; adversarial: "
                "both, with a gradient-reversal domain discriminator (DANN, as MiE-X).\n",
                _markdown(to_real),
            ]
            if not to_real.empty
            else []
        ),
        "## Calibration\n",
        "Confidence is the top probability after temperature scaling fitted on the training "
        "run's validation split (Guo et al. 2017); ECE (15 bins) before and after it. `unsure`: "
        "clips whose energy score (Liu et al. 2020) falls below the threshold chosen on the "
        "validation split; they are still predicted and counted in every metric above, and "
        "`accuracy_sure` is the accuracy on the others.\n",
        "\n![reliability](reliability.png)\n",
        "## Consistency across models (paper Figure 5)\n",
        _markdown(consistency),
        "\n![consistency](consistency.png)\n",
        "## Per-group results\n",
        (
            "Accuracy and weighted F1 per group (fairlearn MetricFrame); "
            "gap = max - min, ratio = min / max.\n\n"
            + _markdown(gaps)
            + "\n"
            + _markdown(groups)
            + "\n![groups](groups.png)\n"
        )
        if not groups.empty
        else "No test set has two or more known groups of gender, race or age.\n",
        "## Confusion matrices\n",
        *[f"![{p.stem}](confusion/{p.name})\n" for p in confusions],
    ]
    if weights:
        text += ["## Model weights\n", *[f"- {k}: {v}\n" for k, v in weights.items()]]
    path = out / "report.md"
    path.write_text("\n".join(text), encoding="utf-8")
    return path
