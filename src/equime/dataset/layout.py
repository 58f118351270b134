"""Where things live inside a dataset folder. Everything else asks this module for paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

UNKNOWN = "unknown"


def folder_part(value: str | None) -> str:
    """A demographic value as a folder name: 'middle eastern' -> 'middle_eastern'; '' -> unknown."""
    text = re.sub(r"[^0-9A-Za-z]+", "_", (value or "").strip()).strip("_")
    return text or UNKNOWN


@dataclass(frozen=True)
class DatasetLayout:
    root: Path

    @property
    def state(self) -> Path:
        """Run state that is not part of the published dataset."""
        return self.root / ".equime"

    @property
    def tmp(self) -> Path:
        return self.state / "tmp"

    @property
    def rows(self) -> Path:
        return self.state / "rows"

    @property
    def faces(self) -> Path:
        return self.state / "faces"

    @property
    def columns(self) -> Path:
        """Columns added by later stages (verify, annotate): one parquet per stage, keyed by id."""
        return self.state / "columns"

    @property
    def run_config(self) -> Path:
        return self.state / "config.json"

    @property
    def plan(self) -> Path:
        return self.state / "plan.parquet"

    @property
    def metadata_parquet(self) -> Path:
        return self.root / "metadata.parquet"

    @property
    def metadata_csv(self) -> Path:
        return self.root / "metadata.csv"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected.csv"

    @property
    def card(self) -> Path:
        return self.root / "README.md"

    @property
    def card_json(self) -> Path:
        return self.root / "dataset.json"

    @property
    def contact_sheet(self) -> Path:
        return self.root / "contact_sheet.png"

    def video_relpath(
        self, sample_id: str, emotion: str, race: str | None, gender: str | None
    ) -> str:
        """videos/<emotion>/<race>/<gender>/<id>.mp4, relative to the root (POSIX separators)."""
        parts = (folder_part(emotion), folder_part(race), folder_part(gender))
        return "/".join(("videos", *parts, f"{sample_id}.mp4"))

    def row_path(self, sample_id: str) -> Path:
        return self.rows / f"{sample_id}.json"

    def face_path(self, face_id: str) -> Path:
        return self.faces / f"{face_id}.npz"
