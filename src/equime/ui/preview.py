"""One preview clip for the page: a photo, an emotion and AU sliders -> video, sheet and curves.

The sliders are the AU vector Z itself (do-only intervention), so moving one slider from the
prototype gives a counterfactual: same face, same seed, same timing, one AU changed.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from equime.facs.aus import AUS, all_codes
from equime.facs.emotions import PROTOTYPES
from equime.facs.scm import IntensityConfig, sample_z, substream
from equime.generation.config import GenerateConfig

KEEP_PREVIEWS = 20


def slider_codes() -> list[str]:
    """AUs with a slider: every bilateral AU, plus the sided ones some prototype uses."""
    used = {c for p in PROTOTYPES.values() for c in (*p.required, *p.optional)}
    sided = [c for c in all_codes() if not c.isdigit() and c in used]
    return [str(n) for n in AUS] + sided


def slider_label(code: str) -> str:
    side = {"R": "right ", "L": "left "}.get(code[0], "")
    number = int(code.lstrip("RL"))
    return f"AU{code} {side}{AUS[number].name}"


def prototype_values(emotion: str, seed: int | None = None) -> dict[str, float]:
    """Slider start values: required AUs mid-range; with a seed, a draw as `generate` makes one."""
    if seed is not None:
        drawn = sample_z(emotion, substream(seed, "z"), IntensityConfig())
        return {code: drawn.get(code, 0.0) for code in slider_codes()}
    lo, hi = IntensityConfig().required
    required = set(PROTOTYPES[emotion].required)
    return {code: round((lo + hi) / 2, 2) if code in required else 0.0 for code in slider_codes()}


@dataclass
class PreviewResult:
    video: Path
    sheet: Path
    curves: Path
    summary: str


def new_preview_dir(previews: Path) -> Path:
    """A fresh folder per preview (several browsers at once), keeping only the latest few."""
    previews.mkdir(parents=True, exist_ok=True)
    old = sorted((p for p in previews.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for stale in old[: max(0, len(old) - KEEP_PREVIEWS + 1)]:
        shutil.rmtree(stale, ignore_errors=True)
    folder = previews / uuid.uuid4().hex[:12]
    folder.mkdir()
    return folder


def make_preview(
    image: Path,
    emotion: str,
    aus: dict[str, float],
    out: Path,
    intensity: float = 1.0,
    seconds: float = 2.0,
    fps: float = 24.0,
    size: int = 256,
    seed: int = 0,
) -> PreviewResult:
    """Render one clip of `image` showing exactly `aus` (scaled by `intensity`)."""
    from equime.faces.sources import source_image
    from equime.generation.plan import plan_sample
    from equime.generation.preview import preview

    z = {c: round(min(1.0, v * intensity), 4) for c, v in aus.items() if v * intensity > 0}
    cfg = GenerateConfig(
        emotions=(emotion,),
        do=z,
        do_only=True,
        n_frames=max(16, round(seconds * fps)),
        fps=fps,
        size=size,
        seed=seed,
    )
    sheet = preview(image, out, cfg)
    row = plan_sample(cfg, source_image(image).face_id, emotion, 0, {})
    curves = out / "au_curves.png"
    plot_curves(row.aus, row.timeline, curves)
    label = f"f_Z reads this Z as **{row.fz_emotion}** (similarity {row.fz_score:.2f})"
    timing = (
        f"onset frame {row.onset}, apex {row.apex}, offset {row.offset} "
        f"({row.timeline.duration_ms:.0f} ms)"
    )
    return PreviewResult(out / f"{emotion}.mp4", sheet, curves, f"{label}; {timing}.")


def plot_curves(aus: dict[str, float], timeline, path: Path) -> None:
    """Each AU's intensity over the clip, with onset, apex and offset marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = timeline.curve()
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    for code, value in aus.items():
        ax.plot(curve * value, label=f"AU{code}")
    top = max(aus.values(), default=1.0) * 1.3
    ax.set_ylim(0, top)
    for name, frame, style in (
        ("onset", timeline.onset, ":"),
        ("apex", timeline.apex, "--"),
        ("offset", timeline.offset, ":"),
    ):
        ax.axvline(frame, color="grey", linestyle=style, linewidth=1)
        ax.text(frame, top * 0.93, f" {name}", fontsize=8)
    ax.set_xlabel("frame")
    ax.set_ylabel("AU intensity (0-1)")
    ax.set_xlim(0, timeline.n_frames - 1)
    if aus:
        ax.legend(fontsize=7, ncol=6, loc="upper left")
    else:
        ax.set_title("no AU active: a neutral clip")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
