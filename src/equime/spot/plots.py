"""One PNG per video: the method's curve with its threshold, the ground-truth intervals (top
band) and the spotted ones (bottom band), micro in orange, macro in blue; unusable stretches
(no face, face covered, shot change) shaded grey."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from equime.dataset.layout import folder_part
from equime.files import write_atomic

COLOURS = {"me": "tab:orange", "mae": "tab:blue"}


def plot_video(
    path: Path,
    name: str,
    z: np.ndarray,
    fps: float,
    threshold: float,
    spots: pd.DataFrame,
    truth: pd.DataFrame | None,
    unusable: pd.DataFrame | None = None,
    method: str = "motion",
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4.2), dpi=100)
    frames = np.arange(len(z))
    ax.plot(frames, z, lw=0.9, color="0.2", label=f"{method} curve")
    for u in (unusable if unusable is not None else pd.DataFrame()).itertuples():
        ax.axvspan(u.start, u.end, color="0.6", alpha=0.35, lw=0)
    if unusable is not None and len(unusable):
        ax.plot([], [], color="0.6", alpha=0.5, lw=6, label="unusable (no face, covered, cut)")
    ax.axhline(threshold, color="k", ls=":", lw=0.8, label=f"threshold {threshold:g}")
    seen = z[~np.isnan(z)] if len(z) else z
    top = max(float(seen.max()) if len(seen) else 1.0, threshold) * 1.15
    bands = [("truth", truth, 1.0), ("spotted", spots, 0.93)]
    for label, table, y in bands:
        if table is None:
            continue
        for r in table.itertuples():
            ax.axvspan(
                r.onset,
                r.offset,
                ymin=y - 0.06,
                ymax=y,
                color=COLOURS[r.type],
                alpha=0.8 if label == "spotted" else 0.35,
            )
            if label == "truth":
                ax.axvspan(r.onset, r.offset, color=COLOURS[r.type], alpha=0.08)
    for kind, colour in COLOURS.items():
        ax.plot(
            [],
            [],
            color=colour,
            lw=6,
            label=f"{'micro' if kind == 'me' else 'macro'} (top: truth, below: spotted)",
        )
    ax.set_ylim(min(-2.0, float(seen.min()) if len(seen) else 0.0), top)
    ax.set_xlim(0, max(len(z) - 1, 1))
    ax.set_xlabel(f"frame ({fps:g} fps)")
    ax.set_ylabel(f"{method} curve")
    ax.set_title(f"{name} ({method})", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False)
    fig.tight_layout()
    out = path / f"{folder_part(name)}.png"
    path.mkdir(parents=True, exist_ok=True)
    write_atomic(out, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return out
