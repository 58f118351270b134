"""`equime preview IMAGE`: one video per emotion for one photo, and a contact sheet to look at."""

from __future__ import annotations

from pathlib import Path

from equime.dataset.contact_sheet import contact_sheet, known_or_span, save_png
from equime.errors import EquimeError
from equime.faces.landmarker import Landmarker
from equime.faces.prepare import prepare_face
from equime.faces.sources import source_image
from equime.files import write_bytes_atomic
from equime.generation.config import GenerateConfig
from equime.generation.plan import plan_sample
from equime.synth.base import TIMED_SOURCES, create_generator
from equime.video.mp4 import encode_mp4_bytes


def preview(image: Path, out: Path, cfg: GenerateConfig) -> Path:
    """Write <out>/<emotion>.mp4 for each emotion and <out>/contact_sheet.png; return the sheet."""
    if not image.is_file():
        raise EquimeError(f"{image}: no such file")
    src = source_image(image)
    with Landmarker(cfg.face_model) as landmarker:
        face = prepare_face(
            src, landmarker, size=cfg.size, margin=cfg.margin, min_face=cfg.min_face
        )
        face = start_face(face, landmarker, cfg, image)
    generator = create_generator(cfg.generator, **cfg.generator_options)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for emotion in cfg.emotions:
        row = plan_sample(cfg, face.face_id, emotion, 0, {})
        frames = generator(face, row.spec())
        data = encode_mp4_bytes(frames, row.fps, crf=cfg.crf, preset=cfg.preset)
        write_bytes_atomic(out / f"{emotion}.mp4", data)
        timing = {"onset": row.onset, "apex": row.apex, "offset": row.offset}
        if getattr(generator, "timing_source", "ground truth") not in TIMED_SOURCES:
            timing = {}  # the plan's timeline is not what the model made
        rows.append((emotion, frames, *known_or_span(timing, len(frames))))
    sheet = out / "contact_sheet.png"
    save_png(contact_sheet(rows), sheet)
    return sheet


def start_face(face, landmarker: Landmarker, cfg: GenerateConfig, image: Path):
    """The face the videos start from, as `generate` makes it (`--neutral`: neutralise, reject
    or keep a face whose expression is beyond the threshold)."""
    from equime.faces.expression import beyond, describe, measure
    from equime.synth.neutral import neutralise

    if cfg.neutral == "neutralise":
        return neutralise(face, landmarker, cfg.neutral_threshold).face
    found = landmarker.detect(face.image)
    over = beyond(measure(found[0].blendshapes), cfg.neutral_threshold) if found else {}
    if over and cfg.neutral == "reject":
        raise EquimeError(f"{image}: not neutral: {describe(over, 0.0)}")
    return face
