"""The dataset card: README.md for people, dataset.json for programs. A folder describes itself."""

from __future__ import annotations

import json

import pandas as pd

from equime.dataset.layout import DatasetLayout
from equime.files import write_text_atomic
from equime.versions import versions

LICENCE = "CC BY-NC-SA 4.0"
LICENCE_NOTE = (
    "Generated videos are released under the Creative Commons Attribution-NonCommercial-"
    "ShareAlike 4.0 International licence (CC BY-NC-SA 4.0), as the EquiME dataset is. Source "
    "photos keep their own licences (see `source_licence` in the metadata)."
)
CITATION = "\n".join(
    [
        "@inproceedings{tan2025equime,",
        "  title     = {EquiME: Equitable Micro-Expression Dataset for",
        "               Cross-Demographic Emotion Recognition},",
        "  author    = {Tan, Pei-Sze and Rajanala, Sailaja and Tan, Yee-Fan",
        "               and Phan, Raphael C.-W. and Ong, Huey-Fang},",
        "  booktitle = {Proceedings of the 33rd ACM International Conference on Multimedia},",
        "  year      = {2025}",
        "}",
    ]
)
_PACKAGES = (
    "numpy",
    "opencv-contrib-python",
    "av",
    "mediapipe",
    "pandas",
    "pyarrow",
    "scipy",
    "torch",  # torch, diffusers, transformers: what the ltx backend's frames depend on
    "diffusers",
    "transformers",
)


def counts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for col in ("label", "target_emotion", "gender", "race", "age_group"):
        values = frame[col].replace("", "unknown").fillna("unknown") if len(frame) else frame[col]
        out[col] = {str(k): int(v) for k, v in values.value_counts().sort_index().items()}
    return out


def write_card(
    layout: DatasetLayout,
    config: dict,
    fingerprint: str,
    frame: pd.DataFrame,
    n_rejected: int,
    sources: list[dict[str, str]],
) -> None:
    info = {
        "name": layout.root.name,
        "fingerprint": fingerprint,
        "config": config,
        "versions": versions(*_PACKAGES),
        "videos": len(frame),
        "faces": int(frame["face_id"].nunique()) if len(frame) else 0,
        "rejected": n_rejected,
        "counts": counts(frame),
        "timing_sources": sorted(set(frame["timing_source"])) if "timing_source" in frame else [],
        "motion_sources": sorted(set(frame["motion_source"].dropna()))
        if "motion_source" in frame
        else [],
        "sources": sources,
        "licence": LICENCE,
        "licence_note": LICENCE_NOTE,
        "citation": CITATION,
    }
    write_text_atomic(
        layout.card_json, json.dumps(info, indent=2, sort_keys=True) + "\n", layout.tmp
    )
    write_text_atomic(layout.card, _markdown(info), layout.tmp)


def _table(title: str, values: dict[str, int]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in values.items()) or "| (none) | 0 |"
    return f"| {title} | videos |\n|---|---|\n{rows}\n"


def _motion(motion_sources: list[str]) -> str:
    """Where the AU motion came from, and under which terms (the real-data model's training data
    are research datasets under non-commercial terms, as this dataset's licence is)."""
    if not motion_sources:
        return ""
    from equime.faces.au_mesh import SOURCE

    lines = ["", "## Action-Unit motion", f"Motion sources: {', '.join(motion_sources)}."]
    if "data" in motion_sources:
        lines.append(
            f"`data`: each AU moves the face as py-feat's AU -> mesh model says ({SOURCE}; "
            "py-feat code MIT; the model was fitted on research datasets under non-commercial "
            "terms, listed in the wheel's LICENSES/DATASETS.md), scaled to documented "
            "millimetres; `motion_variation` records each face's own variation."
        )
    if "table" in motion_sources:
        lines.append("`table`: the hand-written FACS motion table of the warp generator.")
    return "\n".join(lines) + "\n"


def _markdown(info: dict) -> str:
    cfg = info["config"]
    timing = (
        "with ground-truth `onset`, `apex` and `offset` frames"
        if cfg.get("generator", "warp") == "warp"
        else "with `onset`, `apex` and `offset` pinned by keyframes (LTX keyframe mode: neutral "
        "face at onset and offset, the warp's apex frame at apex; `timing_source = keyframes`)"
        if info.get("timing_sources") == ["keyframes"]
        else "with no ground-truth timing (the model decides when the face moves: `onset`, "
        "`apex`, `offset` are empty, `timing_source` says where estimates come from)"
    )
    sources = "\n".join(
        f"- `{s['path']}`: {s['licence'] or 'licence not recorded'}" for s in info["sources"]
    )
    return f"""---
license: cc-by-nc-sa-4.0
task_categories: [video-classification]
tags: [micro-expression, facial-action-units, synthetic, fairness]
configs:
- config_name: default
  metadata_filenames: [metadata.parquet]
---
# {info["name"]}: an EquiME synthetic micro-expression dataset

{info["videos"]} videos of {info["faces"]} faces ({info["rejected"]} inputs rejected, see
`rejected.csv`), made by the `{cfg["generator"]}` generator: {cfg["n_frames"]} frames at
{cfg["fps"]} fps, {cfg["size"]}x{cfg["size"]}, seed {cfg["seed"]}, config fingerprint
`{info["fingerprint"]}`.

Each video is driven by an explicit Action-Unit vector Z (columns `AU01`...), labelled by
Y = f_Z(Z) + eps_Y (`fz_emotion`, `label`, `label_noise`; `target_emotion` is what was asked for),
{timing}. `metadata.parquet` / `metadata.csv` hold
one row per video; `file_name` is relative to this folder, so Hugging Face `datasets` reads it:
`load_dataset("path/to/this/folder")` (this card tells it to use `metadata.parquet`).

## Counts
{_table("label", info["counts"]["label"])}
{_table("gender", info["counts"]["gender"])}
{_table("race", info["counts"]["race"])}
## Source photos
{sources}
{_motion(info.get("motion_sources", []))}
## Versions
{chr(10).join(f"- {k}: {v}" for k, v in info["versions"].items())}

## Licence
{info["licence_note"]}

## Citation
```bibtex
{info["citation"]}
```
"""
