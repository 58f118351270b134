"""SMIC (Li et al., "A Spontaneous Micro-expression Database: Inducement, Collection and
Baseline", IEEE FG 2013): `<subject>/micro/<negative|positive|surprise>/<clip>/` frame folders,
per camera: HS (high speed, 100 fps), VIS and NIR (25 fps). The release keeps each camera under
its own folder (`HS/`, `VIS/`, `NIR/`), where the same clip names repeat (s1_ne_01 in all three),
so the clip id starts with the camera: `HS/s1/s1_ne_01`. Subjects stay `s1` across cameras (one
person: leave-one-subject-out keeps the cameras together). Each folder holds the
micro-expression only, so onset = first frame, offset = last; SMIC codes no apex (midpoint)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets import note_skip, register_dataset, summarise_skips
from equime.mer.labels import normalize_emotion
from equime.video.frames import IMAGE_SUFFIXES, frame_files

LABELS = ("negative", "positive", "surprise")
FPS = {"HS": 100.0, "VIS": 25.0, "NIR": 25.0}  # Li et al. 2013, section 3


def _modality(micro: Path, root: Path) -> str:
    """The camera named by a folder between root and the subject ('HS', 'SMIC-HS', 'smic_nir')."""
    for part in reversed(micro.relative_to(root).parts[:-2]):
        for name in FPS:
            if part.upper() == name or part.upper().endswith(("_" + name, "-" + name)):
                return name
    return ""


@register_dataset("smic", description="SMIC (<HS|VIS|NIR>/<subject>/micro/<label>/<clip>/)")
def load_smic(root: Path, modality: str | None = None) -> pd.DataFrame:
    """`modality`: keep one camera (HS, VIS or NIR); all by default."""
    if modality is not None and modality.upper() not in FPS:
        raise EquimeError(f"smic: modality must be one of {', '.join(FPS)}")
    rows, skipped = [], []
    micros = sorted({*root.glob("*/micro"), *root.glob("*/*/micro"), *root.glob("*/*/*/micro")})
    for micro in micros:
        subject = micro.parent.name
        camera = _modality(micro, root)
        if modality is not None and camera != modality.upper():
            continue
        for label_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            for clip in sorted(p for p in label_dir.iterdir() if p.is_dir()):
                name = "/".join(filter(None, (camera, subject, clip.name)))
                if label_dir.name.lower() not in LABELS:
                    note_skip(skipped, root, name, "unknown label", f"folder {label_dir.name!r}")
                    continue
                if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in clip.iterdir()):
                    note_skip(skipped, root, name, "no frame folder", f"{clip} has no frame images")
                    continue
                n = len(frame_files(clip))
                rows.append(
                    {
                        "subject": subject,
                        "clip": name,
                        "source": str(clip),
                        "n_frames": n,
                        "onset": 0,
                        "offset": n - 1,
                        "fps": FPS.get(camera, math.nan),
                        "emotion": normalize_emotion(label_dir.name),
                        "modality": camera,
                    }
                )
    summarise_skips(root, skipped)
    table = pd.DataFrame(rows)
    notes = []
    if rows and (table["modality"] == "").any():
        notes.append("no HS/VIS/NIR folder above the subjects: frame rate unknown")
    table.attrs = {"skipped": skipped, "notes": notes}
    return table
