"""Flags shared by the commands that synthesise video (`generate`, `preview`), and how they merge
with a config file: a flag the user gave overrides the file; a flag left out leaves it alone."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

# CLI flag -> generator option name.
GENERATOR_FLAGS = {
    "strength": "strength",
    "head_motion": "head_motion_px",
    "light_drift": "light_drift",
    "sensor_noise": "sensor_noise",
    "asymmetry": "asymmetry",
    "appearance": "appearance",
    "blink_rate": "blink_rate",
    "motion": "motion",
    "variation": "variation",
    "take_variation": "take_variation",
    "model": "model",
    "pipeline": "pipeline",
    "steps": "steps",
    "guidance": "guidance",
    "ltx_mode": "mode",
    "offload": "offload",
    "vae_tiling": "vae_tiling",
    "text_cache": "text_cache",
}


def synthesis_flags(parser: argparse.ArgumentParser) -> None:
    """Flags that change what a video shows (default None: 'not given', so config files apply)."""
    add = parser.add_argument
    add("--emotions", help="comma list, 'paper' (the paper's five, default) or 'all' (seven)")
    add(
        "--seed",
        type=int,
        help="run seed (default 0); each sample's seed derives from it and its id",
    )
    add("--noise-seed", type=int, help="seed of eps_X only (head motion, lighting, sensor noise)")
    add("--do", metavar="AUS", help="intervention on Z, e.g. '12=0.4,R14=0,6B' (0 removes an AU)")
    add("--do-only", action="store_true", default=None, help="Z is exactly --do; nothing sampled")
    add("--size", type=int, help="output width and height in pixels (default 256)")
    add("--fps", type=float, help="frames per second (default 24)")
    add("--frames", dest="n_frames", type=int, help="frames per clip (default 161)")
    add("--generator", "--backend", dest="generator", help="video generator: warp (default), ltx")
    add("--strength", type=float, help="warp: global movement gain (default 1)")
    add("--head-motion", type=float, help="warp: eps_X head motion in pixels")
    add("--light-drift", type=float, help="warp: eps_X relative lighting drift")
    add("--sensor-noise", type=float, help="warp: eps_X sensor noise (grey levels, std)")
    add("--asymmetry", type=float, help="warp: eps_X left/right AU asymmetry (default 0.1)")
    add("--appearance", type=float, help="warp: depth of AU furrows and wrinkles (default 1)")
    add("--blink-rate", type=float, help="warp: eps_X blinks per second (default 0: none)")
    add(
        "--motion",
        help="warp: where AU motion comes from: data (default: a model fitted on real faces) "
        "or table (the hand-written FACS table)",
    )
    add(
        "--variation",
        type=float,
        help="warp: per-person spread of each AU's motion pattern (default 0.05; 0: none)",
    )
    add(
        "--take-variation",
        type=float,
        help="warp: eps_X per-video spread of each AU's motion pattern (default 0.15; 0: none)",
    )
    add("--model", help="ltx: hub id or local pipeline folder (default Lightricks/LTX-Video)")
    add(
        "--pipeline",
        choices=["i2v", "condition"],
        help="ltx: older name of --ltx-mode (i2v or condition)",
    )
    add(
        "--ltx-mode",
        choices=["keyframes", "condition", "i2v"],
        help="ltx: keyframes (default: neutral/apex/neutral pinned at the planned onset/apex/"
        "offset, timing kept), condition (face first and last), i2v (face first)",
    )
    add("--offload", action="store_true", default=None, help="ltx: model CPU offload (24 GB)")
    add("--vae-tiling", action="store_true", default=None, help="ltx: tiled VAE decode")
    add("--text-cache", help="ltx: folder of cached T5 prompt embeddings (default: user cache)")
    add(
        "--prompt-emotion",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="name the emotion in the prompt (default); --no-prompt-emotion: Z's words only",
    )
    add("--steps", type=int, help="ltx: denoising steps (default 50)")
    add("--guidance", type=float, help="ltx: guidance scale (default 3.0)")
    add(
        "--ltx-preset",
        help="ltx: named settings; 'paper' = 256 px, 161 frames, 80 steps, g 3, 24 fps",
    )
    add("--prompt-template", help="YAML prompt template (name of a bundled one, or a file)")
    add("--face-model", help="path to face_landmarker.task (default: fetched once and cached)")
    add("--config", help="YAML or JSON file of settings; flags given here override it")


def settings(args: argparse.Namespace, skip: Sequence[str]) -> dict[str, Any]:
    """Config-file values, overridden by every flag the user actually gave."""
    from equime.generation.config import load_config_file

    merged = load_config_file(args.config) if args.config else {}
    options = dict(merged.pop("generator_options", {}) or {})
    if getattr(args, "ltx_preset", None):  # a preset sits between the file and the flags
        from equime.synth.ltx import preset

        named = preset(args.ltx_preset)
        merged.update({k: v for k, v in named.items() if k != "options"})
        options.update(named["options"])
    for key, value in vars(args).items():
        if value is None or key in {"command", "run", "config", "verbose", "ltx_preset", *skip}:
            continue
        if key in GENERATOR_FLAGS:
            options[GENERATOR_FLAGS[key]] = value
        else:
            merged[key] = value
    merged["generator_options"] = options
    return merged
