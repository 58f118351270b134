"""Long videos, planned: micro- and macro-expressions, blinks and head drift placed in one take.

Every event is drawn from the same SCM as a short clip (`facs.scm`): an emotion, Z ~ p(Z |
emotion) (macro-expressions with stronger intensities), Y = f_Z(Z) + eps_Y, and the same do(Z)
interventions; each event has its own seed derived from the video's, so one event's draws never
shift another's. Events never overlap and keep `gap_ms` of neutral face between them; blinks fall
in the neutral stretches only, so every event's frames show that event alone.

Frame conventions are the short clips' (`synth.timeline`): onset = last neutral frame, apex = peak,
offset = first frame back at neutral. `intervals.csv` lists every event of every finished video.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from equime.dataset.layout import DatasetLayout
from equime.dataset.metadata import aus_text
from equime.errors import EquimeError
from equime.facs.prompt import load_template
from equime.facs.scm import IntensityConfig, derive_seed, substream
from equime.files import write_text_atomic
from equime.generation.long_config import LongConfig, long_config
from equime.generation.plan import draw_expression
from equime.synth.timeline import Timeline, TimingConfig

if TYPE_CHECKING:
    from equime.generation.config import GenerateConfig

INTERVAL_COLUMNS = [
    "video",
    "file_name",
    "type",
    "onset",
    "apex",
    "offset",
    "emotion",
    "label",
    "fz_emotion",
    "aus",
    "fps",
]
ME_MAX_MS = 500.0  # a micro-expression's whole duration stays under this
DISTRACTOR = "distractor"  # intervals.csv type of what is not an expression (never a truth)


@dataclass(frozen=True)
class Event:
    kind: str  # "me" or "mae"
    onset: int
    apex: int
    offset: int
    hold: int
    emotion: str  # the emotion asked for
    fz_emotion: str
    fz_score: float
    label: str  # Y = f_Z(Z) + eps_Y
    label_noise: bool
    aus: dict[str, float]
    seed: int  # eps_X of the event's render

    def timeline(self, fps: float) -> Timeline:
        """The event's own clip: frame 0 = onset, last frame = offset."""
        n = self.offset - self.onset + 1
        return Timeline(n, fps, 0, self.apex - self.onset, self.offset - self.onset, self.hold)


@dataclass(frozen=True)
class LongPlanRow:
    """One long video: everything its render needs, fixed before any frame is made."""

    sample_id: str
    face_id: str
    repeat: int
    seed: int
    noise_seed: int
    size: int
    fps: float
    n_frames: int
    events: tuple[Event, ...]
    blinks: tuple[tuple[int, int], ...]  # (start, end) frames: eyelids closed halfway between
    head_motion_px: float
    attributes: dict[str, str] = field(default_factory=dict)
    # (kind, start, end): talking, fast head turns, occlusions in neutral stretches (preset)
    distractors: tuple[tuple[str, int, int], ...] = ()
    take: dict[str, float] = field(default_factory=dict)  # turn_deg, roll_deg, light, noise
    prompt_template: str = ""
    prompt_template_sha256: str = ""

    def to_dict(self) -> dict:
        """Plain columns for plan.parquet (events and blinks as JSON text)."""
        data = asdict(self)
        data["events"] = json.dumps([asdict(e) for e in self.events], sort_keys=True)
        data["blinks"] = json.dumps([list(b) for b in self.blinks])
        data["distractors"] = json.dumps([list(d) for d in self.distractors])
        data["take"] = json.dumps(self.take, sort_keys=True)
        return data


def _frames(ms: float, fps: float) -> int:
    return max(1, round(ms * fps / 1000.0))


def _durations(
    kind: str, rng: np.random.Generator, fps: float, lc: LongConfig
) -> tuple[int, int, int]:
    """(rise, hold, fall) frames: micro timing as short clips (whole < 500 ms), macro from
    `macro_ms` split into a rise of 25-40 %, a hold and a fall."""
    if kind == "me":
        timing = TimingConfig()
        while True:  # the short-clip ranges, redrawn until the whole stays under 500 ms
            rise = _frames(rng.uniform(*timing.onset_ms), fps)
            hold = round(rng.uniform(*timing.hold_ms) * fps / 1000.0)
            fall = _frames(rng.uniform(*timing.offset_ms), fps)
            if (rise + hold + fall) * 1000.0 / fps < ME_MAX_MS:
                return rise, hold, fall
    total = _frames(rng.uniform(*lc.macro_ms), fps)
    rise = max(1, round(total * rng.uniform(0.25, 0.4)))
    fall = max(1, round(total * rng.uniform(0.3, 0.45)))
    return rise, max(0, total - rise - fall), fall


def _event(
    cfg: GenerateConfig,
    lc: LongConfig,
    seed: int,
    kind: str,
    emotion: str,
    onset: int,
    span: tuple[int, int, int],
    noise_seed: int,
) -> Event:
    """Z, label and timing of one event, drawn as a short clip's (`plan.draw_expression`)."""
    if kind == "me":
        intensity = IntensityConfig(cfg.intensity_required, cfg.intensity_optional)
    else:
        intensity = IntensityConfig(lc.macro_required, lc.macro_optional)
    drawn = draw_expression(cfg, emotion, seed, intensity)
    rise, hold, fall = span
    return Event(
        kind=kind,
        onset=onset,
        apex=onset + rise + hold // 2,
        offset=onset + rise + hold + fall,
        hold=hold,
        emotion=emotion,
        fz_emotion=drawn.fz_emotion,
        fz_score=drawn.fz_score,
        label=drawn.label,
        label_noise=drawn.label_noise,
        aus=drawn.aus,
        seed=noise_seed,
    )


def _place(rng: np.random.Generator, free: list[tuple[int, int]], length: int) -> int | None:
    """A random start for `length` frames inside one of the stretches `free` ([start, end)),
    each stretch as likely as the room it leaves; None when none has room."""
    spots = [(a, b - length) for a, b in free if b - length > a]
    if not spots:
        return None
    weights = np.array([b - a for a, b in spots], float)
    a, b = spots[int(rng.choice(len(spots), p=weights / weights.sum()))]
    return int(rng.integers(a, b + 1))


def _blinks(
    rng: np.random.Generator, free: list[tuple[int, int]], n_frames: int, fps: float, lc: LongConfig
) -> tuple[tuple[int, int], ...]:
    """Blinks in the neutral stretches `free` ([start, end) frames), never touching each other."""
    count = int(rng.poisson(lc.blinks_per_min * n_frames / fps / 60.0))
    taken: list[tuple[int, int]] = []
    for _ in range(count):
        length = _frames(rng.uniform(*lc.blink_ms), fps) + 1
        start = _place(rng, free, length)
        if start is None:
            break
        if all(start > e + 2 or start + length < s - 2 for s, e in taken):
            taken.append((start, start + length - 1))
    return tuple(sorted(taken))


DISTRACTOR_SECONDS = {"talk": (1.0, 4.0), "turn": (1.0, 3.0), "occlusion": (1.5, 3.0)}


def _distractors(
    rng: np.random.Generator, free: list[tuple[int, int]], n_frames: int, fps: float, lc: LongConfig
) -> tuple[tuple[str, int, int], ...]:
    """Talking bursts, fast head turns and occlusions in the neutral stretches `free`, apart
    from each other (blinks may fall inside them, as in life)."""
    minutes = n_frames / fps / 60.0
    rates = {
        "talk": lc.talk_per_min,
        "turn": lc.fast_turns_per_min,
        "occlusion": lc.occlusions_per_min,
    }
    wanted = [k for k, rate in rates.items() for _ in range(int(rng.poisson(rate * minutes)))]
    taken: list[tuple[str, int, int]] = []
    for kind in [wanted[i] for i in rng.permutation(len(wanted))]:  # no kind crowds out another
        length = _frames(1000 * rng.uniform(*DISTRACTOR_SECONDS[kind]), fps)
        start = _place(rng, free, length)
        if start is None:
            continue
        end = start + length - 1
        if all(start > e + 2 or end < s - 2 for _, s, e in taken):
            taken.append((kind, start, end))
    return tuple(sorted(taken, key=lambda d: d[1]))


def plan_long(
    cfg: GenerateConfig, face_id: str, repeat: int, attributes: dict[str, str]
) -> LongPlanRow:
    """Event types, emotions, timings and places, then blinks, all from the video's seed."""
    lc = long_config(cfg.long or {})
    sample_id = f"{face_id}-long-{repeat}"
    seed = derive_seed(cfg.seed, sample_id)
    fps, n_frames = cfg.fps, round(lc.duration_s * cfg.fps)
    rng = substream(seed, "events")
    kinds = ["me"] * int(rng.integers(lc.micro[0], lc.micro[1] + 1))
    kinds += ["mae"] * int(rng.integers(lc.macro[0], lc.macro[1] + 1))
    kinds = [kinds[i] for i in rng.permutation(len(kinds))]
    emotions = [cfg.emotions[int(i)] for i in rng.integers(0, len(cfg.emotions), len(kinds))]
    spans = [_durations(k, substream(seed, f"timing{i}"), fps, lc) for i, k in enumerate(kinds)]
    gap = _frames(lc.gap_ms, fps)
    busy = sum(sum(s) + 1 for s in spans) + gap * (len(kinds) + 1)
    if busy > n_frames:
        raise EquimeError(
            f"long videos of {lc.duration_s:g} s cannot hold {len(kinds)} events with "
            f"{lc.gap_ms:g} ms between them; raise long.duration_s or lower long.micro/macro"
        )
    shares = rng.random(len(kinds) + 1)
    extra = np.floor(shares / shares.sum() * (n_frames - busy)).astype(int)
    events, free, t = [], [], 0
    for i, (kind, emotion, span) in enumerate(zip(kinds, emotions, spans, strict=True)):
        start = t + gap + int(extra[i])
        event = _event(
            cfg,
            lc,
            derive_seed(seed, f"event{i}"),
            kind,
            emotion,
            start,
            span,
            derive_seed(cfg.eps_x_seed, sample_id, f"event{i}", "eps_x"),
        )
        events.append(event)
        free.append((t + gap // 2, start - gap // 2))
        t = event.offset + 1
    free.append((t + gap // 2, n_frames - 1))
    blinks = _blinks(substream(seed, "blinks"), free, n_frames, fps, lc)
    distractors = _distractors(substream(seed, "distractors"), free, n_frames, fps, lc)
    take = {
        "turn_deg": lc.turn_deg,
        "roll_deg": lc.roll_deg,
        "light_drift": lc.light_drift,
        "camera_noise": lc.camera_noise,
    }
    template = load_template(cfg.prompt_template)
    return LongPlanRow(
        sample_id=sample_id,
        face_id=face_id,
        repeat=repeat,
        seed=seed,
        noise_seed=derive_seed(cfg.eps_x_seed, sample_id, "eps_x"),
        size=cfg.size,
        fps=fps,
        n_frames=n_frames,
        events=tuple(events),
        blinks=blinks,
        head_motion_px=lc.head_motion_px,
        attributes=dict(attributes),
        distractors=distractors,
        take=take,
        prompt_template=template.name,
        prompt_template_sha256=template.sha256,
    )


def build_long_plan(
    cfg: GenerateConfig, faces: list[tuple[str, dict[str, str]]]
) -> list[LongPlanRow]:
    """`per_face` long videos for every accepted face, in a stable order."""
    return [
        plan_long(cfg, face_id, repeat, attrs)
        for face_id, attrs in faces
        for repeat in range(cfg.per_face)
    ]


def event_rows(video: str, file_name: str, events: list[dict], fps: float) -> list[dict]:
    return [
        {
            "video": video,
            "file_name": file_name,
            "type": e["kind"],
            "onset": int(e["onset"]),
            "apex": int(e["apex"]),
            "offset": int(e["offset"]),
            "emotion": e["emotion"],
            "label": e["label"],
            "fz_emotion": e["fz_emotion"],
            "aus": aus_text(e["aus"]),
            "fps": fps,
        }
        for e in events
    ]


def distractor_rows(video: str, file_name: str, row: object, fps: float) -> list[dict]:
    """Blinks, talking, fast turns and occlusions: type `distractor`, the kind as label."""

    def listed(name: str) -> list:
        value = getattr(row, name, "")
        return json.loads(value) if isinstance(value, str) and value else []

    spans = [("blink", a, b) for a, b in listed("blinks")]
    spans += [tuple(d) for d in listed("distractors")]
    return [
        {
            "video": video,
            "file_name": file_name,
            "type": DISTRACTOR,
            "onset": int(a),
            "apex": None,
            "offset": int(b),
            "emotion": "",
            "label": kind,
            "fz_emotion": "",
            "aus": "",
            "fps": fps,
        }
        for kind, a, b in spans
    ]


def intervals_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per event and distractor of every video in the metadata `frame` (rows carry
    `events`, `blinks` and `distractors` JSON)."""
    rows = []
    if "events" in frame:
        for r in frame.itertuples():
            if isinstance(r.events, str) and r.events:
                rows += event_rows(str(r.id), str(r.file_name), json.loads(r.events), float(r.fps))
                rows += distractor_rows(str(r.id), str(r.file_name), r, float(r.fps))
    table = pd.DataFrame(rows, columns=INTERVAL_COLUMNS)
    table["apex"] = table["apex"].astype("Int64")  # distractors have none
    return table.sort_values(["video", "onset"], ignore_index=True)


def write_intervals(layout: DatasetLayout, frame: pd.DataFrame) -> None:
    """intervals.csv beside metadata.csv: the ground truth `equime spot` scores itself against;
    and the contact sheet: the first video's events, a row each."""
    table = intervals_table(frame)
    write_text_atomic(layout.root / "intervals.csv", table.to_csv(index=False), layout.tmp)
    events = table[table["type"] != DISTRACTOR]
    if len(events):
        write_long_contact_sheet(layout, events[events["video"] == events["video"].iloc[0]])


def write_long_contact_sheet(layout: DatasetLayout, events: pd.DataFrame, most: int = 8) -> None:
    """One row per event (type, label): frames from onset to offset and |apex - onset|. Only the
    events' frames are kept while decoding: a long video never sits in memory whole."""
    from equime.dataset.contact_sheet import contact_sheet, save_png
    from equime.video.mp4 import iter_video

    events = events.head(most)
    wanted = {t for e in events.itertuples() for t in range(e.onset, e.offset + 1)}
    kept = {}
    for t, rgb in enumerate(iter_video(layout.root / events["file_name"].iloc[0])):
        if t in wanted:
            kept[t] = rgb
        if t >= max(wanted):
            break
    rows = []
    for e in events.itertuples():
        clip = np.stack([kept[t] for t in range(e.onset, e.offset + 1)])
        rows.append((f"{e.type} {e.label}", clip, 0, e.apex - e.onset, e.offset - e.onset))
    save_png(contact_sheet(rows), layout.contact_sheet, layout.tmp)
