"""`equime spot`: which videos (a dataset folder, a real dataset through its loader, a folder of
videos or frame folders, one video), spotting on worker processes, and what is written:

    <out>/spots.csv       video, type, onset, apex, offset, score (one row per spotted interval)
    <out>/signal.parquet  video, frame, signal, threshold, usable: the method's curve behind the
                          spots (for `motion`: the rise in noise units)
    <out>/unusable.csv    video, start, end, reason: frames no method reads (no face, face
                          covered, shot change)
    <out>/spot.json       method, settings, versions, videos read, errors
    <out>/spot.md         the method and, per video, intervals and unusable stretches (the web
                          page's report shows it)
    <out>/score.csv, score.json, tp_pairs.csv   where ground truth is known (MEGC scorer)
    <out>/plots/<video>.png                      signal, truth and spotted intervals
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from equime import __version__
from equime.errors import EquimeError
from equime.files import write_bytes_atomic, write_text_atomic
from equime.spot.intervals import check_table
from equime.spot.spotter import SPOT_VERSION, SpotConfig, Spotted
from equime.versions import versions

DEFAULT_FPS = 30.0  # frame folders carry no rate; CAS(ME)^2 and CAS(ME)^3 record at 30 fps
SPOT_COLUMNS = ["video", "type", "onset", "apex", "offset", "score"]


@dataclass(frozen=True)
class SpotItem:
    name: str  # the video's name in tables (dataset id, relative path, loader's video)
    path: str
    fps: float | None = None  # None: from the container (MP4), else DEFAULT_FPS


@dataclass(frozen=True)
class SpotTask:
    item: SpotItem
    cfg: SpotConfig
    face_model: str | None
    threads: int = 1  # OpenCV threads inside this video's process
    recognise: bool = False  # name each interval's emotion (spot.recognise): STRS


def _fps(item: SpotItem, fallback: float) -> float:
    if item.fps:
        return float(item.fps)
    path = Path(item.path)
    if path.is_file():
        from equime.video.mp4 import video_info

        rate = video_info(path)[2]
        if rate:
            return float(rate)
    return fallback


def usable_spots(spots: list[Spotted], usable: np.ndarray, min_frames: int) -> list[Spotted]:
    """Intervals cut back to the usable frames around their apex (an expression that goes on
    behind a hand ends, for the spotter, where the hand arrives); those whose apex is unusable,
    or left shorter than `min_frames`, are dropped. The same for every method."""
    kept = []
    for s in spots:
        if not usable[s.apex]:
            continue
        bad = np.flatnonzero(~usable[s.onset : s.offset + 1]) + s.onset
        onset = int(bad[bad < s.apex].max() + 1) if (bad < s.apex).any() else s.onset
        offset = int(bad[bad > s.apex].min() - 1) if (bad > s.apex).any() else s.offset
        if offset - onset + 1 >= min_frames:
            kept.append(Spotted(onset, s.apex, offset, s.type, s.score))
    return kept


def spot_one(task: SpotTask) -> dict:
    """Face track, method curve and spotted intervals of one video; an unreadable one becomes an
    error record."""
    import cv2

    from equime.faces.landmarker import Landmarker
    from equime.spot.methods import spot_method
    from equime.spot.track import track_face
    from equime.verify.readout import iter_frames

    cv2.setNumThreads(task.threads)
    item = task.item
    try:
        path = Path(item.path)
        if not path.exists():
            raise EquimeError(f"{item.name}: video is missing ({path})")
        fps = _fps(item, DEFAULT_FPS)
        method = spot_method(task.cfg.method)
        with Landmarker(task.face_model, max_faces=1) as landmarker:
            track = track_face(iter_frames(path), fps, landmarker, task.cfg.track, item.name)
    except EquimeError as exc:
        return {"name": item.name, "error": str(exc)}
    result = method(track, task.cfg)
    min_frames = max(1, round(task.cfg.min_s * fps))
    spots = [
        {
            "video": item.name,
            "type": s.type,
            "onset": s.onset,
            "apex": s.apex,
            "offset": s.offset,
            "score": round(s.score, 3),
        }
        for s in usable_spots(result.spots, track.usable, min_frames)
    ]
    if task.recognise and spots:
        from equime.spot.recognise import recognise

        with Landmarker(task.face_model, max_faces=1) as landmarker:
            spots = recognise(path, spots, landmarker)
    elif task.recognise:
        spots = [{**s, "emotion": "", "aus": ""} for s in spots]
    return {
        "name": item.name,
        "fps": fps,
        "signal": result.curve,
        "threshold": float(result.threshold),
        "usable": track.usable,
        "unusable": [{"video": item.name, **u} for u in track.stretches],
        "spots": spots,
    }


def spot_items(
    items: list[SpotItem],
    cfg: SpotConfig,
    face_model: str | None = None,
    workers: int = 1,
    progress: bool = True,
    recognise: bool = False,
) -> tuple[list[dict], list[dict]]:
    """(results, errors) in the items' order; one video per task (long videos are long). The
    cores go to processes when there are more videos than cores, else to OpenCV threads inside
    each video (no process start-up: a spawned worker pays seconds of imports)."""
    import os

    from equime.executors import create_executor

    cores = workers if workers > 0 else (os.cpu_count() or 1)
    processes = cores if len(items) > cores else 1
    threads = max(1, cores // processes)
    executor = create_executor("local", workers=processes)
    done: dict[str, dict] = {}
    tasks = [SpotTask(i, cfg, face_model, threads, recognise) for i in items]
    with tqdm(total=len(items), desc="spot", unit="video", disable=not progress) as bar:
        for res in executor.map(spot_one, tasks):
            done[res["name"]] = res
            bar.update()
    ordered = [done[i.name] for i in items]
    return [r for r in ordered if "error" not in r], [r for r in ordered if "error" in r]


def _cv2_version() -> str:
    import cv2

    return str(cv2.__version__)


def _parquet(path: Path, table: pd.DataFrame, tmp: Path) -> None:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    write_bytes_atomic(path, buffer.getvalue(), tmp)


def run_spot(
    items: list[SpotItem],
    out: Path,
    cfg: SpotConfig,
    truth: pd.DataFrame | None = None,
    face_model: str | None = None,
    workers: int = 1,
    progress: bool = True,
    plots: bool = True,
    iou_threshold: float = 0.5,
    source: str = "",
    recognise: bool = False,
):
    """Spot every item, write the outputs; returns (spots table, score or None, errors)."""
    if not items:
        raise EquimeError(f"{source or out}: no videos to spot")
    results, errors = spot_items(items, cfg, face_model, workers, progress, recognise)
    columns = [*SPOT_COLUMNS, "emotion", "aus"] if recognise else SPOT_COLUMNS
    spots = pd.DataFrame([s for r in results for s in r["spots"]], columns=columns)
    curves = [
        pd.DataFrame(
            {
                "video": r["name"],
                "frame": np.arange(len(r["signal"])),
                "signal": r["signal"],
                "threshold": r["threshold"],
                "usable": r["usable"],
            }
        )
        for r in results
    ]
    unusable = pd.DataFrame(
        [u for r in results for u in r["unusable"]], columns=["video", "start", "end", "reason"]
    )
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".tmp"
    tmp.mkdir(exist_ok=True)
    write_text_atomic(out / "spots.csv", spots.to_csv(index=False), tmp)
    _parquet(
        out / "signal.parquet",
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["video", "frame", "signal", "threshold", "usable"]),
        tmp,
    )
    write_text_atomic(out / "unusable.csv", unusable.to_csv(index=False), tmp)
    score = None
    read = {r["name"] for r in results}
    if truth is not None:
        from equime.spot.report import write_score
        from equime.spot.score import score_spots

        # the videos asked for: one that could not be read misses its truths (FN), as in MEGC
        known = truth[truth["video"].isin({i.name for i in items})]
        score = score_spots(known, check_table(spots, "spots"), iou_threshold)
        write_score(
            out, score, {"source": source, "iou": iou_threshold, "videos_scored": len(read)}
        )
    record = {
        "spot_version": SPOT_VERSION,
        "method": cfg.method,
        "equime": __version__,
        "source": source,
        "config": cfg.to_dict(),
        "recognise": recognise,
        "videos": len(results),
        "errors": errors,
        "versions": {**versions("mediapipe", "numpy", "scipy"), "opencv": _cv2_version()},
    }
    write_text_atomic(
        out / "spot.json", json.dumps(record, indent=2, sort_keys=True, default=str), tmp
    )
    from equime.spot.report import spot_markdown

    write_text_atomic(out / "spot.md", spot_markdown(cfg.method, results, errors), tmp)
    tmp.rmdir()
    if plots:
        from equime.spot.plots import plot_video

        for r in results:
            mine = spots[spots["video"] == r["name"]]
            theirs = truth[truth["video"] == r["name"]] if truth is not None else None
            plot_video(
                out / "plots",
                r["name"],
                r["signal"],
                r["fps"],
                r["threshold"],
                mine,
                theirs,
                unusable[unusable["video"] == r["name"]],
                cfg.method,
            )
    return spots, score, errors


# --- what to spot ---------------------------------------------------------------------------


def dataset_items(root: Path) -> tuple[list[SpotItem], pd.DataFrame | None]:
    """A folder made by `equime generate` (metadata.parquet): its videos, and as ground truth its
    intervals.csv (long videos) or, for short clips, each clip's recorded timing."""
    meta = pd.read_parquet(root / "metadata.parquet")
    items = [
        SpotItem(str(r["id"]), str(root / str(r["file_name"])), float(r["fps"]))
        for _, r in meta.iterrows()
    ]
    truth_path = root / "intervals.csv"
    if truth_path.is_file():
        from equime.spot.intervals import read_intervals

        return items, read_intervals(truth_path)
    return items, clip_truth(meta)


def clip_truth(meta: pd.DataFrame) -> pd.DataFrame | None:
    """Short clips whose timing is ground truth (the warp's): one micro-expression each."""
    if "timing_source" not in meta:
        return None
    known = meta[(meta["timing_source"] == "ground truth") & meta["onset"].notna()]
    if known.empty:
        return None
    table = pd.DataFrame(
        {
            "video": known["id"].astype(str),
            "type": "me",
            "onset": known["onset"],
            "apex": known["apex"],
            "offset": known["offset"],
            "emotion": known["target_emotion"],
            "label": known["label"],
        }
    )
    return check_table(table, "metadata.parquet")


def folder_items(path: Path, fps: float | None) -> list[SpotItem]:
    """One video file, or every video file and frame folder under a folder (relative names)."""
    from equime.verify.run import find_videos

    if path.is_file():
        return [SpotItem(path.stem, str(path), fps)]
    return [SpotItem(p.relative_to(path).as_posix(), str(p), fps) for p in find_videos(path)]


def loader_items(table: pd.DataFrame) -> list[SpotItem]:
    """One item per video of a loaded real dataset (interval table with `path` and `fps`)."""
    first = table.drop_duplicates("video")
    return [
        SpotItem(str(r.video), str(r.path), float(r.fps) if r.fps == r.fps else None)
        for r in first.itertuples()
    ]
