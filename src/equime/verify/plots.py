"""AU-curve pictures: one PNG per group (an emotion, or a real dataset's top folder).

Each picture shows the group's first video: every AU's curve in baseline-noise units, the
requested AUs drawn in colour and named, the others in grey; the threshold; the estimated onset,
apex and offset (dashed) and, where known, the true ones (solid).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from equime.dataset.layout import folder_part


def plot_results(
    results: list,  # list[VideoResult]
    out: Path,
    group: Callable[[object], str],
    meta: pd.DataFrame | None = None,
    z_threshold: float = 6.0,
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from equime.verify.fidelity import requested_numbers
    from equime.verify.run import requested_aus, truth_of

    rows = meta.set_index("id", drop=False) if meta is not None else None
    first: dict[str, object] = {}
    for res in results:
        first.setdefault(group(res), res)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, res in sorted(first.items()):
        row = rows.loc[res.video] if rows is not None and res.video in rows.index else None
        want = requested_numbers(requested_aus(row)) if row is not None else {}
        truth = truth_of(row) if row is not None else None
        z = res.curves.z()
        fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
        for au in z.columns:
            if au in want:
                ax.plot(z.index, z[au], lw=2.0, label=f"AU{au} (requested {want[au]:.2f})")
            else:
                ax.plot(z.index, z[au], lw=0.8, color="0.7")
        ax.axhline(z_threshold, color="k", lw=0.8, ls=":", label=f"threshold {z_threshold:g} SD")
        marks = [("estimated", "--", (res.spot.onset, res.spot.apex, res.spot.offset))]
        if truth is not None:
            marks.append(("true", "-", (truth.onset, truth.apex, truth.offset)))
        for label, style, frames in marks:
            for frame, colour in zip(frames, ("tab:green", "tab:red", "tab:blue"), strict=True):
                ax.axvline(frame, color=colour, ls=style, lw=1.0)
            ax.plot([], [], color="0.3", ls=style, label=f"{label} onset/apex/offset")
        ax.set_xlabel("frame")
        ax.set_ylabel("AU activation / baseline SD")
        verdict = (
            res.row.get("verify_reasons") or f"measured AU {res.row.get('measured_aus') or '-'}"
        )
        ax.set_title(f"{name}: {res.video}\n{verdict}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        path = out / f"{folder_part(name)}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
