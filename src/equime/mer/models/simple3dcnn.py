"""Simple3DCNN: a 16-filter 3-D convolution, max-pool and a 64-unit dense head (REFERENCE s6)."""

from __future__ import annotations

import torch
from torch import nn

from equime.mer.models import register_model
from equime.mer.models.stcnn import _flat_size


class Simple3DCNN(nn.Module):
    def __init__(self, n_classes: int, n_frames: int = 96, size: int = 64) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(1, 16, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(2),
            nn.Dropout(0.3),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(_flat_size(self.features, n_frames, size), 64),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_model("simple3dcnn")
def simple3dcnn(n_classes: int, n_frames: int = 96, size: int = 64) -> nn.Module:
    return Simple3DCNN(n_classes, n_frames, size)
