"""`equime generate`: sources -> faces -> plan -> render -> metadata, card and contact sheet.

Safe to kill and re-run: finished samples (row + matching video hash) are skipped, the rest redone.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from equime.dataset.card import write_card
from equime.dataset.layout import DatasetLayout
from equime.dataset.metadata import read_rows, write_metadata
from equime.errors import EquimeError
from equime.executors import Executor, check_address, create_executor
from equime.faces.sources import SourceImage, find_sources
from equime.files import write_bytes_atomic, write_text_atomic
from equime.generation.config import GenerateConfig
from equime.generation.long import build_long_plan, write_intervals
from equime.generation.long_render import render_long
from equime.generation.plan import PlanRow, build_plan
from equime.generation.tasks import (
    FaceTask,
    RenderTask,
    prepare_faces,
    render_sample,
    source_manifest,
    store_result,
)
from equime.synth.base import generator_factory

log = logging.getLogger(__name__)
FACE_CHUNK = 16


@dataclass
class GenerateReport:
    root: Path
    planned: int = 0
    skipped: int = 0
    made: int = 0
    rejected: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unused_faces: int = 0  # faces found in group photos and not used (--faces largest)


def claim_folder(layout: DatasetLayout, cfg: GenerateConfig) -> None:
    """Refuse to mix runs: a folder holds one dataset config unless told to overwrite."""
    root = layout.root
    if root.exists() and cfg.overwrite:
        shutil.rmtree(root)
    if layout.run_config.exists():
        previous = json.loads(layout.run_config.read_text(encoding="utf-8"))
        if previous.get("fingerprint") != cfg.fingerprint():
            changed = sorted(
                k for k, v in cfg.dataset_fields().items() if previous.get("config", {}).get(k) != v
            )
            raise EquimeError(
                f"{root}: holds a run with a different config (differs in: {', '.join(changed)}); "
                "use --overwrite to replace it, or choose another --out"
            )
    elif root.exists() and any(root.iterdir()):
        raise EquimeError(
            f"{root}: folder is not empty and holds no EquiME run; "
            "choose another --out or use --overwrite"
        )
    layout.state.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(layout.tmp, ignore_errors=True)  # leftovers of a killed run; never in the dataset
    layout.tmp.mkdir(parents=True)
    record = {"fingerprint": cfg.fingerprint(), "config": cfg.dataset_fields()}
    write_text_atomic(layout.run_config, json.dumps(record, indent=2, sort_keys=True), layout.tmp)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def finished_rows(
    layout: DatasetLayout, plan: list[PlanRow], generator_version: str | None = None
) -> dict[str, dict]:
    """Rows whose video exists with the recorded hash, made by this generator version; anything
    else is redone (a dataset never mixes videos of two versions of a generator)."""
    wanted = {row.sample_id for row in plan}
    done = {}
    for sample_id, row in read_rows(layout).items():
        if generator_version is not None and row.get("generator_version") != generator_version:
            continue
        video = layout.root / row["file_name"]
        if sample_id in wanted and video.is_file() and _file_sha256(video) == row["sha256"]:
            done[sample_id] = row
    return done


def _progress(cfg: GenerateConfig, total: int, desc: str, unit: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=not cfg.progress, dynamic_ncols=True)


@dataclass
class PreparedFaces:
    """The faces a run animates, (face id, attributes) each, and what the photos refused."""

    faces: list[tuple[str, dict]]
    sources: list[SourceImage]  # the photos that gave at least one face
    rejected: list[dict]
    unused: int  # faces found in photos and not used (--faces largest)


def _prepare(
    cfg: GenerateConfig, layout: DatasetLayout, sources: list[SourceImage], executor: Executor
) -> PreparedFaces:
    manifests: dict[str, dict] = {}
    for src in sources:
        path = source_manifest(layout, src.face_id)
        if path.is_file():
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if all(layout.face_path(i).is_file() for i in manifest["faces"]):
                manifests[src.face_id] = manifest
    todo = [s for s in sources if s.face_id not in manifests]
    chunk = max(1, min(FACE_CHUNK, -(-len(todo) // executor.workers)))
    tasks = [
        FaceTask(
            str(layout.root),
            todo[i : i + chunk],
            cfg.size,
            cfg.margin,
            cfg.min_face,
            cfg.face_model,
            cfg.neutral,
            cfg.neutral_threshold,
            cfg.faces,
        )
        for i in range(0, len(todo), chunk)
    ]
    with _progress(cfg, len(todo), "faces", "photo") as bar:
        for results in executor.map(prepare_faces, tasks):
            for result in results:
                for note in result.get("notes", []):
                    log.warning("%s: %s", result["path"], note)
            for source_id in dict.fromkeys(r["source_id"] for r in results):
                path = source_manifest(layout, source_id)
                if path.is_file():
                    manifests[source_id] = json.loads(path.read_text(encoding="utf-8"))
                else:  # the photo itself was refused (unreadable, no face): no manifest
                    failed = [r for r in results if r["source_id"] == source_id]
                    manifests[source_id] = {"faces": [], "unused": 0, "rejected": failed}
                bar.update()
    faces, used, rejected, unused = [], [], [], 0
    for src in sources:
        manifest = manifests.get(src.face_id, {"faces": [], "unused": 0, "rejected": []})
        ids = manifest["faces"]
        # a group photo's attributes (a CSV row) describe no single one of its faces
        attributes = src.attributes if len(ids) == 1 and src.face_id in ids else {}
        faces += [(i, attributes) for i in ids]
        if ids:
            used.append(src)
        unused += manifest["unused"]
        rejected += [
            {
                "id": "",
                "stage": "faces",
                "path": r["path"],
                "reason": r["reason"],
                "face_id": r["face_id"],
            }
            for r in manifest["rejected"]
        ]
    return PreparedFaces(faces, used, rejected, unused)


def write_plan(layout: DatasetLayout, plan: list[PlanRow]) -> None:
    """The plan as a table beside the dataset, so a run can be inspected before it is made."""
    table = pd.DataFrame([row.to_dict() for row in plan])
    for col in ("aus", "attributes", "au_timing"):
        if col in table:
            table[col] = table[col].map(lambda v: json.dumps(v, sort_keys=True))
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    write_bytes_atomic(layout.plan, buffer.getvalue(), layout.tmp)


def generate(cfg: GenerateConfig) -> GenerateReport:
    layout = DatasetLayout(Path(cfg.out))
    options = {"non_smiling": cfg.non_smiling} if cfg.source == "celeba" else {}
    sources, duplicates = find_sources(cfg.source, cfg.path, **options)
    balance_notes: list[str] = []
    if cfg.balance_by:
        from equime.dataset.balance import choose_faces

        chosen = choose_faces(sources, cfg.balance_by, cfg.limit, cfg.seed)
        sources = chosen.chosen
        balance_notes = chosen.notes(len(cfg.emotions), cfg.per_face)
    elif cfg.limit is not None:
        sources = sources[: cfg.limit]
    if not sources:
        raise EquimeError(f"{cfg.path or cfg.source}: no face photos found (jpg, png, webp)")
    if cfg.address:
        check_address(cfg.address)  # before any face work: a wrong address fails in seconds
    claim_folder(layout, cfg)
    report = GenerateReport(layout.root, notes=balance_notes)
    executor = create_executor("local", workers=cfg.workers)

    prepared = _prepare(cfg, layout, sources, executor)
    report.rejected, report.unused_faces = prepared.rejected, prepared.unused
    sources = prepared.sources
    report.rejected += [
        {"stage": "sources", "path": dup.shown_path, "reason": f"same bytes as {orig.shown_path}"}
        for dup, orig in duplicates
    ]
    plan = (build_plan if cfg.long is None else build_long_plan)(  # type: ignore[operator]
        cfg, prepared.faces
    )
    write_plan(layout, plan)
    report.planned = len(plan)
    factory = generator_factory(cfg.generator)  # the version known before a model loads (LTX)
    version_for = getattr(factory, "version_for", None)
    version = (
        version_for(cfg.generator_options) if version_for else getattr(factory, "version", None)
    )
    done = finished_rows(layout, plan, version)
    report.skipped = len(done)
    todo = [row for row in plan if row.sample_id not in done]
    rows = dict(done)
    renderer = render_executor(cfg) if todo else executor
    tasks = render_tasks(cfg, layout, todo, renderer)
    try:
        with _progress(cfg, len(todo), "videos", "video") as bar:
            render = render_sample if cfg.long is None else render_long
            for result in renderer.map(render, tasks, on_error=_rejected_task):
                if "rejected" in result:
                    report.rejected.append({"stage": "render", **result["rejected"]})
                else:
                    result = store_result(layout, result)  # a returned video is written here
                    rows[result["row"]["id"]] = result["row"]
                    report.made += 1
                bar.update()
    finally:
        _finish(cfg, layout, list(rows.values()), report, sources)
        if hasattr(renderer, "close"):
            renderer.close()
    return report


def render_tasks(
    cfg: GenerateConfig, layout: DatasetLayout, todo: list[PlanRow], executor: Executor
) -> Iterator[RenderTask]:
    """Tasks made as the executor asks for them. Workers that do not share this disk (a Ray
    cluster equime did not start here, unless --write-on-workers) get each face through the
    executor, shared once per face, and return videos for the driver to write."""
    on_workers = cfg.write_on_workers
    if on_workers is None:
        on_workers = executor.shares_disk
    options = tuple(sorted(cfg.generator_options.items()))
    face_id, face = None, None
    for row in todo:  # plan rows come grouped by face
        if not on_workers and row.face_id != face_id:
            face_id, face = row.face_id, executor.share(layout.face_path(row.face_id).read_bytes())
        yield RenderTask(
            str(layout.root), row, cfg.generator, options, cfg.crf, cfg.preset, face, on_workers
        )


def _rejected_task(task: RenderTask, reason: str) -> dict:
    """What a task that kept failing (its worker died every time) leaves in rejected.csv."""
    return {"rejected": {"id": task.row.sample_id, "path": task.row.face_id, "reason": reason}}


def render_executor(cfg: GenerateConfig) -> Executor:
    """The executor that renders videos: a model-backed generator (LTX) gets one worker per GPU
    (or a single worker on CPU: one model in memory, not one per core)."""
    wants_gpu = bool(getattr(generator_factory(cfg.generator), "wants_gpu", False))
    if cfg.executor == "ray":
        return create_executor(
            "ray", workers=cfg.workers, address=cfg.address, gpu=wants_gpu, retries=cfg.retries
        )
    gpus = 0
    if wants_gpu:
        from equime.synth.ltx import gpu_count

        gpus = gpu_count()
    workers = cfg.workers or (max(1, gpus) if wants_gpu else 0)
    return create_executor(cfg.executor, workers=workers, gpus=gpus)


def _finish(
    cfg: GenerateConfig,
    layout: DatasetLayout,
    rows: list[dict],
    report: GenerateReport,
    sources: list[SourceImage],
) -> None:
    """Write what is finished, even when the run was interrupted."""
    frame = write_metadata(layout, rows)
    if cfg.long is not None:
        write_intervals(layout, frame)
    rejected = pd.DataFrame(report.rejected, columns=["id", "path", "stage", "reason", "face_id"])
    if layout.rejected.is_file():  # keep what later stages rejected (`equime verify --reject`)
        previous = pd.read_csv(layout.rejected, dtype=str, keep_default_na=False)
        if "stage" in previous:
            later = previous[~previous["stage"].isin(["sources", "faces", "render"])]
            rejected = pd.concat([rejected, later], ignore_index=True)
    write_text_atomic(layout.rejected, rejected.to_csv(index=False), layout.tmp)
    used = {s.face_id for s in sources}
    source_list = [
        {"path": s.shown_path, "licence": s.licence} for s in sources if s.face_id in used
    ]
    # the card travels with the dataset: the input folder by name only (the run state keeps it)
    fields = {**cfg.dataset_fields(), "path": Path(cfg.path).name if cfg.path else cfg.path}
    write_card(layout, fields, cfg.fingerprint(), frame, len(report.rejected), source_list)
    if len(frame) and cfg.long is None:  # long videos: write_intervals draws their events
        from equime.dataset.contact_sheet import write_dataset_contact_sheet

        write_dataset_contact_sheet(layout, frame, cfg.emotions)
