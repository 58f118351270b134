"""Writing scores: score.csv (per type and overall), score.json (with the inputs and versions),
score.md (the same table for a person: the web page's Reports tab shows it) and tp_pairs.csv
(every true positive with its IoU)."""

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
    write_text_atomic(out / "score.md", score_markdown(score, info), tmp)
    record = {
        **info,
        "metric": "MEGC spotting (IoU >= threshold, one truth per prediction) and STRS",
        "scores": json.loads(score.table.to_json(orient="index")),
        "versions": versions("pandas", "numpy"),
    }
    write_text_atomic(out / "score.json", json.dumps(record, indent=2, sort_keys=True), tmp)
    tmp.rmdir()


NAMES = {"me": "micro-expressions", "mae": "macro-expressions", "overall": "overall"}


def score_markdown(score: SpotScore, info: dict[str, Any]) -> str:
    """Per type: truths, predictions, TP/FP/FN, precision, recall, F1 (and STRS when scored)."""
    wanted = ("truth", "pred", "tp", "fp", "fn", "precision", "recall", "f1", "strs")
    cols = [c for c in wanted if c in score.table]
    lines = [
        f"## Spotting score (MEGC: IoU >= {info.get('iou', 0.5)}, pooled over videos)",
        "",
        "| type | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for kind, row in score.table.iterrows():
        cells = [_cell(c, row[c]) for c in cols]
        lines.append(f"| {NAMES.get(str(kind), kind)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(column: str, value: Any) -> str:
    if column in {"truth", "pred", "tp", "fp", "fn"}:
        return str(int(value))
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def spot_markdown(method: str, results: list[dict], errors: list[dict]) -> str:
    """What a person reads first: the method, and per video its intervals and the stretches no
    method could read (and why)."""
    lines = [
        "## Spotting",
        "",
        f"Method: **{method}**. Unusable frames (no face, face covered, shot change) are never "
        "spotted.",
        "",
        "| video | frames | intervals | unusable stretches |",
        "|---|---|---|---|",
    ]
    for r in results:
        stretches = (
            "; ".join(f"{u['start']}-{u['end']} {u['reason']}" for u in r["unusable"]) or "none"
        )
        lines.append(f"| {r['name']} | {len(r['signal'])} | {len(r['spots'])} | {stretches} |")
    lines += [f"- {e['error']}" for e in errors]
    return "\n".join(lines) + "\n"
