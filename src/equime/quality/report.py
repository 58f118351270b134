"""What a person reads: summary (mean, std), the paper's Table-2 layout, histograms, and the
comparison with a reference dataset (per-metric deviation and overlaid histograms)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from equime.quality.base import LABELS, METRIC_ORDER

EXTRA = ["bitrate_kbps", "file_size_bytes", "duration_s", "n_frames"]
COUNTS = ["identical_pairs", "psnr_uint8", "brisque_raw"]  # summarised, not in Table 2
EXTRA_LABELS = {
    "bitrate_kbps": "bitrate (kbps)",
    "file_size_bytes": "file size (bytes)",
    "duration_s": "duration (s)",
    "n_frames": "frames",
}
DIGITS = {"psnr": 2, "ssim": 4, "tv": 2, "brisque": 2, "clipiqa": 2}

# The paper's Table 2 (grey frames; piq's BRISQUE and RN50 CLIP-IQA), for orientation only.
PAPER_TABLE2 = [
    ("SAMM (real)", 39.15, 0.9167, 26.40, 7.96, 0.48),
    ("SMIC (real)", 39.94, 0.9460, 15.22, 34.47, 0.25),
    ("MiE-X (synthetic)", 42.49, 0.9787, 6.96, 27.28, 0.61),
    ("EquiME (paper)", 41.03, 0.9684, 13.80, 14.66, 0.79),
]


def summarise(table: pd.DataFrame, unavailable: dict[str, str]) -> pd.DataFrame:
    """One row per metric: mean, std (sample), n; unavailable metrics carry their reason."""
    rows = []
    for col in [*METRIC_ORDER, *COUNTS, *EXTRA]:
        if col not in table.columns:
            continue
        values = pd.to_numeric(table[col], errors="coerce").dropna()
        rows.append(
            {
                "metric": col,
                "mean": float(values.mean()) if len(values) else float("nan"),
                "std": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                "n": len(values),
                "unavailable": unavailable.get(col, ""),
            }
        )
    return pd.DataFrame(rows)


def identical_pairs(table: pd.DataFrame) -> dict[str, int]:
    """Identical consecutive pairs over the whole table: how many, out of how many pairs, in
    how many clips, and how many clips have nothing but identical pairs."""
    if "identical_pairs" not in table.columns:
        return {}
    same = pd.to_numeric(table["identical_pairs"], errors="coerce").fillna(0)
    pairs = pd.to_numeric(table.get("pairs", same), errors="coerce").fillna(0)
    return {
        "identical_pairs": int(same.sum()),
        "pairs": int(pairs.sum()),
        "clips_with_identical_pairs": int((same > 0).sum()),
        "clips_only_identical": int(((same == pairs) & (pairs > 0)).sum()),
    }


def identical_line(counts: dict[str, int], definition: str) -> str:
    """One sentence a reader cannot miss: how identical pairs were counted, and how many."""
    if not counts:
        return ""
    how = (
        "scored PSNR 100 dB and SSIM 1 and averaged in (as the authors did)"
        if definition == "paper"
        else "left out of PSNR and SSIM"
    )
    return (
        f"Identical consecutive frames: {counts['identical_pairs']} of {counts['pairs']} pairs, "
        f"in {counts['clips_with_identical_pairs']} clips ({counts['clips_only_identical']} "
        f"made only of identical pairs), {how}."
    )


def _cell(summary: pd.DataFrame, metric: str) -> str:
    row = summary[summary.metric == metric]
    if row.empty:
        return "not measured"
    row = row.iloc[0]
    if row["unavailable"]:
        return "unavailable"
    if row["n"] == 0:
        return "n/a"
    d = DIGITS.get(metric, 1)
    std = "" if np.isnan(row["std"]) else f" ± {row['std']:.{d}f}"
    return f"{row['mean']:.{d}f}{std}"


def table2(named: list[tuple[str, pd.DataFrame]]) -> str:
    """The Table-2 layout (mean ± std per dataset), then the container facts."""
    head = "| dataset | " + " | ".join(LABELS[m] for m in METRIC_ORDER) + " |"
    lines = [head, "|---" * (len(METRIC_ORDER) + 1) + "|"]
    for name, summary in named:
        lines.append(f"| {name} | " + " | ".join(_cell(summary, m) for m in METRIC_ORDER) + " |")
    lines += ["", "| dataset | " + " | ".join(EXTRA_LABELS[c] for c in EXTRA) + " |"]
    lines.append("|---" * (len(EXTRA) + 1) + "|")
    for name, summary in named:
        cells = []
        for col in EXTRA:
            row = summary[summary.metric == col]
            if row.empty or row.iloc[0]["n"] == 0:
                cells.append("n/a")
            else:
                r = row.iloc[0]
                std = "" if np.isnan(r["std"]) else f" ± {r['std']:.1f}"
                cells.append(f"{r['mean']:.1f}{std}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paper_table() -> str:
    lines = ["| dataset | " + " | ".join(LABELS[m] for m in METRIC_ORDER) + " |"]
    lines.append("|---" * (len(METRIC_ORDER) + 1) + "|")
    for name, *values in PAPER_TABLE2:
        cells = [f"{v:.{DIGITS[m]}f}" for m, v in zip(METRIC_ORDER, values, strict=True)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def deviation(table: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per metric: both means, the difference, relative difference, Cohen's d (pooled std),
    and the two-sample Kolmogorov-Smirnov statistic (how far apart the distributions are)."""
    from scipy import stats

    rows = []
    for col in [*METRIC_ORDER, "bitrate_kbps"]:
        if col not in table.columns or col not in reference.columns:
            continue
        a = pd.to_numeric(table[col], errors="coerce").dropna().to_numpy()
        b = pd.to_numeric(reference[col], errors="coerce").dropna().to_numpy()
        if len(a) == 0 or len(b) == 0:
            continue
        pooled = np.sqrt(
            (
                (len(a) - 1) * a.var(ddof=1 if len(a) > 1 else 0)
                + (len(b) - 1) * b.var(ddof=1 if len(b) > 1 else 0)
            )
            / max(len(a) + len(b) - 2, 1)
        )
        diff = float(a.mean() - b.mean())
        rows.append(
            {
                "metric": col,
                "mean": float(a.mean()),
                "reference_mean": float(b.mean()),
                "difference": diff,
                "relative_difference": diff / abs(b.mean()) if b.mean() else float("nan"),
                "cohens_d": diff / pooled if pooled > 0 else float("nan"),
                "ks_statistic": float(stats.ks_2samp(a, b).statistic),
            }
        )
    return pd.DataFrame(rows)


def deviation_md(dev: pd.DataFrame, name: str, ref_name: str) -> str:
    lines = [
        f"| metric | {name} | {ref_name} | difference | relative | Cohen's d | KS |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in dev.itertuples(index=False):
        label = LABELS.get(r.metric, EXTRA_LABELS.get(r.metric, r.metric))
        lines.append(
            f"| {label} | {r.mean:.4g} | {r.reference_mean:.4g} | {r.difference:+.4g} | "
            f"{r.relative_difference:+.1%} | {r.cohens_d:+.2f} | {r.ks_statistic:.2f} |"
        )
    return "\n".join(lines)


def _plot_columns(tables: list[pd.DataFrame]) -> list[str]:
    cols = []
    for col in [*METRIC_ORDER, "bitrate_kbps"]:
        if any(
            col in t.columns and pd.to_numeric(t[col], errors="coerce").notna().any()
            for t in tables
        ):
            cols.append(col)
    return cols


def histograms(named: list[tuple[str, pd.DataFrame]], path: Path, title: str) -> Path | None:
    """One panel per metric, each dataset's per-video values as a histogram (shared bins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    cols = _plot_columns([t for _, t in named])
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(3.2 * len(cols), 3.0), squeeze=False)
    for ax, col in zip(axes[0], cols, strict=True):
        series = [
            (name, pd.to_numeric(t[col], errors="coerce").dropna().to_numpy())
            for name, t in named
            if col in t.columns
        ]
        everything = np.concatenate([v for _, v in series if len(v)])
        lo, hi = float(everything.min()), float(everything.max())
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        bins = np.linspace(lo, hi, 21)
        for name, values in series:
            ax.hist(values, bins=bins, alpha=0.55, label=f"{name} (n={len(values)})")
        ax.set_title(LABELS.get(col, EXTRA_LABELS.get(col, col)))
        ax.set_ylabel("videos")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
