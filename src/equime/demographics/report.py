"""`equime stats`: who is in a dataset, how each group spreads over the emotions, and bias metrics.

Writes into one folder (default <dataset>/reports/stats): `stats.md` (every table and metric),
PNG plots (distributions and each attribute against emotion, like the paper's Figure 2, plus NPMI
heatmaps), CSV tables and `stats.json` (metrics, versions, settings). The web UI shows every PNG and
.md of that folder, so nothing else is written there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from equime.attributes.labels import UNKNOWN, is_estimate, is_missing
from equime.attributes.vocabulary import AGE_GROUPS, GENDERS, RACES
from equime.demographics import bias
from equime.files import write_bytes_atomic, write_text_atomic
from equime.versions import versions

EMOTION = "label"
# attribute column -> (its vocabulary in display order, the column telling where labels came from)
ATTRIBUTES = {
    "gender": (GENDERS, "gender_source"),
    "race": (RACES, "race_source"),
    "age_group": (AGE_GROUPS, "age_source"),
}


@dataclass
class AttributeStats:
    name: str
    counts: pd.Series  # by group (vocabulary order, then others, then unknown)
    by_emotion: pd.DataFrame  # group x emotion counts (known groups only)
    provenance: dict[str, int]  # known / estimated / unknown rows
    metrics: dict[str, float]
    npmi: pd.DataFrame


@dataclass
class DatasetStats:
    rows: int
    emotions: pd.Series
    attributes: dict[str, AttributeStats] = field(default_factory=dict)


def _values(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series([UNKNOWN] * len(frame), index=frame.index)
    return frame[col].map(lambda v: UNKNOWN if is_missing(v) else str(v))


def _ordered(counts: pd.Series, vocabulary: tuple[str, ...]) -> pd.Series:
    others = sorted(v for v in counts.index if v not in vocabulary and v != UNKNOWN)
    order = [*vocabulary, *others] + ([UNKNOWN] if UNKNOWN in counts.index else [])
    return counts.reindex(order, fill_value=0).astype(int)


def attribute_stats(frame: pd.DataFrame, name: str) -> AttributeStats:
    vocabulary, source_col = ATTRIBUTES.get(name, ((), f"{name}_source"))
    values = _values(frame, name)
    counts = _ordered(values.value_counts(), vocabulary)
    known = values != UNKNOWN
    emotions = _values(frame, EMOTION)
    both = known & (emotions != UNKNOWN)  # a video without an emotion is in no emotion column
    table = pd.crosstab(values[both], emotions[both])
    table = table.reindex([g for g in counts.index if g != UNKNOWN], fill_value=0)
    sources = frame[source_col] if source_col in frame.columns else pd.Series("", frame.index)
    estimated = int((known & sources.map(is_estimate)).sum())
    provenance = {
        "known": int(known.sum()) - estimated,
        "estimated": estimated,
        "unknown": int((~known).sum()),
        "emotion_unknown": int((known & ~both).sum()),
    }
    present = counts.drop(UNKNOWN, errors="ignore")
    k = max(len(vocabulary), int((present > 0).sum()))
    metrics: dict[str, float] = {
        "groups_present": int((present > 0).sum()),
        "groups_possible": int(k),
        **bias.representational(values[known]),
        "vocabulary_evenness": bias.vocabulary_evenness(present, k),  # EquiME variant
        **{
            f"{key}_with_emotion": value
            for key, value in bias.stereotypical(values[both], emotions[both]).items()
        },
    }
    npmi = bias.npmi_table(values[both], emotions[both])
    return AttributeStats(name, counts, table, provenance, metrics, npmi)


def compute_stats(
    frame: pd.DataFrame, attributes: tuple[str, ...] = tuple(ATTRIBUTES)
) -> DatasetStats:
    stats = DatasetStats(len(frame), _values(frame, EMOTION).value_counts().sort_index())
    for name in attributes:
        stats.attributes[name] = attribute_stats(frame, name)
    return stats


# ---------------------------------------------------------------------------- writing


def _md_table(frame: pd.DataFrame, index_name: str = "") -> str:
    frame = frame.copy()
    header = [index_name, *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for idx, row in frame.astype(object).iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(idx), *cells]) + " |")
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return (
        "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"
    )


def markdown(stats: DatasetStats, title: str, plots: list[str]) -> str:
    out = [f"# Dataset statistics: {title}", "", f"{stats.rows} videos.", ""]
    out += ["## Emotions", "", _md_table(stats.emotions.to_frame("videos"), "emotion"), ""]
    rows = {
        name: {
            "groups present": f"{a.metrics['groups_present']} of {a.metrics['groups_possible']}",
            "evenness SEI": _fmt(a.metrics["evenness"]),
            "vocabulary evenness (EquiME variant)": _fmt(a.metrics["vocabulary_evenness"]),
            "effective groups ENS": _fmt(a.metrics["effective_groups"]),
            "imbalance ratio IR": _fmt(a.metrics["imbalance_ratio"]),
            "Cramer's V with emotion": _fmt(a.metrics["cramers_v_with_emotion"]),
            "NMI with emotion": _fmt(a.metrics["nmi_with_emotion"]),
            "labels known / estimated / unknown": "{known} / {estimated} / {unknown}".format(
                **a.provenance
            ),
        }
        for name, a in stats.attributes.items()
    }
    out += [
        "## Bias metrics",
        "",
        "Computed by `dataset-bias-metrics` (Dominguez-Catena et al., TPAMI 2024, the paper's "
        "reference [4]) except the one marked EquiME variant. Representational: Shannon evenness "
        "SEI = H / ln(groups present) (1 = the groups present equally represented; undefined "
        "with one group), the EquiME variant H / ln(vocabulary size) (absent groups count "
        "against it), the effective number of groups ENS = exp(H), the imbalance ratio IR "
        "(largest / smallest group). Stereotypical: Cramer's V between the attribute and the "
        "emotion label (Yates-corrected on 2 x 2 tables; 0 = independent, 1 = the group "
        "determines the emotion), NMI, and NPMI per group x emotion (-1 never together, "
        "0 independent, +1 always). Rows with an unknown value are left out of the metrics "
        "(videos without an emotion: out of the stereotypical ones); estimated labels (from a "
        "model) are counted as they are, so read them with the model's confidence in mind. "
        "Every metric of the package is in stats.json.",
        "",
        _md_table(pd.DataFrame(rows).T, "attribute"),
        "",
    ]
    for name, a in stats.attributes.items():
        share = (a.counts / max(1, a.counts.sum()) * 100).round(1)
        out += [f"## {name}", "", _md_table(pd.DataFrame({"videos": a.counts, "%": share}), name)]
        if a.by_emotion.size:
            out += ["", f"{name} x emotion (videos):", "", _md_table(a.by_emotion, name)]
            out += ["", f"NPMI of {name} with emotion:", "", _md_table(a.npmi.round(3), name)]
        out.append("")
    out += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    return "\n".join(out)


def _plot_png(draw, path: Path, tmp: Path, size: tuple[float, float]) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=size)
    draw(fig)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue(), tmp)


def write_plots(stats: DatasetStats, out: Path, tmp: Path) -> list[str]:
    names = list(stats.attributes)

    def distributions(fig) -> None:
        for i, name in enumerate(names):
            ax = fig.add_subplot(1, len(names), i + 1)
            counts = stats.attributes[name].counts
            ax.bar(range(len(counts)), counts.to_numpy(), color="tab:blue")
            ax.set_xticks(range(len(counts)), counts.index, rotation=45, ha="right")
            ax.set_title(name)
            ax.set_ylabel("videos")

    files = ["distributions.png"]
    _plot_png(distributions, out / files[0], tmp, (4.2 * len(names), 3.6))
    for name in names:
        table = stats.attributes[name].by_emotion
        if not table.size:
            continue

        def by_emotion(fig, table=table, name=name) -> None:
            ax = fig.add_subplot(1, 1, 1)
            width = 0.8 / max(1, len(table.index))
            x = np.arange(len(table.columns))
            for j, group in enumerate(table.index):
                ax.bar(x + j * width - 0.4 + width / 2, table.loc[group], width, label=str(group))
            ax.set_xticks(x, table.columns, rotation=30, ha="right")
            ax.set_ylabel("videos")
            ax.set_title(f"{name} per emotion")
            ax.legend(fontsize=8, ncols=2)

        files.append(f"{name}_by_emotion.png")
        _plot_png(by_emotion, out / files[-1], tmp, (7.0, 3.8))
    live = [n for n in names if stats.attributes[n].npmi.size]
    if live:

        def heatmaps(fig) -> None:
            for i, name in enumerate(live):
                ax = fig.add_subplot(1, len(live), i + 1)
                values = stats.attributes[name].npmi
                image = ax.imshow(values.to_numpy(), vmin=-1, vmax=1, cmap="coolwarm")
                ax.set_xticks(range(len(values.columns)), values.columns, rotation=45, ha="right")
                ax.set_yticks(range(len(values.index)), values.index)
                ax.set_title(f"NPMI {name} x emotion", fontsize=9)
                fig.colorbar(image, ax=ax, shrink=0.7)

        files.append("npmi.png")
        _plot_png(heatmaps, out / files[-1], tmp, (4.8 * len(live), 3.8))
    return files


def write_stats(frame: pd.DataFrame, out: Path, title: str) -> list[Path]:
    """Compute and write the whole report into `out`; returns the files written."""
    stats = compute_stats(frame)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".tmp"
    tmp.mkdir(exist_ok=True)
    try:
        plots = write_plots(stats, out, tmp)
        tables = {}
        for name, a in stats.attributes.items():
            tables[f"{name}_by_emotion.csv"] = a.by_emotion.to_csv()
            tables[f"{name}_npmi.csv"] = a.npmi.to_csv()
        for file, text in tables.items():
            write_text_atomic(out / file, text, tmp)
        record = {
            "dataset": title,
            "rows": stats.rows,
            "emotions": stats.emotions.to_dict(),
            "attributes": {
                name: {
                    "counts": a.counts.to_dict(),
                    "provenance": a.provenance,
                    "metrics": {
                        k: (None if isinstance(v, float) and np.isnan(v) else v)
                        for k, v in a.metrics.items()
                    },
                }
                for name, a in stats.attributes.items()
            },
            "bias_metrics": {
                "package": bias.PACKAGE,
                "representational": bias.REPRESENTATIONAL,
                "stereotypical": bias.STEREOTYPICAL,
                "equime_variants": ["vocabulary_evenness"],
            },
            "versions": versions("pandas", "numpy", "matplotlib", bias.PACKAGE),
        }
        write_text_atomic(out / "stats.json", json.dumps(record, indent=2), tmp)
        write_text_atomic(out / "stats.md", markdown(stats, title, plots), tmp)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return [out / p for p in plots] + [out / "stats.md", out / "stats.json"]
