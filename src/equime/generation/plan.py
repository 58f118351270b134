"""The plan: one row per (face, emotion, repeat), fixed before any video is made.

A row holds everything the generator needs (Z, label, timeline, seeds, prompt), so a run can be
inspected, balanced, resumed and distributed, and the same row always gives the same video.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from equime.facs.prompt import load_template
from equime.facs.scm import (
    IntensityConfig,
    apply_label_noise,
    derive_seed,
    f_z,
    intervene,
    sample_z,
    substream,
)
from equime.generation.config import GenerateConfig
from equime.synth.base import SynthSpec
from equime.synth.timeline import Timeline, sample_au_timelines, sample_timeline


@dataclass(frozen=True)
class PlanRow:
    sample_id: str
    face_id: str
    target_emotion: str
    repeat: int
    seed: int  # drives Z, timing and label noise
    noise_seed: int  # drives eps_X only
    aus: dict[str, float]
    fz_emotion: str
    fz_score: float
    label: str
    label_noise: bool
    prompt: str
    size: int
    fps: float
    n_frames: int
    onset: int
    apex: int
    offset: int
    hold: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    negative_prompt: str = ""
    prompt_template: str = ""
    prompt_template_sha256: str = ""
    au_timing: dict[str, list[int]] = field(default_factory=dict)  # code -> [onset, apex,
    # offset, hold] frames, inside the clip's onset-offset (`synth.timeline.sample_au_timelines`)

    @property
    def timeline(self) -> Timeline:
        return Timeline(self.n_frames, self.fps, self.onset, self.apex, self.offset, self.hold)

    @property
    def au_timelines(self) -> dict[str, Timeline]:
        return {
            code: Timeline(self.n_frames, self.fps, *(int(v) for v in values))
            for code, values in self.au_timing.items()
        }

    def spec(self) -> SynthSpec:
        return SynthSpec(
            self.aus,
            self.label,
            self.timeline,
            self.noise_seed,
            self.prompt,
            self.negative_prompt,
            self.au_timelines or None,
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Drawn:
    """Z, f(Z) and the label Y of one expression."""

    aus: dict[str, float]
    fz_emotion: str
    fz_score: float
    label: str
    label_noise: bool


def draw_expression(
    cfg: GenerateConfig, emotion: str, seed: int, intensity: IntensityConfig
) -> Drawn:
    """The SCM's draw for `emotion`: Z (with the run's do()), f(Z) and Y with label noise, each
    from its own substream of `seed`. Short clips and a long video's events share it, so an
    event is drawn exactly as a clip would be."""
    z = sample_z(emotion, substream(seed, "z"), intensity)
    if cfg.do or cfg.do_only:
        z = intervene(z, cfg.do, only=cfg.do_only)
    fz_label, fz_score = f_z(z)
    label, flipped = apply_label_noise(
        fz_label, cfg.emotions, cfg.label_noise, substream(seed, "label")
    )
    return Drawn(z, fz_label, round(fz_score, 4), label, flipped)


def plan_sample(
    cfg: GenerateConfig, face_id: str, emotion: str, repeat: int, attributes: dict[str, str]
) -> PlanRow:
    sample_id = f"{face_id}-{emotion}-{repeat}"
    seed = derive_seed(cfg.seed, sample_id)
    intensity = IntensityConfig(cfg.intensity_required, cfg.intensity_optional)
    drawn = draw_expression(cfg, emotion, seed, intensity)
    z = drawn.aus
    timeline = sample_timeline(substream(seed, "timing"), cfg.n_frames, cfg.fps)
    per_au = sample_au_timelines(substream(seed, "au_timing"), timeline, list(z))
    template = load_template(cfg.prompt_template)
    return PlanRow(
        sample_id=sample_id,
        face_id=face_id,
        target_emotion=emotion,
        repeat=repeat,
        seed=seed,
        noise_seed=derive_seed(cfg.eps_x_seed, sample_id, "eps_x"),
        aus=z,
        fz_emotion=drawn.fz_emotion,
        fz_score=drawn.fz_score,
        label=drawn.label,
        label_noise=drawn.label_noise,
        prompt=template.render(emotion, z, cfg.prompt_emotion),
        size=cfg.size,
        fps=cfg.fps,
        n_frames=cfg.n_frames,
        onset=timeline.onset,
        apex=timeline.apex,
        offset=timeline.offset,
        hold=timeline.hold,
        attributes=dict(attributes),
        negative_prompt=template.negative_for(z),  # never forbids a requested AU
        prompt_template=template.name,
        prompt_template_sha256=template.sha256,
        au_timing={c: [t.onset, t.apex, t.offset, t.hold] for c, t in per_au.items()},
    )


def build_plan(cfg: GenerateConfig, faces: list[tuple[str, dict[str, str]]]) -> list[PlanRow]:
    """Rows for every accepted face (id, attributes), in a stable order."""
    return [
        plan_sample(cfg, face_id, emotion, repeat, attrs)
        for face_id, attrs in faces
        for emotion in cfg.emotions
        for repeat in range(cfg.per_face)
    ]
