"""MiE-X: one frame folder per clip named `<celebA_id>_<source>_<label>` holding 0.jpg, 1.jpg, ...

The label suffix means `_0` negative, `_1` positive, `_2` surprise. (The EquiME authors' loader
swapped 0 and 1, training 'positive' on negative clips; REFERENCE s6.) Subjects are the CelebA
identities. Clips hold the expression only: onset = first frame, offset = last."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from equime.mer.datasets import register_dataset
from equime.video.frames import IMAGE_SUFFIXES, frame_files

MIEX_LABELS = {"0": "negative", "1": "positive", "2": "surprise"}
_NAME = re.compile(r"^(?P<identity>.+?)_(?P<source>.+)_(?P<label>[0-9])$")


@register_dataset("miex", real=False, description="MiE-X (<celebA_id>_<source>_<0|1|2>/)")
def load_miex(root: Path) -> pd.DataFrame:
    rows = []
    folders = [p for p in sorted(root.rglob("*")) if p.is_dir() and _NAME.match(p.name)]
    for folder in folders:
        match = _NAME.match(folder.name)
        if match is None or match["label"] not in MIEX_LABELS:
            continue
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
            continue
        n = len(frame_files(folder))
        rows.append(
            {
                "subject": match["identity"],
                "clip": str(folder.relative_to(root)),
                "source": str(folder),
                "n_frames": n,
                "onset": 0,
                "offset": n - 1,
                "emotion": MIEX_LABELS[match["label"]],
                "miex_source": match["source"],
            }
        )
    return pd.DataFrame(rows)
