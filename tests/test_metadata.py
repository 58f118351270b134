"""Columns added by later stages (verify, annotate) survive a rebuild of the metadata."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from equime.dataset.layout import DatasetLayout
from equime.dataset.metadata import update_columns, write_metadata


def _rows(n: int) -> list[dict]:
    return [{"id": f"s{i}", "file_name": f"videos/s{i}.mp4", "gender": ""} for i in range(n)]


def test_added_columns_survive_a_rebuild_and_fill_only_given_values(tmp_path: Path) -> None:
    layout = DatasetLayout(tmp_path / "ds")
    write_metadata(layout, _rows(3))
    added = pd.DataFrame({"id": ["s0", "s2"], "gender": ["Woman", ""], "verified": [True, False]})
    update_columns(layout.root, "annotate", added)
    write_metadata(layout, _rows(3))  # what `generate` does on every (re-)run
    meta = pd.read_parquet(layout.metadata_parquet).set_index("id")
    assert meta.loc["s0", "gender"] == "Woman" and meta.loc["s2", "gender"] == ""
    assert meta.loc["s0", "verified"] and not meta.loc["s2", "verified"]
    assert pd.isna(meta.loc["s1", "verified"])
    assert list(pd.read_csv(layout.metadata_csv)["id"]) == ["s0", "s1", "s2"]


def test_a_stage_replaces_its_own_columns_and_a_published_copy_works(tmp_path: Path) -> None:
    layout = DatasetLayout(tmp_path / "ds")
    write_metadata(layout, _rows(2))
    update_columns(layout.root, "verify", pd.DataFrame({"id": ["s0"], "f1": [0.5]}))
    update_columns(layout.root, "verify", pd.DataFrame({"id": ["s0", "s1"], "f1": [0.9, 0.1]}))
    # a copy with only the published files (no .equime run state) can still take columns
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("metadata.parquet", "metadata.csv"):
        shutil.copy(layout.root / name, copy / name)
    meta = update_columns(copy, "annotate", pd.DataFrame({"id": ["s1"], "race": ["asian"]}))
    assert meta.set_index("id")["f1"].to_dict() == {"s0": 0.9, "s1": 0.1}
    assert meta.set_index("id").loc["s1", "race"] == "asian"
