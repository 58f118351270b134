"""The paper's generator: LTX-Video image-to-video (diffusers), conditioned on the face and the
prompt the plan made from Z.

`i2v` is `LTXImageToVideoPipeline` (first frame = the face); `condition` is `LTXConditionPipeline`
with the face as first AND last frame, which holds identity over the clip and matches a
micro-expression's return to neutral. The model comes from a hub id or a local folder saved with
`save_pretrained`; no weights ship with EquiME. bfloat16 on CUDA; float32 on CPU (bf16 compute on
CPU is hundreds of times slower). The diffusion noise is eps_X: a `torch.Generator` seeded with the
sample's noise seed, and a pinned thread count, make the same row give the same frames.

The video has no ground-truth timing (the model decides when the face moves): rows carry empty
onset/apex/offset and `timing_source = none` until `equime verify` estimates them.

This module imports only the standard library at the top, so settings are checked (and the
generator registered) without loading torch or diffusers.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from equime.errors import EquimeError
from equime.faces.face import Face
from equime.synth.base import SynthSpec, register_generator

DEFAULT_MODEL = "Lightricks/LTX-Video"
PIPELINES = {"i2v": "LTXImageToVideoPipeline", "condition": "LTXConditionPipeline"}
NEEDED_PARTS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# Named settings: dataset fields (size, n_frames, fps) and generator options.
PRESETS: dict[str, dict[str, Any]] = {
    # The paper: 256x256, 161 frames, 80 steps, guidance 3.0, exported at 24 fps (REFERENCE s1).
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


def check_settings(size: int, n_frames: int, options: dict[str, Any]) -> None:
    """Everything that can be vetted before a model loads."""
    check_shape(size, n_frames)
    pipeline = options.get("pipeline", "i2v")
    if pipeline not in PIPELINES:
        raise EquimeError(f"ltx: pipeline '{pipeline}' unknown; use {' or '.join(PIPELINES)}")
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
    timing_source = "none"  # no ground truth; verify's read-out estimates it
    wants_gpu = True

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        pipeline: str = "i2v",
        steps: int = 50,
        guidance: float = 3.0,
        device: str = "auto",
        threads: int = 1,
        max_sequence_length: int = 256,
        decode_timestep: float = 0.0,
        decode_noise_scale: float | None = None,
        offload: bool = False,
        vae_tiling: bool = False,
    ) -> None:
        import torch

        if pipeline not in PIPELINES:
            raise EquimeError(f"ltx: pipeline '{pipeline}' unknown; use {' or '.join(PIPELINES)}")
        self.model = str(model)
        self.pipeline_kind = pipeline
        self.steps = int(steps)
        self.guidance = float(guidance)
        self.max_sequence_length = int(max_sequence_length)
        self.decode_timestep = float(decode_timestep)
        self.decode_noise_scale = decode_noise_scale
        self.device = ("cuda" if _cuda_available() else "cpu") if device == "auto" else device
        if threads > 0:
            torch.set_num_threads(int(threads))  # same thread count -> bit-identical frames
        self.pipe = self._load(offload, vae_tiling)
        import diffusers

        self.version = f"diffusers {diffusers.__version__}; {PIPELINES[pipeline]}"

    @property
    def row_fields(self) -> dict[str, Any]:
        """Columns this generator adds to each metadata row."""
        return {
            "ltx_model": self.model,
            "ltx_pipeline": self.pipeline_kind,
            "ltx_steps": self.steps,
            "ltx_guidance": self.guidance,
        }

    def _load(self, offload: bool, vae_tiling: bool) -> Any:
        import diffusers
        import torch
        import transformers
        from packaging.version import Version

        check_model(self.model)
        cuda = self.device.startswith("cuda")
        dtype = torch.bfloat16 if cuda else torch.float32
        dtype_key = "dtype" if Version(diffusers.__version__) >= Version("0.36") else "torch_dtype"
        cls = getattr(diffusers, PIPELINES[self.pipeline_kind])
        # EquiME shows its own progress and errors; the libraries' bars and notes are noise here
        diffusers.utils.logging.disable_progress_bar()
        diffusers.utils.logging.set_verbosity(logging.CRITICAL)
        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity(logging.CRITICAL)
        try:
            pipe = cls.from_pretrained(self.model, **{dtype_key: dtype})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EquimeError(f"{self.model}: cannot load the LTX pipeline ({first})") from None
        if self.pipeline_kind == "condition" and pipe.scheduler.config.get("use_dynamic_shifting"):
            # LTXConditionPipeline passes no `mu`: the dynamic-shifting schedule would fail.
            scheduler_cls = type(pipe.scheduler)
            pipe.scheduler = scheduler_cls.from_config(
                pipe.scheduler.config, use_dynamic_shifting=False
            )
        if cuda and offload:
            pipe.enable_model_cpu_offload()  # fits a 24 GB card; slower
        else:
            pipe.to(self.device)
        if vae_tiling:
            pipe.vae.enable_tiling()
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def _inputs(self, face: Face, spec: SynthSpec) -> dict[str, Any]:
        import torch
        from PIL import Image

        n = spec.timeline.n_frames
        image = Image.fromarray(np.ascontiguousarray(face.image))
        inputs: dict[str, Any] = {
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt or None,
            "height": face.size,
            "width": face.size,
            "num_frames": n,
            "frame_rate": spec.timeline.fps,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            # a CPU generator gives the same noise whatever the device
            "generator": torch.Generator("cpu").manual_seed(int(spec.seed)),
            "output_type": "np",
            "max_sequence_length": self.max_sequence_length,
            "decode_timestep": self.decode_timestep,
            "decode_noise_scale": self.decode_noise_scale,
        }
        if self.pipeline_kind == "condition":
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

            inputs["conditions"] = [
                LTXVideoCondition(image=image, frame_index=0),
                LTXVideoCondition(image=image, frame_index=n - 1),  # back to the neutral face
            ]
        else:
            inputs["image"] = image
        return inputs

    def __call__(self, face: Face, spec: SynthSpec) -> np.ndarray:
        import torch

        check_shape(face.size, spec.timeline.n_frames)
        with torch.inference_mode():
            out = self.pipe(**self._inputs(face, spec))
        frames = np.asarray(out.frames[0], dtype=np.float32)
        expected = (spec.timeline.n_frames, face.size, face.size, 3)
        if frames.shape != expected:
            raise EquimeError(f"ltx: pipeline returned frames {frames.shape}, expected {expected}")
        return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise EquimeError(f"ltx preset '{name}' unknown; available: {', '.join(PRESETS)}")
    return PRESETS[name]
