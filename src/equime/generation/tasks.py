"""The two kinds of work a run farms out: preparing faces, and rendering one planned sample.

Tasks take and return plain data (dicts, paths), so any executor can ship them between processes.
A render task either writes its video and row into the dataset folder itself (workers that share
the driver's disk) or carries its face and returns the video's bytes for the driver to write
(`write=False`): then a worker needs neither the input photos nor the output folder.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from equime import __version__
from equime.dataset.layout import DatasetLayout
from equime.dataset.metadata import attribute_values, aus_text, write_row
from equime.errors import EquimeError, InputRejected
from equime.executors import Shared
from equime.faces.face import Face
from equime.facs.aus import column_name
from equime.files import write_atomic, write_bytes_atomic, write_text_atomic
from equime.generation.plan import PlanRow
from equime.synth.base import TIMED_SOURCES, Generator, create_generator
from equime.synth.neutral import WORK_SIZE
from equime.synth.timeline import timing_text
from equime.video.mp4 import encode_mp4_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceTask:
    root: str
    sources: list  # SourceImage records
    size: int
    margin: float
    min_face: int
    face_model: str | None
    neutral: str = "neutralise"  # GenerateConfig.neutral
    neutral_threshold: float = 0.5
    faces: str = "largest"  # GenerateConfig.faces


def save_face(
    path: Path, face: Face, licence: str, tmp_dir: Path, expression: dict | None = None
) -> None:
    meta = {
        "source_path": face.source_path,
        "source_sha256": face.source_sha256,
        "licence": licence,
        "notes": list(face.notes),
        "expression": expression or {},
    }

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, image=face.image, landmarks=face.landmarks, meta=json.dumps(meta))

    write_atomic(path, write, tmp_dir)


def read_face(source: str | io.BytesIO, face_id: str) -> tuple[Face, str, dict]:
    """A face saved by `save_face` (from its file or that file's bytes): the face, its source
    licence and its expression record (`expression_record`)."""
    with np.load(source) as data:
        meta = json.loads(str(data["meta"]))
        face = Face(
            face_id=face_id,
            image=data["image"],
            landmarks=data["landmarks"],
            source_path=meta["source_path"],
            source_sha256=meta["source_sha256"],
            notes=tuple(meta["notes"]),
        )
    return face, meta["licence"], meta.get("expression", {})


def expression_record(before: dict[str, float], after: dict[str, float], undone: dict) -> dict:
    """What the metadata says about a source face's expression: as measured, as animated, and
    which AUs the warp undid (`synth.neutral`)."""
    from equime.faces.expression import describe

    return {
        "face_expression": describe(before),
        "face_start_expression": describe(after),
        "face_neutralised": "+".join(f"{c}:{v:.2f}" for c, v in sorted(undone.items())),
    }


def prepare_faces(task: FaceTask) -> list[dict]:
    """Find, crop, neutralise and cache each source's faces; one landmarker for the whole chunk.

    One result per face (accepted: its notes; refused: its reason) and per source a manifest
    (`source_manifest`) saying which faces it gave, so a resumed run does not look again."""
    from equime.faces.landmarker import Landmarker
    from equime.faces.prepare import prepare_faces as find_and_crop

    layout = DatasetLayout(Path(task.root))
    results = []
    with Landmarker(task.face_model) as landmarker:
        for src in task.sources:
            base = {"source_id": src.face_id, "path": src.shown_path}
            # neutralised at its working size whatever the output size (its pixel widths were
            # set at 256), then brought to the output size
            work = task.size if task.neutral == "keep" else max(task.size, WORK_SIZE)
            try:
                prepared = find_and_crop(
                    src, landmarker, work, task.margin, task.min_face, task.faces
                )
            except InputRejected as exc:
                results.append({**base, "face_id": src.face_id, "reason": exc.reason})
                continue
            refused = [{**base, "face_id": i, "reason": r} for i, r in prepared.rejected]
            accepted = []
            for face in prepared.faces:
                try:
                    face, record = start_face(face, landmarker, task)
                    face = resized(face, task.size)
                except InputRejected as exc:
                    refused.append({**base, "face_id": face.face_id, "reason": exc.reason})
                    continue
                save_face(layout.face_path(face.face_id), face, src.licence, layout.tmp, record)
                accepted.append({**base, "face_id": face.face_id, "notes": list(face.notes)})
            manifest = {"faces": [a["face_id"] for a in accepted], "unused": prepared.unused}
            manifest["rejected"] = refused
            write_text_atomic(
                source_manifest(layout, src.face_id), json.dumps(manifest), layout.tmp
            )
            results += accepted + refused
    return results


def resized(face: Face, size: int) -> Face:
    """`face` at `size` pixels (area-averaged down; the landmarks scaled with it)."""
    if face.size == size:
        return face
    image = cv2.resize(face.image, (size, size), interpolation=cv2.INTER_AREA)
    landmarks = (face.landmarks * np.float32(size / face.size)).astype(np.float32)
    return replace(face, image=np.ascontiguousarray(image), landmarks=landmarks)


def source_manifest(layout: DatasetLayout, source_id: str) -> Path:
    """Which faces a source photo gave (ids, refusals, faces left unused)."""
    return layout.faces / f"{source_id}.json"


def start_face(face: Face, landmarker: Any, task: FaceTask) -> tuple[Face, dict]:
    """The face a video starts from and its expression record: neutralised (and gated), refused
    when not neutral, or kept as it is (`GenerateConfig.neutral`)."""
    from equime.faces.expression import measure, not_neutral
    from equime.synth.neutral import neutralise, too_strong

    if task.neutral == "neutralise":
        done = neutralise(face, landmarker, task.neutral_threshold)
        if why := too_strong(done, task.neutral_threshold):
            raise InputRejected(face.face_id, why)
        face, found = done.face, done.detection
        record = expression_record(done.before, done.after, done.undone)
    else:
        found = next(iter(landmarker.detect(face.image)), None)
        before = measure(found.blendshapes) if found else {}
        record = expression_record(before, before, {})
    if task.neutral == "keep":
        return face, record
    if found is None:
        raise InputRejected(face.face_id, "start face: no face found after neutralising")
    # the gate reads the final pixels (MediaPipe's network, the mesh read-out), not the undo's log
    why = not_neutral(found.blendshapes, found.landmarks, found.depth, task.neutral_threshold)
    if why:
        after = " after neutralising" if task.neutral == "neutralise" else ""
        raise InputRejected(face.face_id, f"not neutral{after}: {why}")
    return face, record


@dataclass(frozen=True)
class RenderTask:
    root: str
    row: PlanRow
    generator: str
    generator_options: tuple[tuple[str, Any], ...]
    crf: int
    preset: str
    face: Shared | None = None  # the face file's bytes, shared by the executor; None: read `root`
    write: bool = True  # write the video and row into `root`; False: return them instead


@lru_cache(maxsize=4)
def _generator(name: str, options: tuple[tuple[str, Any], ...]) -> Generator:
    return create_generator(name, **dict(options))


def task_face(task: RenderTask, layout: DatasetLayout) -> tuple[Face, str, dict]:
    """The task's face: carried with it (no shared disk) or read from the run's face cache."""
    if task.face is None:
        return read_face(str(layout.face_path(task.row.face_id)), task.row.face_id)
    return read_face(io.BytesIO(task.face.get()), task.row.face_id)


def render_sample(task: RenderTask) -> dict:
    """Make one video and its metadata row; a failure becomes a rejection, never a crash.

    Returns {"row": ...} once written, or {"row": ..., "video": bytes} for `store_result`."""
    row = task.row
    layout = DatasetLayout(Path(task.root))
    # A generator that cannot be built (a model that does not load) stops the run: every other
    # sample would fail the same way. Only per-sample failures become rejections.
    generator = _generator(task.generator, task.generator_options)
    try:
        face, licence, expression = task_face(task, layout)
        frames = generator(face, row.spec())
        data = encode_mp4_bytes(frames, row.fps, crf=task.crf, preset=task.preset)
    except Exception as exc:  # keep the run going; the reason is recorded, not lost
        return rejection(row, exc)
    file_name = video_file(layout, row, row.label)
    meta = metadata_row(row, file_name, face, licence, generator, hashlib.sha256(data).hexdigest())
    meta.update(expression)
    return deliver(task, layout, meta, data)


def rejection(row: Any, exc: Exception) -> dict:
    """A failed video as its rejected.csv row: an EquimeError in its own words, anything else as
    an internal error, logged with its traceback (so call it inside the `except`)."""
    if isinstance(exc, EquimeError):
        reason = str(exc)
    else:
        log.exception("video %s failed", row.sample_id)
        reason = f"internal error: {type(exc).__name__}: {exc}"
    return {"rejected": {"id": row.sample_id, "path": row.face_id, "reason": reason}}


def video_file(layout: DatasetLayout, row: Any, label: str) -> str:
    """Where a row's video goes in the dataset (by label, race and gender)."""
    attrs = row.attributes
    return layout.video_relpath(row.sample_id, label, attrs.get("race"), attrs.get("gender"))


def deliver(task: RenderTask, layout: DatasetLayout, meta: dict, data: bytes) -> dict:
    """A finished video: written with its row by the worker, or returned for `store_result`."""
    if not task.write:
        return {"row": meta, "video": data}
    write_sample(layout, meta, data)
    return {"row": meta}


def write_sample(layout: DatasetLayout, row: dict, video: bytes) -> None:
    """The video, then its row, each atomically: a row on disk always has its complete video."""
    write_bytes_atomic(layout.root / row["file_name"], video, layout.tmp)
    write_row(layout, row)


def store_result(layout: DatasetLayout, result: dict) -> dict:
    """Driver side: write a returned video and row exactly as a worker would have; the result
    without its bytes (so the driver keeps only rows)."""
    if "video" in result:
        write_sample(layout, result["row"], result["video"])
        return {"row": result["row"]}
    return result


def source_columns(row: Any, file_name: str, face: Face, licence: str) -> dict:
    """Which sample, which file, from which photo: the first columns of every metadata row
    (short clips and long videos alike)."""
    return {
        "id": row.sample_id,
        "file_name": file_name,
        "face_id": row.face_id,
        "source_path": face.source_path,
        "source_sha256": face.source_sha256,
        "source_licence": licence,
    }


def video_columns(row: Any, generator: Generator) -> dict:
    """How a video was made and what it is: template, seeds, generator, versions, size, length."""
    return {
        "prompt_template": row.prompt_template,
        "prompt_template_sha256": row.prompt_template_sha256,
        "seed": row.seed,
        "noise_seed": row.noise_seed,
        "generator": generator.name,
        "generator_version": generator.version,
        "equime_version": __version__,
        "fps": row.fps,
        "n_frames": row.n_frames,
        "width": row.size,
        "height": row.size,
        "duration_s": round(row.n_frames / row.fps, 4),
    }


def metadata_row(
    row: PlanRow, file_name: str, face: Face, licence: str, generator: Generator, sha256: str
) -> dict:
    # A generator that decides the timing itself (LTX) has no ground truth: leave it empty
    # rather than record the plan's timeline as if the video followed it.
    timing = getattr(generator, "timing_source", "ground truth")
    known = timing in TIMED_SOURCES
    return {
        **source_columns(row, file_name, face, licence),
        "target_emotion": row.target_emotion,
        "fz_emotion": row.fz_emotion,
        "fz_score": row.fz_score,
        "label": row.label,
        "label_noise": row.label_noise,
        **{column_name(code): value for code, value in row.aus.items()},
        "aus": aus_text(row.aus),
        "prompt": row.prompt,
        "negative_prompt": row.negative_prompt,
        **video_columns(row, generator),
        "onset": row.onset if known else None,
        "apex": row.apex if known else None,
        "offset": row.offset if known else None,
        "au_timing": timing_text(row.au_timelines) if known else "",
        "timing_source": timing,
        **getattr(generator, "row_fields", {}),
        **(generator.face_fields(face) if hasattr(generator, "face_fields") else {}),
        **attribute_values(row.attributes),
        "face_notes": "; ".join(face.notes),
        "sha256": sha256,
    }
