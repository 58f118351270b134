"""STSTNet (Liong, See, Wong and Phan, "Shallow triple stream three-dimensional CNN (STSTNet)
for micro-expression recognition", FG 2019; the MEGC 2019 composite baseline).

Input: onset -> apex flow (B, 3, 28, 28): horizontal, vertical, optical strain (mer.flow).
Three shallow streams of 3x3 convolutions with 3, 5 and 8 filters (ReLU, batch norm, 3x3 max
pooling with stride 3, 'same' padding), concatenated to 16 channels, 2x2 average pooling,
flattened into one dense layer: 1,683 parameters at 28 x 28, 3 classes.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from equime.mer.models import register_model


class _Stream(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(channels)
        self.pool = nn.MaxPool2d(3, stride=3, padding=1)  # 'same': 28 -> 10

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.norm(torch.relu(self.conv(x))))


class STSTNet(nn.Module):
    def __init__(self, n_classes: int, size: int = 28) -> None:
        super().__init__()
        self.streams = nn.ModuleList(_Stream(c) for c in (3, 5, 8))
        self.pool = nn.AvgPool2d(2)
        side = math.ceil(size / 3) // 2
        self.fc = nn.Linear(16 * side * side, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([s(x) for s in self.streams], 1)
        return self.fc(self.pool(x).flatten(1))


@register_model("ststnet", inputs=("flow",), lr=1e-3)
def ststnet(n_classes: int, n_frames: int = 1, size: int = 28) -> nn.Module:
    del n_frames
    return STSTNet(n_classes, size)
