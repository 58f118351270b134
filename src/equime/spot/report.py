"""Writing scores: score.csv (per type and overall), score.json (with the inputs and versions)
and tp_pairs.csv (every true positive with its IoU)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from equime.files import write_text_atomic
from equime.spot.score import SpotScore
from equime.versions import versions


def write_score(out: Path, score: SpotScore, info: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".tmp"
    tmp.mkdir(exist_ok=True)
    write_text_atomic(out / "score.csv", score.table.to_csv(), tmp)
    write_text_atomic(out / "tp_pairs.csv", score.pairs.to_csv(index=False), tmp)
    record = {
        **info,
        "metric": "MEGC spotting (IoU >= threshold, one truth per prediction) and STRS",
        "scores": json.loads(score.table.to_json(orient="index")),
        "versions": versions("pandas", "numpy"),
    }
    write_text_atomic(out / "score.json", json.dumps(record, indent=2, sort_keys=True), tmp)
    tmp.rmdir()
