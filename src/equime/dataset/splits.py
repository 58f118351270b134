"""Splits: named subsets of a dataset kept as metadata files beside it; videos never move.

<dataset>/splits/<name>.csv / .parquet   the chosen rows (the dataset's own metadata columns)
<dataset>/splits/<name>.cells.csv        each cell's available, target and achieved counts
<dataset>/splits/<name>.json             how it was made (settings, versions, summary)
<dataset>/splits/<name>/...              optional: symbolic links mirroring videos/
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

from equime.dataset.balance import BalanceResult
from equime.dataset.layout import DatasetLayout
from equime.errors import EquimeError
from equime.files import write_bytes_atomic, write_text_atomic


def split_dir(root: Path) -> Path:
    return root / "splits"


def write_split(
    root: Path, name: str, result: BalanceResult, config: dict, links: bool = False
) -> list[Path]:
    """Write a split's files; each one appears complete or not at all."""
    import equime

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise EquimeError(f"--out {name!r}: use letters, digits, '.', '_' and '-' only")
    layout = DatasetLayout(root)
    tmp = layout.tmp
    tmp.mkdir(parents=True, exist_ok=True)
    folder = split_dir(root)
    base = folder / name
    buffer = io.BytesIO()
    result.selected.to_parquet(buffer, index=False)
    record = {
        "name": name,
        **config,
        "rows": len(result.selected),
        "target_rows": int(result.cells["target"].sum()),
        "left_out_unknown": result.left_out_unknown,
        "unfillable": result.unfillable,
        "equime_version": equime.__version__,
    }
    written = [
        base.with_suffix(".parquet"),
        base.with_suffix(".csv"),
        folder / f"{name}.cells.csv",
        folder / f"{name}.json",
    ]
    write_bytes_atomic(written[0], buffer.getvalue(), tmp)
    write_text_atomic(written[1], result.selected.to_csv(index=False), tmp)
    write_text_atomic(written[2], result.cells.to_csv(index=False), tmp)
    write_text_atomic(written[3], json.dumps(record, indent=2), tmp)
    if links:
        written.append(_link_folder(root, base, result, tmp))
    return written


def _link_folder(root: Path, base: Path, result: BalanceResult, tmp: Path) -> Path:
    """A folder of relative symbolic links, built aside and renamed into place."""
    staging = tmp / f"links-{base.name}"
    shutil.rmtree(staging, ignore_errors=True)
    for rel in result.selected["file_name"]:
        link = staging / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        target = root / rel
        os.symlink(os.path.relpath(target, (base / rel).parent), link)
    if base.exists():
        shutil.rmtree(base)
    staging.rename(base)
    return base
