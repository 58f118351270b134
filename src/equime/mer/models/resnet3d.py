"""ResNet3D: 7x7x7 stride-2 stem, six basic residual blocks (64, 64, 128/2, 128, 256/2, 256),
global average pooling and dropout (EquiME supplementary material; the authors' Keras code).
Works for any clip length and size."""

from __future__ import annotations

import torch
from torch import nn

from equime.mer.models import register_model


class BasicBlock3D(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(cout)
        self.conv2 = nn.Conv3d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv3d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm3d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet3D(nn.Module):
    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(1, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(3, stride=2, padding=1),
        )
        plan = [(64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1)]
        self.blocks = nn.Sequential(*(BasicBlock3D(i, o, s) for i, o, s in plan))
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(256, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.blocks(self.stem(x))).flatten(1)
        return self.fc(self.dropout(x))


@register_model("resnet3d")
def resnet3d(n_classes: int, n_frames: int = 96, size: int = 64) -> nn.Module:
    del n_frames, size  # fully convolutional + global pooling: any shape works
    return ResNet3D(n_classes)
