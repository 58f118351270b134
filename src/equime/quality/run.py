"""`equime quality`: measure a folder (and optionally a reference), write tables, text, plots.

Everything lands in one output folder, written atomically, so a reader (the web UI) can show
every PNG and the .md in it: quality.parquet/.csv (per video), summary.csv, quality.md (Table-2
layout), histograms.png, quality.json (settings and versions); with a reference also
reference_quality.parquet/.csv, deviation.csv and comparison.png.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.files import write_bytes_atomic, write_text_atomic
from equime.quality.base import DEFINITIONS, METRIC_ORDER, QualityOptions
from equime.quality.measure import measure_folder
from equime.quality.readers import find_clips
from equime.quality.report import (
    deviation,
    deviation_md,
    histograms,
    identical_line,
    identical_pairs,
    paper_table,
    summarise,
    table2,
)
from equime.versions import versions

STAGE = "quality"  # the metadata stage name for update_columns


@dataclass
class Measured:
    name: str
    reader: str
    table: pd.DataFrame
    unavailable: dict[str, str]
    seconds: float = 0.0
    summary: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.summary = summarise(self.table, self.unavailable)


def default_out(path: Path) -> Path:
    """An EquiME dataset keeps its report inside: PATH/reports/quality. Any other folder (a real
    dataset, maybe read-only) gets ./quality_<folder name> in the working directory."""
    if (path / "metadata.parquet").is_file():
        return path / "reports" / "quality"
    return Path.cwd() / f"quality_{path.resolve().name}"


def _write_table(table: pd.DataFrame, stem: Path, tmp: Path) -> None:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    write_bytes_atomic(stem.with_suffix(".parquet"), buffer.getvalue(), tmp)
    write_text_atomic(stem.with_suffix(".csv"), table.to_csv(index=False), tmp)


def _load_earlier(path: Path, options: QualityOptions) -> Measured | None:
    """A folder written by an earlier `equime quality` run with the same settings is reused."""
    for folder in (path, path / "reports" / "quality"):
        meta, table = folder / "quality.json", folder / "quality.parquet"
        if meta.is_file() and table.is_file():
            info = json.loads(meta.read_text(encoding="utf-8"))
            if info.get("options") != json.loads(json.dumps(options.to_dict())):
                continue  # other settings: measure the clips again
            return Measured(
                info["dataset"], info["reader"], pd.read_parquet(table), info["unavailable"]
            )
    return None


def measure(
    path: Path, options: QualityOptions, workers: int | None, progress: bool, reuse: bool = False
) -> Measured:
    """Measure a folder; `reuse` takes an earlier report of it made with the same settings."""
    earlier = _load_earlier(path, options) if reuse else None
    if earlier is not None:
        return earlier
    start = time.perf_counter()
    reader, table, unavailable = measure_folder(path, options, workers, progress)
    return Measured(path.resolve().name, reader, table, unavailable, time.perf_counter() - start)


def failures(table: pd.DataFrame) -> dict[str, str]:
    """Clips that could not be read, with the reason."""
    if "error" not in table.columns:
        return {}
    errors = table["error"].fillna("").astype(str)
    return dict(zip(table.loc[errors != "", "id"], errors[errors != ""], strict=True))


def markdown(main: Measured, options: QualityOptions, ref: Measured | None) -> str:
    named = [(main.name, main.summary)] + ([(ref.name, ref.summary)] if ref else [])
    mode = "grey frames" if options.grey else "colour frames"
    parts = [
        f"# Video quality: {main.name}",
        "",
        f"Definition `{options.definition}`: {DEFINITIONS[options.definition]}.",
        "",
        f"{len(main.table)} videos ({main.reader}), {mode}; every {options.every} frame(s). "
        "Mean ± std over videos; each video's value is the mean over its frames "
        "(PSNR and SSIM between consecutive frames). Higher is better except TV and BRISQUE.",
        "",
        table2(named),
    ]
    for m in [x for x in (main, ref) if x is not None]:
        line = identical_line(identical_pairs(m.table), options.definition)
        if line:
            parts += ["", f"- {m.name}: {line}"]
    for m in [x for x in (main, ref) if x is not None]:
        for metric, reason in m.unavailable.items():
            parts += ["", f"- {m.name}: {metric} unavailable: {reason}"]
        for clip_id, error in failures(m.table).items():
            parts += ["", f"- {m.name}: {clip_id} not measured: {error}"]
    if ref is not None:
        parts += [
            "",
            f"## Deviation from {ref.name}",
            "",
            deviation_md(deviation(main.table, ref.table), main.name, ref.name),
        ]
    parts += [
        "",
        "## The paper's Table 2 (for orientation)",
        "",
        "Grey frames, piq's BRISQUE and CLIP-IQA (ResNet-50 CLIP); not directly comparable "
        "when settings or the CLIP backbone differ.",
        "",
        paper_table(),
        "",
    ]
    return "\n".join(parts)


def run_quality(
    path: str | Path,
    out: str | Path | None = None,
    reference: str | Path | None = None,
    options: QualityOptions | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Measure `path` (and `reference`), write the report folder; returns quality.md's path."""
    options = options or QualityOptions()
    path = Path(path)
    if not path.is_dir():
        raise EquimeError(f"{path}: not a folder")
    # the inputs are checked before anything is created: a folder with no clips leaves nothing
    find_clips(path)
    if reference and _load_earlier(Path(reference), options) is None:
        find_clips(Path(reference))
    out = Path(out) if out else default_out(path)

    main = measure(path, options, workers, progress)
    ref = measure(Path(reference), options, workers, progress, reuse=True) if reference else None
    if ref is not None and ref.name == main.name:
        ref.name = f"{ref.name} (reference)"

    tmp = out / ".tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        _write_report(path, out, tmp, main, ref, options, reference)
    finally:
        if tmp.is_dir() and not any(tmp.iterdir()):
            tmp.rmdir()
    if main.reader == "equime":
        _add_metadata_columns(path, main.table)
    return out / "quality.md"


def _write_report(
    path: Path,
    out: Path,
    tmp: Path,
    main: Measured,
    ref: Measured | None,
    options: QualityOptions,
    reference: str | Path | None,
) -> None:
    _write_table(main.table, out / "quality", tmp)
    summary = main.summary.assign(definition=options.definition)
    write_text_atomic(out / "summary.csv", summary.to_csv(index=False), tmp)
    histograms([(main.name, main.table)], out / "histograms.png", f"{main.name}: per-video values")
    if ref is not None:
        _write_table(ref.table, out / "reference_quality", tmp)
        ref_summary = ref.summary.assign(definition=options.definition)
        write_text_atomic(out / "reference_summary.csv", ref_summary.to_csv(index=False), tmp)
        dev = deviation(main.table, ref.table)
        write_text_atomic(out / "deviation.csv", dev.to_csv(index=False), tmp)
        histograms(
            [(main.name, main.table), (ref.name, ref.table)],
            out / "comparison.png",
            f"{main.name} against {ref.name}",
        )
    text = markdown(main, options, ref)
    write_text_atomic(out / "quality.md", text, tmp)
    info = {
        "dataset": main.name,
        "path": str(path.resolve()),
        "reader": main.reader,
        "videos": len(main.table),
        "failed": failures(main.table),
        "options": options.to_dict(),
        "definition": DEFINITIONS[options.definition],
        "identical_pairs": identical_pairs(main.table),
        "unavailable": main.unavailable,
        "reference": str(Path(reference).resolve()) if reference else None,
        "seconds": round(main.seconds, 3),
        "versions": versions(
            "numpy",
            "torch",
            "scikit-image",
            "opencv-contrib-python",
            "av",
            "brisque",
            "transformers",
        ),
    }
    write_text_atomic(out / "quality.json", json.dumps(info, indent=2, default=str), tmp)


def _add_metadata_columns(root: Path, table: pd.DataFrame) -> None:
    """The per-video numbers join the dataset's metadata as quality_* columns."""
    from equime.dataset.metadata import update_columns

    cols = [c for c in [*METRIC_ORDER, "bitrate_kbps", "file_size_bytes"] if c in table.columns]
    added = table[["id", *cols]].rename(columns={c: f"quality_{c}" for c in cols})
    update_columns(root, STAGE, added)
