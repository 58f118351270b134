"""What a researcher needs to know about a dataset before training on it, read the way the
loaders read it: clips per label and subject, rows left out and why, sheet corrections applied,
apexes to be estimated, frame rate. `equime datasets check` prints it, and writes it as JSON
with `--out`."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from equime.mer.datasets import get_dataset, load_dataset
from equime.versions import versions


def check_dataset(name: str, root: str | Path, **options: object) -> dict[str, Any]:
    """The check report of dataset `name` at `root` (raises EquimeError when it is not one)."""
    spec = get_dataset(name)
    table = load_dataset(spec.name, root, **options)
    return build_report(table, spec.name, Path(root), options)


def build_report(
    table: pd.DataFrame, name: str, root: Path, options: dict[str, object]
) -> dict[str, Any]:
    skipped = list(table.attrs.get("skipped", []))
    labelled = table[table["emotion"].ne("")]
    rates = sorted({float(f) for f in table["fps"] if not math.isnan(float(f))})
    return {
        "format": name,
        "path": str(root),
        "sheet": table.attrs.get("sheet", ""),
        "options": {k: v for k, v in options.items() if v is not None},
        "clips": len(table),
        "skipped": len(skipped),
        "usable": len(labelled) > 0,
        "per_label": dict(Counter(table["emotion"]).most_common()),
        "per_subject": dict(sorted(Counter(table["subject"]).items())),
        "subjects": int(table["subject"].nunique()),
        "skipped_by_reason": dict(Counter(s["reason"] for s in skipped).most_common()),
        "skipped_rows": skipped,
        "errata": list(table.attrs.get("errata", [])),
        "apex_source": dict(Counter(table["apex_source"]).most_common()),
        "apexes_to_estimate": int(table["apex_source"].eq("midpoint").sum()),
        "fps": rates,
        "fps_unknown": int(table["fps"].isna().sum()),
        "notes": list(table.attrs.get("notes", [])),
        "versions": versions("pandas", "openpyxl"),
    }


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k or '(none)'} {v}" for k, v in counts.items()) or "none"


def format_report(report: dict[str, Any], examples: int = 3) -> list[str]:
    """The report as lines of text; the last one is `N clips, M skipped`."""
    lines = [f"{report['format']} at {report['path']}"]
    if report["sheet"]:
        lines.append(f"sheet: {report['sheet']}")
    rates = " and ".join(f"{f:g}" for f in report["fps"]) or "unknown"
    unknown = (
        f" ({report['fps_unknown']} clips unknown)"
        if report["fps"] and report["fps_unknown"]
        else ""
    )
    lines.append(f"frame rate: {rates} fps{unknown}")
    lines.append(f"clips per label: {_counts(report['per_label'])}")
    lines.append(
        f"clips per subject ({report['subjects']} subjects): {_counts(report['per_subject'])}"
    )
    lines.append(
        f"apexes: {_counts(report['apex_source'])}; "
        f"{report['apexes_to_estimate']} not coded (midpoint for now, "
        "to be estimated from the frames)"
    )
    lines.append(f"errata applied: {len(report['errata'])}")
    for fix in report["errata"]:
        lines.append(
            f"  {fix['clip']} (sheet row {fix['sheet_row']}) {fix['field']} {fix['was']} -> "
            f"{fix['now']}: {fix['source']}"
        )
    lines.append(f"rows skipped: {report['skipped']}")
    for reason, n in report["skipped_by_reason"].items():
        rows = [s for s in report["skipped_rows"] if s["reason"] == reason]
        shown = "; ".join(f"{s['clip']}: {s['detail']}" for s in rows[:examples])
        more = f"; and {n - examples} more" if n > examples else ""
        lines.append(f"  {reason}: {n} ({shown}{more})")
    lines.extend(f"note: {note}" for note in report["notes"])
    if not report["usable"]:
        lines.append("not usable: no clip has an emotion label")
    lines.append(f"{report['clips']} clips, {report['skipped']} skipped")
    return lines
