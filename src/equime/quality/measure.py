"""Measure every clip of a folder: one row per clip, metrics built once per process.

With one worker everything runs here (torch uses its threads inside each metric); with more, a
spawn process pool takes one clip at a time, each worker building its metrics once in its
initializer and running single-threaded, so the cores work on different clips.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from equime.errors import EquimeError
from equime.quality.base import (
    METRIC_ORDER,
    Metric,
    QualityOptions,
    build_metrics,
    to_gray,
)
from equime.quality.readers import ClipSource, find_clips, load_clip

INFO_COLUMNS = [
    "n_frames",
    "width",
    "height",
    "fps",
    "duration_s",
    "file_size_bytes",
    "bitrate_kbps",
]

_STATE: dict[str, object] = {}  # this process's built metrics (one build per process)


def _init(options: QualityOptions, threads: int | None) -> None:
    if _STATE.get("options") != options:
        _STATE["metrics"], _STATE["unavailable"] = build_metrics(options)
        _STATE["options"] = options
    if threads:
        import cv2

        cv2.setNumThreads(threads)
        if "torch" in sys.modules:  # only CLIP-IQA needs torch; no import just to pin threads
            sys.modules["torch"].set_num_threads(threads)


def measure_frames(
    frames: np.ndarray, metrics: dict[str, Metric], options: QualityOptions
) -> dict[str, float]:
    """All metric values for one clip's (T, H, W, 3) frames."""
    if options.grey:
        frames = to_gray(frames)
    values: dict[str, float] = {}
    for name in METRIC_ORDER:
        if name in metrics:
            values.update(metrics[name](frames, options))
    return values


def _measure(clip: ClipSource, root: Path) -> dict:
    """One clip's row; a clip that cannot be read gets its reason in `error`, and the run goes
    on (one broken file in a real dataset should not cost the measurements of all others)."""
    options: QualityOptions = _STATE["options"]  # type: ignore[assignment]
    row: dict = {"id": clip.id, "path": clip.path.relative_to(root).as_posix(), "error": ""}
    try:
        frames, info = load_clip(clip, options.fps)
    except EquimeError as exc:
        row["error"] = str(exc)
    else:
        row.update(info)
        row.update(measure_frames(frames, _STATE["metrics"], options))  # type: ignore[arg-type]
    row["_unavailable"] = _STATE["unavailable"]
    return row


def measure_folder(
    root: str | Path,
    options: QualityOptions,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[str, pd.DataFrame, dict[str, str]]:
    """(reader name, one row per clip sorted by id, unavailable metrics with reasons)."""
    from tqdm import tqdm

    root = Path(root)
    reader, clips = find_clips(root)
    workers = max(1, min(workers or os.cpu_count() or 1, len(clips)))
    rows: list[dict] = []
    bar = tqdm(total=len(clips), desc=f"quality {root.name}", unit="clip", disable=not progress)
    if workers == 1:
        _init(options, None)
        for clip in clips:
            rows.append(_measure(clip, root))
            bar.update()
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(
            workers, mp_context=mp.get_context("spawn"), initializer=_init, initargs=(options, 1)
        ) as pool:
            futures = [pool.submit(_measure, clip, root) for clip in clips]
            for future in as_completed(futures):
                rows.append(future.result())
                bar.update()
    bar.close()
    unavailable: dict[str, str] = {}
    for row in rows:
        unavailable.update(row.pop("_unavailable"))
    table = pd.DataFrame(rows).sort_values("id", kind="stable").reset_index(drop=True)
    for name in options.metrics:
        if name in unavailable:
            table[name] = np.nan
    return reader, table, unavailable
