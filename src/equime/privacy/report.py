"""The protection report: one summary row per (recogniser, condition), imperceptibility, and the
settings and versions that made it; written as report.json, report.md and report.png.

Definitions (also printed in the Markdown):
- accuracy: share of videos whose predicted class is the true class; chance = 1 / classes.
- mean confidence: mean top softmax probability; mean p(true): mean probability of the true class.
- attack success (untargeted): of the videos the recogniser got right on the condition's
  baseline, the share it gets wrong under the condition. The baseline of "protected" is the
  original; of "protected, then defence d" it is the original after the same defence (so the
  H.264 rows compare re-encoded with re-encoded, the blur rows blurred with blurred); of
  "original, defence d" it is the original. Targeted: of the videos whose true class is not the
  target, the share it now assigns to the target.
- 95 % intervals: percentile bootstrap over videos (BOOTSTRAP resamples, seeded), for accuracy
  and attack success.
- PSNR / SSIM: protected vs original, over the frames the attack changed (the attacked
  recogniser's clip); frames outside that clip are copied unchanged.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from equime.privacy.attacks import AttackSpec
from equime.privacy.measure import Recogniser

CONDITION_LABELS = {
    "original": "original",
    "protected": "protected",
    "protected_h264": "protected, then H.264 CRF {crf}",
    "original_h264": "original, H.264 CRF {crf} (re-encode alone)",
    "protected_blur": "protected, then blur sigma {sigma}",
    "original_blur": "original, blur sigma {sigma} (blur alone)",
}
BOOTSTRAP = 2000  # resamples for the 95 % intervals
BOOTSTRAP_SEED = 0


def condition_label(condition: str, config: dict[str, Any]) -> str:
    return CONDITION_LABELS[condition].format(
        crf=config.get("reencode_crf"), sigma=config.get("blur_sigma")
    )


def baseline(condition: str) -> str:
    """What a condition's attack success is measured against (see the module docstring)."""
    if condition.startswith("protected_"):
        return "original_" + condition.removeprefix("protected_")
    return "original"


def bootstrap_ci(values: np.ndarray, resamples: int = BOOTSTRAP) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean of `values` (0/1 outcomes per video)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def summarise(scores: pd.DataFrame, target: int | None) -> pd.DataFrame:
    """One row per (recogniser, condition): accuracy and attack success with 95 % intervals,
    confidence, p(true)."""
    rows = []
    for (name, condition), group in scores.groupby(["recogniser", "condition"], sort=False):
        group = group.set_index("clip")
        base = scores[(scores["recogniser"] == name) & (scores["condition"] == baseline(condition))]
        base = base.set_index("clip").loc[group.index]
        correct = group["y_pred"] == group["y_true"]
        outcomes: np.ndarray | None = None
        if condition != "original":
            if target is None:
                was_right = base["y_pred"] == base["y_true"]
                outcomes = (~correct[was_right]).to_numpy()
            else:
                other = group["y_true"] != target
                outcomes = (group.loc[other, "y_pred"] == target).to_numpy()
        success = float(outcomes.mean()) if outcomes is not None and len(outcomes) else None
        acc_ci = bootstrap_ci(correct.to_numpy())
        success_ci = bootstrap_ci(outcomes) if success is not None else (None, None)
        rows.append(
            {
                "recogniser": name,
                "role": group["role"].iloc[0],
                "condition": condition,
                "baseline": None if condition == "original" else baseline(condition),
                "videos": len(group),
                "accuracy": float(correct.mean()),
                "accuracy_ci_low": acc_ci[0],
                "accuracy_ci_high": acc_ci[1],
                "mean_confidence": float(group["confidence"].mean()),
                "mean_p_true": float(group["p_true"].mean()),
                "attack_success": success,
                "attack_success_ci_low": success_ci[0],
                "attack_success_ci_high": success_ci[1],
            }
        )
    return pd.DataFrame(rows)


def imperceptibility(videos: pd.DataFrame) -> dict[str, Any]:
    finite = videos["psnr"][np.isfinite(videos["psnr"])]
    return {
        "psnr_mean_db": float(finite.mean()) if len(finite) else None,
        "psnr_min_db": float(finite.min()) if len(finite) else None,
        "videos_unchanged": int((~np.isfinite(videos["psnr"])).sum()),
        "ssim_mean": float(videos["ssim"].mean()),
        "ssim_min": float(videos["ssim"].min()),
        "linf_max_levels": int(videos["linf"].max()),
        "frames_attacked_mean": float(videos["frames_attacked"].mean()),
        "frames_mean": float(videos["frames"].mean()),
    }


def _clean(value: Any) -> Any:
    """JSON-safe: NaN / inf -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt(value: Any, pct: bool = True) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{100 * value:.1f} %" if pct else f"{value:.3f}"


def _with_ci(row: dict[str, Any], key: str) -> str:
    low, high = row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high")
    if row.get(key) is None or low is None or high is None:
        return _fmt(row.get(key))
    return f"{_fmt(row[key])} [{100 * low:.0f}-{100 * high:.0f}]"


def markdown(report: dict[str, Any]) -> str:
    a, imp = report["attack"], report["imperceptibility"]
    direction = (
        f"towards '{a['target_class']}'" if a["target_class"] else "away from the true label"
    )
    lines = [
        "# Privacy protection report",
        "",
        f"- input: `{report['input']}` ({report['videos']} videos; "
        f"{report['skipped']} left out: label not a class of the recogniser)",
        f"- attacked recogniser: `{report['recognisers'][0]['path']}` "
        f"({report['recognisers'][0]['model']}, classes {', '.join(report['classes'])}; "
        f"chance {100 * report['chance']:.1f} %)",
        f"- attack: {a['method'].upper()} {direction}, eps {a['eps_levels']}/255 "
        f"({a['eps']:.5f}), "
        + (
            f"{a['steps']} steps of {a['step_size'] * 255:.3g}/255, "
            + (
                f"random start ({a['restarts']} restart{'s' if a['restarts'] > 1 else ''}), "
                if a["random_start"]
                else "no random start, "
            )
            if a["method"] == "pgd"
            else f"one step of {a['step_size'] * 255:.3g}/255, "
        )
        + f"seed {a['seed']}",
        f"- output: {report['output']['format']} "
        f"({report['output']['exact']} of {report['videos']} videos decode to exactly the "
        "protected frames)",
        "",
        "## Recognisers",
        "",
        "Accuracy and attack success with their 95 % bootstrap intervals [low-high, %].",
        "",
        "| recogniser | role | input | condition | videos | accuracy | mean confidence "
        "| mean p(true) | attack success |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    inputs = {r["name"]: r.get("input", "frames") for r in report["recognisers"]}
    for row in report["summary"]:
        label = condition_label(row["condition"], report["config"])
        lines.append(
            f"| {row['recogniser']} | {row['role']} | {inputs.get(row['recogniser'], '')} | "
            f"{label} | {row['videos']} | {_with_ci(row, 'accuracy')} | "
            f"{_fmt(row['mean_confidence'], False)} | {_fmt(row['mean_p_true'], False)} | "
            f"{_with_ci(row, 'attack_success')} |"
        )
    psnr_mean = "-" if imp["psnr_mean_db"] is None else f"{imp['psnr_mean_db']:.2f}"
    psnr_min = "-" if imp["psnr_min_db"] is None else f"{imp['psnr_min_db']:.2f}"
    lines += [
        "",
        "## Imperceptibility (protected vs original)",
        "",
        f"- PSNR: mean {psnr_mean} dB, worst {psnr_min} dB "
        f"({imp['videos_unchanged']} videos unchanged)",
        f"- SSIM: mean {imp['ssim_mean']:.4f}, worst {imp['ssim_min']:.4f}",
        f"- largest change: {imp['linf_max_levels']} of 255 levels; "
        f"{imp['frames_attacked_mean']:.1f} of {imp['frames_mean']:.1f} frames per video "
        "changed (the attacked recogniser's clip)",
        "",
        "## How to read it",
        "",
        "- transfer rows: the same protected videos scored by recognisers the attack never saw "
        "(a black-box test; a flow recogniser reads onset -> apex optical flow computed from "
        "the decoded video, not the frames the gradient came through).",
        "- defence rows: the videos after an ordinary lossy re-encode (yuv420p), or blurred, "
        "before the recogniser reads them. Attack success there is measured against the "
        "original after the same defence ('re-encode alone', 'blur alone'), so it counts what "
        "the perturbation still does, not what the defence does by itself.",
        "- attack success: of the videos a recogniser got right on the baseline, the share it now "
        "gets wrong (targeted: of the videos not of the target class, the share now called the "
        "target).",
        "- PSNR / SSIM are over the changed frames only, so they are not inflated by the frames "
        "left untouched.",
        "",
        "Per-video numbers: per_video.csv; every score: scores.csv; plot: report.png.",
        "",
    ]
    return "\n".join(lines)


def plot(report: dict[str, Any], videos: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = pd.DataFrame(report["summary"])
    names = list(dict.fromkeys(summary["recogniser"]))
    conditions = list(dict.fromkeys(summary["condition"]))
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.8), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(conditions)
    for k, condition in enumerate(conditions):
        part = summary[summary["condition"] == condition].set_index("recogniser")
        values = [part.loc[n, "accuracy"] if n in part.index else np.nan for n in names]
        low = [part.loc[n, "accuracy_ci_low"] if n in part.index else np.nan for n in names]
        high = [part.loc[n, "accuracy_ci_high"] if n in part.index else np.nan for n in names]
        errors = np.clip([np.subtract(values, low), np.subtract(high, values)], 0, None)
        bars = ax.bar(
            np.arange(len(names)) + (k - (len(conditions) - 1) / 2) * width,
            values,
            width,
            yerr=errors,
            capsize=2,
            error_kw={"lw": 0.8},
            label=condition_label(condition, report["config"]),
        )
        ax.bar_label(bars, labels=[f"{100 * v:.0f}%" for v in values], fontsize=7)
    ax.axhline(report["chance"], color="k", ls="--", lw=1, label="chance")
    ax.set_xticks(np.arange(len(names)), [n.replace(" (", "\n(") for n in names], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.set_title(f"recognisers before / after {report['attack']['method'].upper()}")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    finite = videos["psnr"][np.isfinite(videos["psnr"])]
    bx.hist(finite, bins=20, color="tab:green")
    bx.axvline(35, color="k", ls="--", lw=1)
    bx.set_xlabel("PSNR of protected vs original (dB)")
    bx.set_ylabel("videos")
    bx.set_title("imperceptibility")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(
    out: Path,
    cfg: Any,
    spec: AttackSpec,
    recognisers: list[Recogniser],
    videos: pd.DataFrame,
    scores: pd.DataFrame,
    dropped: int,
    seconds: float,
) -> dict[str, Any]:
    from equime.files import write_text_atomic
    from equime.versions import versions

    summary = summarise(scores, spec.target)
    classes = recognisers[0].classes
    report = {
        "input": str(cfg.input),
        "videos": len(videos),
        "skipped": dropped,
        "classes": classes,
        "chance": 1 / len(classes),
        "attack": {
            **asdict(spec),
            "step_size": spec.alpha,
            "eps_levels": spec.levels,
            "target_class": None if spec.target is None else classes[spec.target],
        },
        "recognisers": [
            {
                "name": r.name,
                "path": str(r.path),
                "role": r.role,
                "model": r.config["model"],
                "n_frames": r.n_frames,
                "size": r.size,
                "sampling": r.sampling,
                "input": r.input,
                "scheme": r.config.get("scheme"),
                "weights_sha256": _sha256(r.path / "model.safetensors"),
            }
            for r in recognisers
        ],
        "output": {
            "format": "lossless H.264 RGB (libx264rgb qp 0) MP4"
            if cfg.lossless
            else f"lossy H.264 yuv420p CRF {cfg.lossy_crf} MP4",
            "exact": int(videos["exact"].sum()),
        },
        "summary": summary.to_dict("records"),
        "imperceptibility": imperceptibility(videos),
        "config": {k: v for k, v in asdict(cfg).items() if k != "progress"},
        "versions": {**versions("torch", "numpy", "safetensors"), **_av_versions()},
        "timing": {"seconds": seconds, "videos_per_second": len(videos) / max(seconds, 1e-9)},
    }
    report = _clean(report)
    write_text_atomic(out / "report.json", json.dumps(report, indent=2, sort_keys=False))
    write_text_atomic(out / "report.md", markdown(report))
    plot(report, videos, out / "report.png")
    return report


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _av_versions() -> dict[str, str]:
    import av

    codec = av.library_versions.get("libavcodec", ())
    return {"av": av.__version__, "libavcodec": ".".join(map(str, codec))}
