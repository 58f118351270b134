"""MiE-X (Liu et al., "How to Synthesize a Large-Scale and Trainable Micro-Expression Dataset?",
ECCV 2022): one frame folder per clip named
`<celebA_id>_<source>_<label>` holding 0.jpg, 1.jpg, ...

The label suffix means `_0` negative, `_1` positive, `_2` surprise. (The EquiME authors' loader
swapped 0 and 1, training 'positive' on negative clips.) Subjects are the CelebA identities.
Clips hold the expression only: onset = first frame, offset = last, and the expression's
intensity rises to the last frame (in the 2-frame variants frame 1 is the apex, in the 10-frame
variant intensity grows frame by frame), so the apex is the last frame (apex_source 'last').
The frames carry no frame rate: fps is NaN unless a `fps.txt` beside the folders gives one."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from equime.mer.datasets import note_skip, register_dataset, summarise_skips
from equime.video.frames import IMAGE_SUFFIXES, frame_files

MIEX_LABELS = {"0": "negative", "1": "positive", "2": "surprise"}
_NAME = re.compile(r"^(?P<identity>.+?)_(?P<source>.+)_(?P<label>[0-9])$")


def _fps(root: Path) -> float:
    path = root / "fps.txt"
    try:
        return float(path.read_text().strip()) if path.is_file() else math.nan
    except ValueError:
        return math.nan


@register_dataset("miex", real=False, description="MiE-X (<celebA_id>_<source>_<0|1|2>/)")
def load_miex(root: Path) -> pd.DataFrame:
    rows, skipped = [], []
    fps = _fps(root)
    folders = [p for p in sorted(root.rglob("*")) if p.is_dir() and _NAME.match(p.name)]
    for folder in folders:
        match = _NAME.match(folder.name)
        clip = str(folder.relative_to(root))
        if match is None or match["label"] not in MIEX_LABELS:
            note_skip(skipped, root, clip, "unknown label", f"suffix _{match and match['label']}")
            continue
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
            note_skip(skipped, root, clip, "no frame folder", f"{folder} has no frame images")
            continue
        n = len(frame_files(folder))
        rows.append(
            {
                "subject": match["identity"],
                "clip": clip,
                "source": str(folder),
                "n_frames": n,
                "onset": 0,
                "apex": n - 1,
                "apex_source": "last",
                "offset": n - 1,
                "fps": fps,
                "emotion": MIEX_LABELS[match["label"]],
                "miex_source": match["source"],
            }
        )
    summarise_skips(root, skipped)
    table = pd.DataFrame(rows)
    table.attrs = {"skipped": skipped}
    return table
