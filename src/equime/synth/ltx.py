"""The paper's generator: LTX-Video (diffusers), conditioned on the face, the prompt the plan made
from Z and, in `keyframes` mode (default), the warp's rendering of Z at the planned apex.

Modes (`ltx_modes.MODES`): `keyframes` pins neutral / apex / neutral frames at the planned onset,
apex and offset, so rows keep that timing (`timing_source = keyframes`) and verify can check LTX
clips like warp clips; `condition` (face first and last) and `i2v` (face first) let the model
decide when the face moves (`timing_source = none`, empty onset/apex/offset).

The model comes from a hub id or a local folder saved with `save_pretrained`; no weights ship with
EquiME. bfloat16 on CUDA; float32 on CPU (bf16 compute on CPU is hundreds of times slower). The
diffusion noise is eps_X: a `torch.Generator` seeded with the sample's noise seed, and a pinned
thread count, make the same row give the same frames. T5 prompt embeddings come from a disk cache
(`text_cache.py`); model CPU offload and VAE tiling are run-time options for small cards.

This module imports only the standard library and numpy at the top, so settings are checked (and
the generator registered) without loading torch or diffusers.
"""

from __future__ import annotations

import json
import logging
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from equime.errors import EquimeError
from equime.faces.face import Face
from equime.synth.base import SynthSpec, register_generator
from equime.synth.ltx_modes import DEFAULT_MODE, MODES

DEFAULT_MODEL = "Lightricks/LTX-Video"
BACKEND_VERSION = "2"  # bump when the same row would give other frames; resume redoes the rest
# options that change how a run uses the machine: not part of the dataset config (vae_tiling may
# change pixels, so generator_version names it and resume redoes the videos)
RUNTIME_OPTIONS = frozenset({"offload", "vae_tiling", "text_cache", "device", "threads"})
NEEDED_PARTS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# Named settings: dataset fields (size, n_frames, fps) and generator options.
PRESETS: dict[str, dict[str, Any]] = {
    # The paper: 256x256, 161 frames, 80 steps, guidance 3.0, exported at 24 fps.
    "paper": {
        "size": 256,
        "n_frames": 161,
        "fps": 24.0,
        "generator": "ltx",
        "options": {"steps": 80, "guidance": 3.0},
    },
    # A quick look at what a model does before committing to a full run.
    "draft": {
        "size": 256,
        "n_frames": 97,
        "fps": 24.0,
        "generator": "ltx",
        "options": {"steps": 25, "guidance": 3.0},
    },
}


def _nearest_frames(n: int) -> str:
    low = (n - 1) // 8 * 8 + 1
    return f"{low} or {low + 8}" if low >= 9 else str(low + 8)


def check_model(model: str) -> None:
    """A local folder must be a saved diffusers LTX pipeline; anything else must be a hub id."""
    path = Path(model).expanduser()
    if path.exists():
        index = path / "model_index.json"
        if not path.is_dir() or not index.is_file():
            raise EquimeError(
                f"{model}: not a diffusers pipeline folder (no model_index.json); give a folder "
                f"saved with save_pretrained, or a hub id such as {DEFAULT_MODEL}"
            )
        try:
            spec = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise EquimeError(f"{index}: unreadable ({exc})") from None
        kind = str(spec.get("_class_name", ""))
        if not kind.startswith("LTX"):
            raise EquimeError(f"{model}: holds a {kind or 'unknown'} pipeline, not LTX-Video")
        missing = [p for p in NEEDED_PARTS if p not in spec or not (path / p).is_dir()]
        if missing:
            raise EquimeError(f"{model}: LTX pipeline folder lacks {', '.join(missing)}")
    elif not _HUB_ID.match(model):
        raise EquimeError(f"{model}: no such model folder, and not a hub id like {DEFAULT_MODEL}")


def check_shape(size: int, n_frames: int) -> None:
    """LTX's own limits (the pipeline would silently round the frame count down to its VAE's
    temporal stride)."""
    if size % 32:
        raise EquimeError(
            f"ltx: size {size} must be a multiple of 32 (e.g. {max(32, round(size / 32) * 32)})"
        )
    if n_frames < 9 or (n_frames - 1) % 8:
        raise EquimeError(f"ltx: {n_frames} frames is not 8k+1 (try {_nearest_frames(n_frames)})")


def resolve_mode(mode: str | None, pipeline: str | None) -> str:
    """`mode`, or the older `pipeline` option (i2v, condition) that named two of the modes."""
    if mode is not None and pipeline is not None and mode != pipeline:
        raise EquimeError(f"ltx: mode '{mode}' and pipeline '{pipeline}' disagree; give only mode")
    chosen = mode or pipeline or DEFAULT_MODE
    if chosen not in MODES:
        raise EquimeError(f"ltx: mode '{chosen}' unknown; use {', '.join(MODES)}")
    return chosen


def backend_version(options: dict[str, Any]) -> str:
    """The `generator_version` these options give, known before any model loads: resume redoes
    videos recorded with another one (a new diffusers, mode, backend, warp or VAE tiling)."""
    try:
        diffusers_version = metadata.version("diffusers")
    except metadata.PackageNotFoundError:
        diffusers_version = "missing"
    mode = resolve_mode(options.get("mode"), options.get("pipeline"))
    parts = [f"diffusers {diffusers_version}", MODES[mode].pipeline, f"mode {mode}"]
    parts.append(f"equime-ltx {BACKEND_VERSION}")
    if MODES[mode].needs_apex:  # the apex keyframe is the warp's rendering: its version counts
        from equime.synth.warp import WarpGenerator

        parts.append(f"warp {WarpGenerator.version}")
    if options.get("vae_tiling"):
        parts.append("vae tiling")
    return "; ".join(parts)


def check_settings(size: int, n_frames: int, options: dict[str, Any]) -> None:
    """Everything that can be vetted before a model loads."""
    check_shape(size, n_frames)
    resolve_mode(options.get("mode"), options.get("pipeline"))
    if int(options.get("steps", 1)) < 1:
        raise EquimeError(f"ltx: steps {options['steps']} must be at least 1")
    if float(options.get("guidance", 1.0)) < 0:
        raise EquimeError(f"ltx: guidance {options['guidance']} must be >= 0")
    check_model(str(options.get("model", DEFAULT_MODEL)))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count()


@register_generator("ltx", check=check_settings)
class LtxGenerator:
    """Loads the pipeline once (per worker process) and renders one plan row per call."""

    name = "ltx"
    wants_gpu = True
    runtime_options = RUNTIME_OPTIONS
    version_for = staticmethod(backend_version)

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        mode: str | None = None,
        pipeline: str | None = None,
        steps: int = 50,
        guidance: float = 3.0,
        device: str = "auto",
        threads: int = 1,
        max_sequence_length: int = 256,
        decode_timestep: float = 0.0,
        decode_noise_scale: float | None = None,
        offload: bool = False,
        vae_tiling: bool = False,
        text_cache: str | None = None,
    ) -> None:
        import torch

        from equime.synth.text_cache import TextEmbeddingCache, default_folder

        self.mode = resolve_mode(mode, pipeline)
        self.model = str(model)
        self.steps = int(steps)
        self.guidance = float(guidance)
        self.max_sequence_length = int(max_sequence_length)
        self.decode_timestep = float(decode_timestep)
        self.decode_noise_scale = decode_noise_scale
        self.device = ("cuda" if _cuda_available() else "cpu") if device == "auto" else device
        if threads > 0:
            torch.set_num_threads(int(threads))  # same thread count -> bit-identical frames
        self.pipe = self._load(offload, vae_tiling)
        self.version = backend_version({"mode": self.mode, "vae_tiling": vae_tiling})
        self.text = TextEmbeddingCache(
            text_cache or default_folder(), self.model, self.max_sequence_length
        )
        self._warp: Any = None

    @property
    def timing_source(self) -> str:
        return MODES[self.mode].timing_source

    @property
    def row_fields(self) -> dict[str, Any]:
        """Columns this generator adds to each metadata row."""
        return {
            "ltx_model": self.model,
            "ltx_pipeline": MODES[self.mode].pipeline,
            "ltx_mode": self.mode,
            "ltx_steps": self.steps,
            "ltx_guidance": self.guidance,
        }

    def _load(self, offload: bool, vae_tiling: bool) -> Any:
        try:
            import diffusers
            import torch
            import transformers
        except ImportError as exc:
            raise EquimeError(
                f"ltx needs diffusers and transformers ({exc}); install equime[ltx]"
            ) from None

        check_model(self.model)
        cuda = self.device.startswith("cuda")
        dtype = torch.bfloat16 if cuda else torch.float32
        cls = getattr(diffusers, MODES[self.mode].pipeline)
        # EquiME shows its own progress and errors; the libraries' bars and notes are noise here
        diffusers.utils.logging.disable_progress_bar()
        diffusers.utils.logging.set_verbosity(logging.CRITICAL)
        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity(logging.CRITICAL)
        try:
            pipe = cls.from_pretrained(self.model, dtype=dtype)  # diffusers >= 0.40
        except (OSError, ValueError, TypeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EquimeError(f"{self.model}: cannot load the LTX pipeline ({first})") from None
        if cls.__name__ == "LTXConditionPipeline" and pipe.scheduler.config.get(
            "use_dynamic_shifting"
        ):
            # LTXConditionPipeline passes no `mu`: the dynamic-shifting schedule would fail.
            scheduler_cls = type(pipe.scheduler)
            pipe.scheduler = scheduler_cls.from_config(
                pipe.scheduler.config, use_dynamic_shifting=False
            )
        if cuda and offload:
            # one part on the GPU at a time (accelerate hooks): fits a 24 GB card; slower
            pipe.enable_model_cpu_offload(device=self.device)
        else:
            pipe.to(self.device)
        if vae_tiling:
            # spatial tiles above 512 px only, so at the paper's 256 px the saving comes from
            # decoding 16-frame windows (8 overlapping, blended) instead of all 161 frames at once
            pipe.vae.enable_tiling()
            pipe.vae.use_framewise_decoding = True
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def _image(self, face: Face, spec: SynthSpec) -> Any:
        """role -> the frame a condition pins: the face, or Z rendered on it by the warp."""

        def image(role: str) -> np.ndarray:
            if role == "neutral":
                return np.ascontiguousarray(face.image)
            if self._warp is None:
                from equime.synth.warp import WarpGenerator

                self._warp = WarpGenerator()
            return self._warp.apex_frame(face, spec.aus)

        return image

    def _inputs(self, face: Face, spec: SynthSpec) -> dict[str, Any]:
        import torch

        device = self.pipe._execution_device
        embeds, mask = self.text.encode(self.pipe, spec.prompt, device)
        negative, negative_mask = self.text.encode(self.pipe, spec.negative_prompt, device)
        return {
            "prompt_embeds": embeds,
            "prompt_attention_mask": mask,
            "negative_prompt_embeds": negative,
            "negative_prompt_attention_mask": negative_mask,
            "height": face.size,
            "width": face.size,
            "num_frames": spec.timeline.n_frames,
            "frame_rate": spec.timeline.fps,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            # a CPU generator gives the same noise whatever the device
            "generator": torch.Generator("cpu").manual_seed(int(spec.seed)),
            "output_type": "np",
            "max_sequence_length": self.max_sequence_length,
            "decode_timestep": self.decode_timestep,
            "decode_noise_scale": self.decode_noise_scale,
            **MODES[self.mode].inputs(spec, self._image(face, spec)),
        }

    def __call__(self, face: Face, spec: SynthSpec) -> np.ndarray:
        import torch

        check_shape(face.size, spec.timeline.n_frames)
        with torch.inference_mode():
            out = self.pipe(**self._inputs(face, spec))
        frames = np.asarray(out.frames[0], dtype=np.float32)
        if not np.isfinite(frames).all():
            raise EquimeError(
                "ltx: the pipeline returned non-finite frames (NaN); try fp32 or more steps"
            )
        expected = (spec.timeline.n_frames, face.size, face.size, 3)
        if frames.shape != expected:
            raise EquimeError(f"ltx: pipeline returned frames {frames.shape}, expected {expected}")
        return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise EquimeError(f"ltx preset '{name}' unknown; available: {', '.join(PRESETS)}")
    return PRESETS[name]
