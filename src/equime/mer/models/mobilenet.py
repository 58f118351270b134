"""MobileNetV2 hybrid: one frame of the clip, the apex, repeated to 3 channels and resized to
224x224, through MobileNetV2 features (first layers frozen), global pooling, Dense 128,
classifier (the paper's hybrid baseline).

Which frame: the authors took the middle frame (48) of the 96-frame clip; with EquiME's default
sampling (`first`) that frame lies before the onset, and in short clips it is padding. The model
registers the `apex-frame` sampler instead, so training and prediction hand it the annotated
apex (midpoint when unannotated) as the clip's only frame, whatever the dataset's sampling.

Written in plain PyTorch (torchvision cannot be installed beside the CPU torch here) with
torchvision's parameter names, so ImageNet weights saved from torchvision's `mobilenet_v2`
(`torch.save(model.state_dict(), path)` or safetensors) load from a local file. Without a file
the network starts from scratch; `weights_source` says which, and training logs and records it.

Freezing: Keras' `layers[:100]` of MobileNetV2 ends inside block 10, so blocks 0-9 (torchvision
`features[0:11]`) are frozen here; frozen batch-norm layers stay in inference mode as in Keras.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from equime.errors import EquimeError
from equime.mer.models import register_model

log = logging.getLogger(__name__)

# (expansion t, channels c, repeats n, stride s) of MobileNetV2 (Sandler et al. 2018)
SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
FROZEN_FEATURES = 11  # features[0:11]: stem + blocks 0-9, ~ Keras layers[:100]


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = [] if expand == 1 else [_conv_bn(cin, hidden, 1)]
        layers += [
            _conv_bn(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


def mobilenet_v2_features() -> nn.Sequential:
    layers: list[nn.Module] = [_conv_bn(3, 32, 3, 2)]
    cin = 32
    for t, c, n, s in SETTINGS:
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    layers.append(_conv_bn(cin, 1280, 1))
    return nn.Sequential(*layers)


def load_imagenet_features(features: nn.Sequential, path: str | Path) -> None:
    """Load torchvision-named MobileNetV2 weights (classifier ignored) from a .pth/.safetensors."""
    path = Path(path)
    if not path.is_file():
        raise EquimeError(f"{path}: MobileNetV2 weights file not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise EquimeError(f"{path}: cannot read MobileNetV2 weights ({exc})") from exc
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    wanted = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    missing, unexpected = features.load_state_dict(wanted, strict=False)
    if missing or unexpected or not wanted:
        raise EquimeError(
            f"{path}: not torchvision MobileNetV2 weights "
            f"({len(missing)} missing, {len(unexpected)} unexpected tensors)"
        )


class MobileNetHybrid(nn.Module):
    def __init__(
        self,
        n_classes: int,
        weights: str | None = None,
        image_size: int = 224,
        frozen: int = FROZEN_FEATURES,
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.features = mobilenet_v2_features()
        if weights:
            load_imagenet_features(self.features, weights)
            self.weights_source = f"ImageNet ({Path(weights).name})"
        else:
            self.weights_source = "scratch"
        log.info("MobileNetV2 hybrid: weights from %s", self.weights_source)
        self.frozen = frozen if weights else 0  # freezing random layers would make no sense
        for p in self.features[: self.frozen].parameters():
            p.requires_grad_(False)
        self.head = nn.Sequential(
            nn.Linear(1280, 128), nn.ReLU(inplace=True), nn.Linear(128, n_classes)
        )

    def train(self, mode: bool = True) -> MobileNetHybrid:
        super().train(mode)
        for layer in self.features[: self.frozen].modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frame = x[:, :, 0]  # (B, 1, H, W): the apex (the apex-frame sampler's only frame)
        frame = F.interpolate(
            frame, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False
        ).expand(-1, 3, -1, -1)
        pooled = self.features(frame).mean(dim=(2, 3))
        return self.head(pooled)


@register_model("mobilenet", sampling="apex-frame")
def mobilenet(
    n_classes: int,
    n_frames: int = 96,
    size: int = 64,
    weights: str | None = None,
    image_size: int = 224,
) -> nn.Module:
    del n_frames, size
    return MobileNetHybrid(n_classes, weights=weights, image_size=image_size)
