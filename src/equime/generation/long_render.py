"""Long videos, rendered: one planned long video (`generation.long.LongPlanRow`) -> MP4 + row.

Composition, in order:
1. the neutral photo in every frame;
2. each event rendered through the generator interface (`synth.base`), as its own short clip
   from its onset to its offset, with the generator's own eps_X switched off (so its first and
   last frames are the photo, byte for byte) and pasted in place;
3. blinks: an eyelid warp of our own (the upper lid slides down over the eye while the skin
   above it stretches; the lower lid stays), per column between the lid landmarks;
4. distractors (presets, `long_config.PRESETS`): talking (a mouth-opening clip of the
   generator, AU25 + AU26, replayed at syllable rate), occlusions (a hand-coloured patch with
   finger gaps sliding over the lower face, moving with the head);
5. eps_X for the whole take: head motion (one affine map per frame about the face centre:
   shift, roll, scale, and turns and nods as foreshortening with the shift they bring, slow
   drift plus the plan's fast turns), lighting drift and sensor noise, each from its own
   substream of the video's noise seed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from scipy.special import ndtri

from equime.dataset.layout import DatasetLayout
from equime.dataset.metadata import attribute_values
from equime.errors import EquimeError
from equime.faces import regions
from equime.faces.face import Face
from equime.generation.long import LongPlanRow
from equime.generation.long_config import LONG_VERSION
from equime.generation.tasks import (
    RenderTask,
    deliver,
    rejection,
    source_columns,
    task_face,
    video_columns,
    video_file,
)
from equime.synth.base import Generator, SynthSpec, generator_factory
from equime.synth.timeline import Timeline
from equime.video.mp4 import encode_mp4_bytes

EPS_X_OPTIONS = {"head_motion_px": 0.0, "light_drift": 0.0, "sensor_noise": 0.0}
DEFAULT_LIGHT, DEFAULT_NOISE = 0.01, 1.0  # the warp's own defaults, used for the whole take
LONG_LABEL = "long"  # label and target_emotion of a long video's row (its events have their own)


@lru_cache(maxsize=4)
def event_generator(name: str, options: tuple[tuple[str, Any], ...]) -> Generator:
    """The generator with its eps_X knobs at 0 (where it has them): the take adds its own."""
    factory = generator_factory(name)
    params = inspect.signature(factory).parameters
    quiet = {k: v for k, v in EPS_X_OPTIONS.items() if k in params}
    return factory(**{**dict(options), **quiet})


# --- blinks ---------------------------------------------------------------------------------


class Eyelids:
    """Per eye: the columns between its corners, the upper and lower lid heights per column, and a
    fixed line above (the lid crease) where the stretch of the skin ends."""

    def __init__(self, landmarks: np.ndarray, size: int) -> None:
        pts = np.asarray(landmarks, np.float64)
        self.size = size
        self.eyes = []
        for side in ("R", "L"):
            upper = pts[list(regions.UPPER_LID[side])]
            lower = pts[list(regions.LOWER_LID[side])]
            corners = pts[list(regions.EYE_CORNERS[side])]
            x0 = int(np.floor(corners[:, 0].min())) - 1
            x1 = int(np.ceil(corners[:, 0].max())) + 2
            xs = np.arange(x0, x1, dtype=np.float64)
            ends = corners[np.argsort(corners[:, 0])]
            y_up = self._line(np.concatenate([upper, ends]), xs)
            y_lo = self._line(np.concatenate([lower, ends]), xs)
            opening = np.clip(y_lo - y_up, 0.0, None)
            top = int(np.floor((y_up - 1.2 * opening.max()).min())) - 1
            bottom = int(np.ceil(y_lo.max())) + 2
            self.eyes.append((x0, x1, top, bottom, y_up, y_lo))

    @staticmethod
    def _line(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
        order = np.argsort(points[:, 0])
        return np.interp(xs, points[order, 0], points[order, 1])

    def close(self, frame: np.ndarray, c: float) -> None:
        """Close both eyes by `c` (0 open, 1 shut), in place."""
        if c <= 0:
            return
        for x0, x1, top, bottom, y_up, y_lo in self.eyes:
            x0c, x1c = max(x0, 0), min(x1, self.size)
            top_c, bottom_c = max(top, 0), min(bottom, self.size)
            if x0c >= x1c or top_c >= bottom_c:
                continue
            ys = np.arange(top_c, bottom_c, dtype=np.float64)[:, None]
            up, lo = y_up[x0c - x0 : x1c - x0][None, :], y_lo[x0c - x0 : x1c - x0][None, :]
            lid = up + c * (lo - up)  # where the upper lid edge is now
            stretch = top + (ys - top) * (up - top) / np.maximum(lid - top, 1e-6)
            squeeze = up + (ys - lid) * (lo - up) / np.maximum(lo - lid, 1e-6)
            src_y = np.where(ys <= lid, stretch, np.where(ys <= lo, squeeze, ys))
            src_x = np.broadcast_to(np.arange(x0c, x1c, dtype=np.float64)[None, :], src_y.shape)
            patch = cv2.remap(
                frame,
                src_x.astype(np.float32),
                src_y.astype(np.float32),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            frame[top_c:bottom_c, x0c:x1c] = patch


def blink_curve(length: int) -> np.ndarray:
    """Lid closure over a blink's frames (0 at both ends): a fast close (40 %), a slower open."""
    t = np.linspace(0.0, 1.0, length)
    peak = 0.4
    rise = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / peak, 0, 1))
    fall = 0.5 + 0.5 * np.cos(np.pi * np.clip((t - peak) / (1 - peak), 0, 1))
    return np.where(t <= peak, rise, fall)


# --- eps_X of the whole take -----------------------------------------------------------------


def slow_signal(rng: np.random.Generator, n: int, fps: float, parts: int = 3) -> np.ndarray:
    """RMS ~1 sum of a few sinusoids of 0.03-0.3 Hz: drift over seconds, not jitter."""
    t = np.arange(n) / fps
    freq = rng.uniform(0.03, 0.3, parts)
    phase = rng.uniform(0, 2 * np.pi, parts)
    waves = np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    return waves.sum(0) / np.sqrt(parts / 2)


def head_drift(
    frames: np.ndarray,
    landmarks: np.ndarray,
    px: float,
    rng: np.random.Generator,
    fps: float,
    turn_deg: float = 0.0,
    roll_deg: float = 0.0,
    fast_turns: tuple[tuple[int, int], ...] = (),
) -> np.ndarray:
    """One affine map per frame about the face centre, in place; returns (n, 6): tx, ty, roll
    (rad), scale, yaw and nod (rad). Turns and nods are drawn only when asked for, so the easy
    preset's takes stay byte-identical to those before presets."""
    n, size = len(frames), frames.shape[1]
    tx, ty, turn, zoom = (slow_signal(rng, n, fps) for _ in range(4))
    half = size / 2
    roll = turn * 0.5 * px / half
    yaw, nod = np.zeros(n), np.zeros(n)
    if turn_deg or roll_deg or fast_turns:
        yaw = np.radians(turn_deg) * slow_signal(rng, n, fps)
        nod = np.radians(turn_deg) * 0.6 * slow_signal(rng, n, fps)
        roll = roll + np.radians(roll_deg) * slow_signal(rng, n, fps)
        for start, end in fast_turns:
            k = end - start + 1
            ramp = min(max(2, round(0.4 * fps)), k // 2)
            shape = np.ones(k)
            shape[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
            shape[k - ramp :] = shape[:ramp][::-1]
            yaw[start : end + 1] += np.radians(rng.uniform(10, 20) * rng.choice([-1, 1])) * shape
    motion = np.stack([tx * px, ty * px, roll, 1 + zoom * 0.5 * px / half, yaw, nod], 1)
    if px == 0 and not (turn_deg or roll_deg or fast_turns):
        return motion
    pts = np.asarray(landmarks, np.float64)
    cx, cy = pts[list(regions.FACE_OVAL)].mean(0)
    iod = regions.face_frame(pts).iod
    for t in range(n):
        dx, dy, angle, scale, y_rad, n_rad = motion[t]
        m = cv2.getRotationMatrix2D((cx, cy), np.degrees(angle), scale)
        if y_rad or n_rad:  # foreshortening about the centre, and the shift a turn brings
            squash = np.diag([np.cos(y_rad), np.cos(n_rad)])
            m[:, :2] = m[:, :2] @ squash
            m[:, 2] = np.array([cx, cy]) - m[:, :2] @ np.array([cx, cy])
            dx += 0.6 * iod * np.sin(y_rad)
            dy += 0.6 * iod * np.sin(n_rad)
        m[:, 2] += (dx, dy)
        frames[t] = cv2.warpAffine(
            frames[t], m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    return motion


# --- distractors ------------------------------------------------------------------------------

TALK_AUS = {"25": 1.0, "26": 1.0}  # lips part, jaw drop: the mouth opening of speech


def talk(
    frames: np.ndarray,
    face: Face,
    generator: Generator,
    start: int,
    end: int,
    fps: float,
    seed: int,
) -> None:
    """A talking burst: the generator's mouth-opening clip (AU25 + AU26) replayed frame by
    frame at an opening that follows syllables (3-5 Hz, each 50-100 % open), faded in and out."""
    rng = np.random.default_rng(seed)
    clip_len = 9
    spec = SynthSpec(dict(TALK_AUS), "neutral", Timeline(clip_len, fps, 0, 4, 8, 0), seed)
    clip = generator(face, spec)
    levels = Timeline(clip_len, fps, 0, 4, 8, 0).curve()[:5]  # rising half: 0 -> 1
    n = end - start + 1
    t = np.arange(n) / fps
    rate = rng.uniform(3, 5)
    syllable = np.floor(t * rate).astype(int)
    heights = rng.uniform(0.5, 1.0, syllable.max() + 1)[syllable]
    opening = heights * 0.5 * (1 - np.cos(2 * np.pi * rate * t))
    fade = np.clip(np.minimum(t, t[-1] - t) / 0.2, 0, 1)
    for k, level in enumerate(opening * fade):
        frames[start + k] = clip[int(np.argmin(np.abs(levels - level)))]


def occlude(frames: np.ndarray, landmarks: np.ndarray, start: int, end: int, fps: float) -> None:
    """A hand-coloured patch (the face's own cheek colour, a little lighter, with darker finger
    gaps) over the lower face: slides in from the side over 0.3 s, stays, slides out."""
    pts = np.asarray(landmarks, np.float64)
    size = frames.shape[1]
    iod = regions.face_frame(pts).iod
    lower = pts[[*regions.JAW_LINE, 205, 425, 2]]
    hull = cv2.convexHull(lower.astype(np.float32))[:, 0]
    mask = np.zeros((size, size), np.float32)
    cv2.fillPoly(mask, [np.round(hull).astype(np.int32)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.04 * iod)
    cheek = np.zeros((size, size), np.uint8)
    for side in ("R", "L"):
        cv2.fillPoly(cheek, [cv2.convexHull(pts[list(regions.CHEEK[side])].astype(np.int32))], 1)
    colour = frames[start][cheek > 0].reshape(-1, 3).mean(0) * 1.08
    xs = np.arange(size)[None, :]
    gaps = 1 - 0.35 * (np.cos(2 * np.pi * xs / (0.28 * iod)) > 0.85)
    hand = np.clip(colour[None, None, :] * gaps[..., None], 0, 255)
    hand = np.ascontiguousarray(np.broadcast_to(hand, (size, size, 3)), np.float32)
    width = hull[:, 0].max() - hull[:, 0].min()
    n = end - start + 1
    slide = max(1, round(0.3 * fps))
    for k in range(n):
        shift = width * max(0.0, 1 - min(k, n - 1 - k) / slide)
        m = np.float32([[1, 0, -shift], [0, 1, 0]])
        a = cv2.warpAffine(mask, m, (size, size))[..., None]
        h = cv2.warpAffine(hand, m, (size, size))
        frame = frames[start + k].astype(np.float32)
        frames[start + k] = np.round(frame * (1 - a) + h * a).astype(np.uint8)


def light_drift(frames: np.ndarray, amount: float, rng: np.random.Generator, fps: float) -> None:
    if amount == 0:
        return
    gain = 1.0 + amount * slow_signal(rng, len(frames), fps)
    levels = np.arange(256, dtype=np.float64)
    for t, g in enumerate(gain):
        cv2.LUT(frames[t], np.clip(np.round(levels * g), 0, 255).astype(np.uint8), dst=frames[t])


def sensor_noise(frames: np.ndarray, std: float, rng: np.random.Generator) -> None:
    """Gaussian-like noise of `std` grey levels: a random byte through the normal quantile,
    as two saturating look-ups (add the positive part, subtract the negative)."""
    if std == 0:
        return
    q = ndtri((np.arange(256) + 0.5) / 256)
    q = np.round(q / q.std() * std)
    plus = np.clip(q, 0, 255).astype(np.uint8)
    minus = np.clip(-q, 0, 255).astype(np.uint8)
    for t in range(len(frames)):
        draw = rng.integers(0, 256, frames.shape[1:], dtype=np.uint8)
        cv2.add(frames[t], cv2.LUT(draw, plus), dst=frames[t])
        cv2.subtract(frames[t], cv2.LUT(draw, minus), dst=frames[t])


# --- one long video ---

IN_MEMORY_BYTES = 256 * 2**20  # larger videos are composed in a memory map under .equime/tmp


@contextmanager
def frame_buffer(tmp: Path | None, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """A (T, S, S, 3) uint8 buffer: in memory when small, else a memory-mapped file in `tmp` (the
    system's temp folder when None) removed afterwards (10 minutes at 256 px are 2.8 GB)."""
    if int(np.prod(shape)) <= IN_MEMORY_BYTES:
        yield np.empty(shape, np.uint8)
        return
    if tmp is not None:
        tmp.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".frames-", suffix=".u8", dir=tmp)
    os.close(fd)
    try:
        frames = np.memmap(name, dtype=np.uint8, mode="w+", shape=shape)
        yield frames
        del frames
    finally:
        Path(name).unlink(missing_ok=True)


def compose(
    face: Face,
    row: LongPlanRow,
    generator: Generator,
    options: dict[str, Any],
    frames: np.ndarray | None = None,
) -> np.ndarray:
    """The frames (n, S, S, 3) uint8 of one long video, into `frames` when given (a memory map:
    minutes of video need not sit in memory)."""
    image = np.ascontiguousarray(face.image)
    if frames is None:
        frames = np.empty((row.n_frames, face.size, face.size, 3), np.uint8)
    frames[:] = image
    for event in row.events:
        spec = SynthSpec(event.aus, event.label, event.timeline(row.fps), event.seed)
        clip = generator(face, spec)
        if len(clip) != event.offset - event.onset + 1:
            raise EquimeError(
                f"{row.sample_id}: generator {generator.name} changed an event's length"
            )
        frames[event.onset : event.offset + 1] = clip
    for kind, start, end in row.distractors:
        if kind == "talk":
            talk(frames, face, generator, start, end, row.fps, row.noise_seed + start)
        elif kind == "occlusion":
            occlude(frames, face.landmarks, start, end, row.fps)
    lids = Eyelids(face.landmarks, face.size)
    for start, end in row.blinks:
        for k, c in enumerate(blink_curve(end - start + 1)):
            lids.close(frames[start + k], float(c))
    head_rng, light_rng, noise_rng = (
        np.random.Generator(np.random.PCG64(s))
        for s in np.random.SeedSequence(row.noise_seed).spawn(3)
    )
    take = row.take
    turns = tuple((s, e) for kind, s, e in row.distractors if kind == "turn")
    head_drift(
        frames,
        face.landmarks,
        row.head_motion_px,
        head_rng,
        row.fps,
        float(take.get("turn_deg", 0.0)),
        float(take.get("roll_deg", 0.0)),
        turns,
    )
    light = options.get("light_drift", take.get("light_drift", DEFAULT_LIGHT))
    noise = options.get("sensor_noise", take.get("camera_noise", DEFAULT_NOISE))
    light_drift(frames, float(light), light_rng, row.fps)
    sensor_noise(frames, float(noise), noise_rng)
    return frames


def render_long(task: RenderTask) -> dict:
    """Make one long video and its metadata row; a failure becomes a rejection, never a crash."""
    row: LongPlanRow = task.row  # type: ignore[assignment]
    layout = DatasetLayout(Path(task.root))
    generator = event_generator(task.generator, task.generator_options)
    options = dict(task.generator_options)
    try:
        face, licence, expression = task_face(task, layout)
        # a worker that must not write into the dataset keeps its frames in its own temp folder
        scratch = layout.tmp if task.write else None
        with frame_buffer(scratch, (row.n_frames, face.size, face.size, 3)) as frames:
            compose(face, row, generator, options, frames)
            data = encode_mp4_bytes(frames, row.fps, crf=task.crf, preset=task.preset)
    except Exception as exc:  # keep the run going; the reason is recorded, not lost
        return rejection(row, exc)
    file_name = video_file(layout, row, LONG_LABEL)
    meta = long_row(row, file_name, face, licence, generator, hashlib.sha256(data).hexdigest())
    meta.update(expression)  # the source face's expression, as measured and as animated
    return deliver(task, layout, meta, data)


def long_row(
    row: LongPlanRow, file_name: str, face: Face, licence: str, generator: Generator, sha256: str
) -> dict:
    """The metadata row of a long video: the usual columns (label 'long', no single timing) plus
    its events and blinks as JSON, from which intervals.csv is written."""
    kinds = [e.kind for e in row.events]
    return {
        **source_columns(row, file_name, face, licence),
        "target_emotion": LONG_LABEL,
        "fz_emotion": "",
        "fz_score": None,
        "label": LONG_LABEL,
        "label_noise": False,
        "aus": "",
        "prompt": "",
        "negative_prompt": "",
        **video_columns(row, generator),
        "onset": None,
        "apex": None,
        "offset": None,
        "timing_source": "intervals.csv",
        **attribute_values(row.attributes),
        "face_notes": "; ".join(face.notes),
        "sha256": sha256,
        # extra columns in sorted order: rows read back from disk (sorted JSON) order them so,
        # and a resumed run must write the same metadata.csv as an uninterrupted one
        "blinks": json.dumps([list(b) for b in row.blinks]),
        "distractors": json.dumps([list(d) for d in row.distractors]),
        "events": json.dumps([asdict(e) for e in row.events], sort_keys=True),
        "head_motion_px": row.head_motion_px,
        "long_version": LONG_VERSION,
        "n_blinks": len(row.blinks),
        "n_mae": kinds.count("mae"),
        "n_me": kinds.count("me"),
        "preset_take": json.dumps(row.take, sort_keys=True),
    }
