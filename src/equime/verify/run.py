"""Verify a dataset made by `equime generate` (columns back into its metadata) or a plain folder
of videos / frame folders (a real dataset: AU curves and estimated spotting, written to a folder).
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from equime import __version__
from equime.dataset.layout import DatasetLayout
from equime.errors import EquimeError
from equime.facs.aus import AUS
from equime.files import write_bytes_atomic, write_text_atomic
from equime.synth.base import TIMED_SOURCES
from equime.verify.config import VERIFY_VERSION, VerifyConfig
from equime.verify.curves import AUCurves, au_curves
from equime.verify.fidelity import Truth, assess
from equime.verify.readout import VIDEO_SUFFIXES, read_out
from equime.verify.spotting import Spot, spot
from equime.video.frames import IMAGE_SUFFIXES


@dataclass(frozen=True)
class VideoResult:
    video: str  # id (dataset) or relative path (folder)
    row: dict
    curves: AUCurves
    spot: Spot


def verify_video(
    path: Path,
    landmarker,  # equime.faces.landmarker.Landmarker
    requested: dict[str, float],
    cfg: VerifyConfig,
    truth: Truth | None = None,
    name: str = "",
) -> VideoResult:
    readout = read_out(path, landmarker, cfg.every)
    curves = au_curves(readout, cfg, landmarker)
    spotted = spot(curves, cfg)
    row = assess(readout, curves, spotted, requested, cfg, truth)
    if cfg.second_opinion:
        from equime.verify.directions import second_opinion

        row.update(
            second_opinion(readout, curves, spotted.apex, requested, row["measured_aus"], cfg)
        )
    return VideoResult(name or path.name, row, replace(curves, motion=None), spotted)


@dataclass(frozen=True)
class VerifyItem:
    """One video to verify: plain data, so a worker process can take it."""

    name: str
    path: str
    requested: dict[str, float]
    truth: Truth | None = None


@dataclass(frozen=True)
class VerifyTask:
    items: list[VerifyItem]
    cfg: VerifyConfig
    face_model: str | None


def verify_chunk(task: VerifyTask) -> list[VideoResult | dict]:
    """Verify a chunk of videos with one landmarker; an unreadable or missing video becomes a
    `{"name", "error"}` record instead of stopping the others."""
    out: list[VideoResult | dict] = []
    with _landmarker(task.face_model) as landmarker:
        for item in task.items:
            path = Path(item.path)
            try:
                if not path.exists():
                    raise EquimeError(f"{item.name}: video is missing ({path.name})")
                out.append(
                    verify_video(path, landmarker, item.requested, task.cfg, item.truth, item.name)
                )
            except EquimeError as exc:  # one bad video fails itself, not the whole run
                out.append({"name": item.name, "error": str(exc)})
    return out


def run_items(
    items: list[VerifyItem],
    cfg: VerifyConfig,
    face_model: str | None,
    workers: int = 1,
    progress: bool = True,
) -> tuple[list[VideoResult], list[dict]]:
    """Verify items on `workers` processes (0 = all cores); results in the items' order."""
    from equime.executors import create_executor

    executor = create_executor("local", workers=workers)
    size = max(1, min(16, -(-len(items) // (executor.workers * 4))))
    tasks = [VerifyTask(items[i : i + size], cfg, face_model) for i in range(0, len(items), size)]
    done: dict[str, VideoResult | dict] = {}
    with tqdm(total=len(items), desc="verify", unit="video", disable=not progress) as bar:
        for chunk in executor.map(verify_chunk, tasks):
            for res in chunk:
                done[res.video if isinstance(res, VideoResult) else res["name"]] = res
            bar.update(len(chunk))
    ordered = [done[item.name] for item in items]
    return (
        [r for r in ordered if isinstance(r, VideoResult)],
        [r for r in ordered if not isinstance(r, VideoResult)],
    )


def curves_table(results: list[VideoResult]) -> pd.DataFrame:
    """Long table: video, frame, au, activation, z (one row per read frame and AU)."""
    parts = []
    for res in results:
        long = res.curves.values.stack().rename("activation").reset_index()
        long.columns = ["frame", "au", "activation"]
        long["z"] = long["activation"] / long["au"].map(res.curves.noise)
        long.insert(0, "video", res.video)
        parts.append(long)
    if not parts:
        return pd.DataFrame(columns=["video", "frame", "au", "activation", "z"])
    return pd.concat(parts, ignore_index=True)


def _write_parquet(path: Path, table: pd.DataFrame, tmp: Path) -> None:
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    write_bytes_atomic(path, buffer.getvalue(), tmp)


def _record(cfg: VerifyConfig, extra: dict) -> str:
    import mediapipe

    info = {
        "verify_version": VERIFY_VERSION,
        "equime": __version__,
        "mediapipe": mediapipe.__version__,
        "config": cfg.to_dict(),
        **extra,
    }
    return json.dumps(info, indent=2, sort_keys=True, default=str)


def _landmarker(face_model: str | None):
    from equime.faces.landmarker import Landmarker

    return Landmarker(face_model, max_faces=1)


# --- a dataset made by `equime generate` ---------------------------------------------------------


def requested_aus(row: pd.Series) -> dict[str, float]:
    """Z of a metadata row, from its `aus` text ('6:0.40+12:0.42'; '' = nothing requested)."""
    text = str(row.get("aus", "") or "")
    out = {}
    for item in filter(None, text.split("+")):
        code, _, value = item.partition(":")
        out[code] = float(value)
    return out


def truth_of(row: pd.Series) -> Truth | None:
    """Ground-truth timing where the generator recorded it (`timing_source` = 'ground truth', as
    the warp does, or 'keyframes', pinned by LTX's keyframe mode); a generator that leaves the
    timing to its model (LTX i2v / condition) gets estimates only."""
    source = str(row.get("timing_source", "") or "")
    values = [row.get(k) for k in ("onset", "apex", "offset")]
    if source in TIMED_SOURCES and all(_finite(v) for v in values):
        return Truth(*(int(v) for v in values))
    return None


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def verify_dataset(
    root: Path,
    cfg: VerifyConfig,
    face_model: str | None = None,
    progress: bool = True,
    workers: int = 1,
) -> tuple[pd.DataFrame, list[VideoResult]]:
    """Verify every video of a dataset; returns (verify columns by id, per-video results)."""
    layout = DatasetLayout(root)
    if not layout.metadata_parquet.is_file():
        raise EquimeError(f"{root}: no metadata.parquet (is it a dataset made by equime generate?)")
    meta = pd.read_parquet(layout.metadata_parquet)
    items = [
        VerifyItem(
            str(row["id"]), str(root / str(row["file_name"])), requested_aus(row), truth_of(row)
        )
        for _, row in meta.iterrows()
    ]
    results, errors = run_items(items, cfg, face_model, workers, progress)
    failed = [{"id": e["name"], "verified": False, "verify_reasons": e["error"]} for e in errors]
    table = pd.DataFrame([*({"id": r.video, **r.row} for r in results), *failed])
    out = root / "verify"
    out.mkdir(exist_ok=True)
    layout.tmp.mkdir(parents=True, exist_ok=True)
    _write_parquet(out / "au_curves.parquet", curves_table(results), layout.tmp)
    write_text_atomic(
        out / "verify.json",
        _record(cfg, {"dataset": str(root), "videos": len(results)}),
        layout.tmp,
    )
    return table, results


def reject_failures(root: Path, table: pd.DataFrame) -> int:
    """--reject: failures go to rejected.csv (stage 'verify') and get usable = False; their
    videos stay on disk. Returns how many were rejected."""
    from equime.dataset.metadata import update_columns

    layout = DatasetLayout(root)
    failed = table[~table["verified"].astype(bool)]
    update_columns(
        root, "reject", pd.DataFrame({"id": table["id"], "usable": table["verified"].astype(bool)})
    )
    previous = (
        pd.read_csv(layout.rejected, dtype=str).fillna("")
        if layout.rejected.is_file()
        else pd.DataFrame()
    )
    if len(previous) and "stage" in previous:
        previous = previous[previous["stage"] != "verify"]
    meta = pd.read_parquet(layout.metadata_parquet).set_index("id")
    added = pd.DataFrame(
        {
            "id": failed["id"],
            "path": [meta.loc[i, "file_name"] for i in failed["id"]],
            "stage": "verify",
            "reason": failed["verify_reasons"],
            "face_id": [meta.loc[i, "face_id"] for i in failed["id"]],
        }
    )
    merged = pd.concat([previous, added], ignore_index=True)
    write_text_atomic(layout.rejected, merged.to_csv(index=False), layout.tmp)
    return len(failed)


# --- a plain folder (real dataset) --------------------------------------------------------------


def _is_video(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in VIDEO_SUFFIXES
    return path.is_dir() and any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir())


def find_videos(folder: Path) -> list[Path]:
    """Video files and frame folders (folders holding images) under `folder`, sorted; hidden
    files and folders are skipped."""
    return [
        path
        for path in sorted(folder.rglob("*"))
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and _is_video(path)
    ]


def verify_folder(
    folder: Path,
    out: Path,
    cfg: VerifyConfig,
    face_model: str | None = None,
    progress: bool = True,
    workers: int = 1,
) -> tuple[pd.DataFrame, list[VideoResult]]:
    """AU curves and estimated spotting for every video under `folder` (nothing was requested, so
    there is no pass/fail; `measured_aus` says what the read-out saw)."""
    videos = find_videos(folder)
    if not videos:
        raise EquimeError(
            f"{folder}: no videos ({', '.join(VIDEO_SUFFIXES)}) or frame folders found"
        )
    items = [VerifyItem(p.relative_to(folder).as_posix(), str(p), {}) for p in videos]
    results, errors = run_items(items, cfg, face_model, workers, progress)
    failed = [{"video": e["name"], "expression": False, "error": e["error"]} for e in errors]
    keep = [
        "measured_aus",
        "facs_measured_aus",
        "verify_au_z",
        "est_onset",
        "est_apex",
        "est_offset",
        "verify_timing",
        "verify_readout",
        "identity_drift",
        "pose_drift",
        "verify_detected",
        "verify_frames_read",
    ]
    done = [
        {
            "video": r.video,
            "expression": r.spot.found,
            "error": "",
            **{k: r.row.get(k, "") for k in keep},
        }
        for r in results
    ]
    table = pd.DataFrame([*done, *failed]).sort_values("video", ignore_index=True)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".tmp"
    tmp.mkdir(exist_ok=True)
    _write_parquet(out / "au_curves.parquet", curves_table(results), tmp)
    write_text_atomic(out / "spotting.csv", table.to_csv(index=False), tmp)
    _write_parquet(out / "spotting.parquet", table, tmp)
    write_text_atomic(
        out / "verify.json", _record(cfg, {"folder": str(folder), "videos": len(results)}), tmp
    )
    tmp.rmdir()
    return table, results


# --- summaries -----------------------------------------------------------------------------------


def summary_by_emotion(meta: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per target emotion: videos, pass rate, mean F1/precision/recall/intensity r, median |apex
    error|, and the share of videos where an AU that was not requested rose above the noise."""
    df = table.merge(meta[["id", "target_emotion"]], on="id")
    df["abs_apex_error"] = df["apex_error_frames"].abs()
    df["unrequested"] = df["verify_unrequested_aus"].fillna("").astype(str) != ""
    df["verified"] = df["verified"].astype(bool)
    if "facs_au_f1" not in df:
        df["facs_au_f1"] = np.nan
    df["disagree"] = df.get("verify_disagree_aus", pd.Series("", index=df.index)).fillna("") != ""
    return df.groupby("target_emotion").agg(
        videos=("id", "size"),
        passed=("verified", "mean"),
        au_f1=("au_f1", "mean"),
        facs_au_f1=("facs_au_f1", "mean"),
        disagree=("disagree", "mean"),
        au_precision=("au_precision", "mean"),
        au_recall=("au_recall", "mean"),
        intensity_r=("au_intensity_r", "mean"),
        median_abs_apex_error=("abs_apex_error", "median"),
        unrequested=("unrequested", "mean"),
    )


def summary_by_au(meta: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per AU: how often requested, recall when requested, and how often it showed unrequested."""
    from equime.verify.fidelity import requested_numbers

    rows = []
    req = {
        i: requested_numbers(requested_aus(r))
        for i, r in meta.set_index("id", drop=False).iterrows()
    }
    for number in AUS:
        asked = [i for i in table["id"] if number in req.get(i, {})]
        seen = {
            i
            for i, m in zip(table["id"], table["measured_aus"], strict=True)
            if str(number) in str(m).split("+")
        }
        extra = {
            i
            for i, m in zip(table["id"], table["verify_unrequested_aus"], strict=True)
            if str(number) in str(m).split("+")
        }
        rows.append(
            {
                "au": number,
                "requested": len(asked),
                "recall": len([i for i in asked if i in seen]) / len(asked) if asked else np.nan,
                "unrequested": len(extra),
            }
        )
    return pd.DataFrame(rows).set_index("au")
