"""SMIC (HS / VIS / NIR): `<subject>/micro/<negative|positive|surprise>/<clip>/` frame folders.
Each folder holds the micro-expression only, so onset = first frame, offset = last and the apex
is the midpoint (SMIC codes no apex). Native labels are already 3-class."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.mer.datasets import register_dataset
from equime.mer.labels import normalize_emotion
from equime.video.frames import IMAGE_SUFFIXES, frame_files

LABELS = ("negative", "positive", "surprise")


@register_dataset("smic", description="SMIC (<subject>/micro/<label>/<clip>/)")
def load_smic(root: Path) -> pd.DataFrame:
    rows = []
    for micro in sorted(root.glob("*/micro")) + sorted(root.glob("*/*/micro")):
        subject = micro.parent.name
        for label_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            if label_dir.name.lower() not in LABELS:
                continue
            for clip in sorted(p for p in label_dir.iterdir() if p.is_dir()):
                if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in clip.iterdir()):
                    continue
                n = len(frame_files(clip))
                rows.append(
                    {
                        "subject": subject,
                        "clip": f"{subject}/{clip.name}",
                        "source": str(clip),
                        "n_frames": n,
                        "onset": 0,
                        "offset": n - 1,
                        "emotion": normalize_emotion(label_dir.name),
                    }
                )
    return pd.DataFrame(rows)
