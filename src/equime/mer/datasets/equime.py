"""EquiME dataset folders (this project's `equime generate` output): metadata.parquet is the sheet.

Labels are the `label` column (Y after eps_Y label noise), subjects are face identities, and the
ground-truth onset / apex / offset of the generator's timeline are kept (apex_source 'sheet'), with
each video's frame rate from the metadata. Attributes come along,
so evaluation can report per group.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets import register_dataset
from equime.mer.labels import normalize_emotion


@register_dataset(
    "equime", sampling="first", real=False, description="EquiME folder (metadata.parquet)"
)
def load_equime(root: Path) -> pd.DataFrame:
    path = root / "metadata.parquet"
    if not path.is_file():
        csv = root / "metadata.csv"
        if not csv.is_file():
            raise EquimeError(f"{root}: no metadata.parquet (not an EquiME dataset folder)")
        meta = pd.read_csv(csv, dtype={"age": str})
    else:
        meta = pd.read_parquet(path)
    needed = {"id", "file_name", "face_id", "label"}
    if not needed <= set(meta.columns):
        raise EquimeError(f"{path}: lacks columns {', '.join(sorted(needed - set(meta.columns)))}")
    table = pd.DataFrame(
        {
            "subject": meta["face_id"].astype(str),
            "clip": meta["id"].astype(str),
            "source": [str(root / f) for f in meta["file_name"]],
            "n_frames": meta.get("n_frames", -1),
            "onset": meta.get("onset", -1),
            "apex": meta.get("apex", -1),
            "offset": meta.get("offset", -1),
            "fps": meta.get("fps", math.nan),
            "emotion": [normalize_emotion(v) for v in meta["label"]],
            "aus": meta.get("aus", ""),
            "target_emotion": meta.get("target_emotion", meta["label"]),
        }
    )
    for col in ("gender", "race", "age", "age_group"):
        table[col] = meta[col].astype(str) if col in meta.columns else ""
    return table
