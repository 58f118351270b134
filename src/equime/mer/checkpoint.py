"""A trained recogniser on disk: model.safetensors + config.json (everything needed to rebuild it).

config.json holds: model, n_classes, classes (label names in index order), n_frames, size,
scheme, trained_on, seed, options (create_model extras), metrics and versions. Loading rebuilds
the model by name from the registry and loads the tensors strictly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from equime.errors import EquimeError
from equime.versions import versions

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
REQUIRED = ("model", "n_classes", "classes", "n_frames", "size")


def save_checkpoint(folder: str | Path, model: torch.nn.Module, config: dict[str, Any]) -> Path:
    """Write the weights and config (atomically, file by file); returns the folder."""
    from safetensors.torch import save_file

    from equime.files import write_atomic, write_text_atomic

    folder = Path(folder)
    missing = [k for k in REQUIRED if k not in config]
    if missing:
        raise EquimeError(f"{folder}: checkpoint config lacks {', '.join(missing)}")
    if len(config["classes"]) != config["n_classes"]:
        raise EquimeError(
            f"{folder}: {len(config['classes'])} class names for {config['n_classes']} classes"
        )
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"model": str(config["model"])}
    write_atomic(folder / WEIGHTS, lambda tmp: save_file(state, str(tmp), metadata=meta))
    full = {"options": {}, **config}
    full.setdefault("weights_source", getattr(model, "weights_source", "scratch"))
    full["versions"] = {**versions("torch", "numpy", "safetensors"), **config.get("versions", {})}
    write_text_atomic(folder / CONFIG, json.dumps(full, indent=2, sort_keys=True, default=str))
    return folder


def read_config(folder: str | Path) -> dict[str, Any]:
    folder = Path(folder)
    path = folder / CONFIG
    if not folder.is_dir():
        raise EquimeError(f"{folder}: checkpoint folder not found")
    if not path.is_file():
        raise EquimeError(f"{path}: missing (not an equime checkpoint folder)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EquimeError(f"{path}: corrupt checkpoint config ({exc})") from exc
    missing = [k for k in REQUIRED if not isinstance(config, dict) or k not in config]
    if missing:
        raise EquimeError(f"{path}: checkpoint config lacks {', '.join(missing)}")
    return config


def load_checkpoint(
    folder: str | Path, device: str = "cpu"
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the model from config.json and load its weights; the model is in eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from equime.mer.models import create_model

    folder = Path(folder)
    config = read_config(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise EquimeError(f"{weights}: missing")
    options = {k: v for k, v in config.get("options", {}).items() if k != "weights"}
    model = create_model(
        config["model"],
        config["n_classes"],
        n_frames=config["n_frames"],
        size=config["size"],
        **options,
    )
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise EquimeError(f"{weights}: corrupt weights ({exc})") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise EquimeError(
            f"{weights}: weights do not fit model {config['model']} ({first})"
        ) from exc
    if hasattr(model, "weights_source"):
        model.weights_source = config.get("weights_source", "scratch")  # type: ignore[assignment]
    return model.to(device).eval(), config
