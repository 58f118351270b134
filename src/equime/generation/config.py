"""The typed run configuration of `equime generate`, read from a file and overridden by flags.

Fields split in two: those that shape the dataset (hashed; a folder holds one such config) and
those that only change how a run is carried out (workers, progress, model path), which may differ
on resume.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from equime.errors import EquimeError
from equime.faces.prepare import FACE_CHOICES
from equime.facs.emotions import PAPER_EMOTIONS, parse_emotions
from equime.facs.prompt import DEFAULT_TEMPLATE, load_template
from equime.facs.scm import parse_intervention
from equime.settings_file import read_settings

# What `generate` does with a source face whose expression is beyond `neutral_threshold`
# (equime.faces.expression): undo it with the warp (default: every photo stays usable, and the
# video starts from a neutral face), reject it (rejected.csv says why), or keep it as it is.
NEUTRAL_MODES = ("neutralise", "reject", "keep")

RUNTIME_FIELDS = frozenset(
    {"out", "workers", "overwrite", "face_model", "progress", "executor", "address", "retries"}
    | {"write_on_workers"}
)


@dataclass
class GenerateConfig:
    source: str = "demo"  # folder | csv | celeba | demo
    path: str | None = None
    out: str = "runs/demo"
    emotions: tuple[str, ...] = PAPER_EMOTIONS
    per_face: int = 1  # videos per (face, emotion)
    limit: int | None = None  # use at most this many faces
    balance_by: tuple[
        str, ...
    ] = ()  # equal faces per group of these attributes (gender, race, age)
    seed: int = 0
    noise_seed: int | None = None  # eps_X seed; defaults to `seed`
    size: int = 256
    fps: float = 24.0
    n_frames: int = 161
    generator: str = "warp"
    generator_options: dict[str, Any] = field(default_factory=dict)
    prompt_template: str = DEFAULT_TEMPLATE  # a bundled template's name or a YAML file
    prompt_emotion: bool = True  # the emotion word in the prompt (off: the text depends on Z only)
    intensity_required: tuple[float, float] = (0.25, 0.45)
    intensity_optional: tuple[float, float] = (0.15, 0.3)
    label_noise: float = 0.0
    do: dict[str, float] = field(default_factory=dict)  # intervention on Z
    do_only: bool = False
    margin: float = 0.6
    min_face: int = 64
    faces: str = "largest"  # a photo with several faces: use the largest, or each (faces.prepare)
    non_smiling: bool = False
    neutral: str = "neutralise"  # a source face beyond the threshold: neutralise | reject | keep
    neutral_threshold: float = 0.5  # blendshape score (0-1) above which a face is not neutral
    crf: int = 18
    preset: str = "medium"
    long: dict[str, Any] | None = None  # long videos (generation/long_config.py); None = clips
    # runtime only
    workers: int = 0  # 0 = all cores
    overwrite: bool = False
    face_model: str | None = None
    progress: bool = True
    executor: str = "local"  # local | ray
    address: str | None = None  # ray: cluster address (default: start a local one)
    retries: int = 2  # ray: attempts after a worker dies, before the sample is rejected
    # ray: workers write into `out` (shared disk) or return videos to the driver; None: they
    # write only on a cluster equime started on this machine
    write_on_workers: bool | None = None

    def __post_init__(self) -> None:
        self.emotions = parse_emotions(self.emotions)
        if self.balance_by:
            from equime.dataset.balance import parse_face_attributes

            self.balance_by = parse_face_attributes(self.balance_by)
        if isinstance(self.do, str):
            self.do = parse_intervention(self.do)
        self.intensity_required = tuple(self.intensity_required)  # type: ignore[assignment]
        self.intensity_optional = tuple(self.intensity_optional)  # type: ignore[assignment]
        if self.long is not None:
            from equime.generation.long_config import long_settings

            self.long = long_settings(self.long, self.generator)
        self.validate()

    def validate(self) -> None:
        from equime.executors import EXECUTORS

        checks = [
            (self.size >= 32 and self.size % 2 == 0, f"size {self.size} must be even and >= 32"),
            (self.fps > 0, f"fps {self.fps} must be positive"),
            (self.n_frames >= 16, f"n_frames {self.n_frames} must be at least 16"),
            (self.per_face >= 1, f"per_face {self.per_face} must be at least 1"),
            (0.0 <= self.label_noise <= 1.0, f"label_noise {self.label_noise} must be in 0-1"),
            (0 <= self.crf <= 51, f"crf {self.crf} must be in 0-51"),
            (self.margin >= 0, f"margin {self.margin} must be >= 0"),
            (self.executor in EXECUTORS, f"executor {self.executor}: use {' or '.join(EXECUTORS)}"),
            (self.address is None or self.executor == "ray", "--address needs --executor ray"),
            (self.retries >= 0, f"retries {self.retries} must be >= 0"),
            (
                self.neutral in NEUTRAL_MODES,
                f"--neutral {self.neutral}: use {', '.join(NEUTRAL_MODES)}",
            ),
            (self.faces in FACE_CHOICES, f"--faces {self.faces}: use {', '.join(FACE_CHOICES)}"),
            (
                0 < self.neutral_threshold <= 1,
                f"--neutral-threshold {self.neutral_threshold} must be in (0, 1]",
            ),
        ]
        for lo, hi in (self.intensity_required, self.intensity_optional):
            checks.append((0 <= lo <= hi <= 1, f"intensity range ({lo}, {hi}) must lie in 0-1"))
        for ok, message in checks:
            if not ok:
                raise EquimeError(message)
        from equime.synth.base import check_generator

        # Generator-specific limits (LTX: size multiple of 32, 8k+1 frames, a pipeline folder)
        # fail here, before any face is read or model loaded.
        check_generator(self.generator, self.size, self.n_frames, self.generator_options)
        template = load_template(self.prompt_template)
        if not self.prompt_emotion:
            template.render("", {"12": 0.5}, with_emotion=False)  # no emotion-free text: fail now

    @property
    def eps_x_seed(self) -> int:
        return self.seed if self.noise_seed is None else self.noise_seed

    def dataset_fields(self) -> dict[str, Any]:
        """The fields that define the dataset, as plain JSON-able data."""
        data = {k: v for k, v in asdict(self).items() if k not in RUNTIME_FIELDS}
        data["emotions"] = list(self.emotions)
        from equime.synth.base import generator_factory

        runtime = getattr(generator_factory(self.generator), "runtime_options", ())
        data["generator_options"] = {  # offload, text cache...: how, not what (LTX)
            k: v for k, v in self.generator_options.items() if k not in runtime
        }
        data["balance_by"] = list(self.balance_by)
        if not self.balance_by:  # absent when unused: runs made before it keep their fingerprint
            del data["balance_by"]
        data["path"] = str(Path(self.path).resolve()) if self.path else None
        if self.long is None:  # absent when unused: runs made before it keep their fingerprint
            del data["long"]
        if self.prompt_template == DEFAULT_TEMPLATE:
            # absent when unused: runs made before templates keep their fingerprint (the rows
            # still record the bundled template's name and hash)
            del data["prompt_template"]
        else:
            if Path(self.prompt_template).expanduser().is_file():
                data["prompt_template"] = str(Path(self.prompt_template).expanduser().resolve())
            data["prompt_template_sha256"] = load_template(self.prompt_template).sha256
        if self.faces == "largest":
            del data["faces"]  # absent when default: earlier fingerprints hold
        if self.prompt_emotion:
            del data["prompt_emotion"]  # absent when default: earlier fingerprints hold
        return json.loads(json.dumps(data))

    def fingerprint(self) -> str:
        canonical = json.dumps(self.dataset_fields(), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def load_config_file(path: str | Path) -> dict[str, Any]:
    """YAML or JSON mapping of GenerateConfig fields; unknown keys are named, not ignored."""
    data = read_settings(path, [f.name for f in fields(GenerateConfig)], "config", "setting")
    if isinstance(data.get("do"), dict):
        data["do"] = parse_intervention(",".join(f"{k}={v}" for k, v in data["do"].items()))
    return data
