"""ST-CNN ("original"): one 3-D convolution, max-pool, and a wide dense head (REFERENCE s6).

Keras defaults are kept: 'valid' convolution and a Flatten before the dense layer, so the head
is large (185 M parameters at 96 frames x 64 x 64) exactly as in the authors' model.
"""

from __future__ import annotations

import torch
from torch import nn

from equime.mer.models import register_model


def _flat_size(features: nn.Module, n_frames: int, size: int) -> int:
    with torch.no_grad():
        return int(features(torch.zeros(1, 1, n_frames, size, size)).numel())


class STCNN(nn.Module):
    def __init__(self, n_classes: int, n_frames: int = 96, size: int = 64) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(1, 32, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(2),
            nn.Dropout(0.5),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(_flat_size(self.features, n_frames, size), 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(128, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_model("stcnn")
def stcnn(n_classes: int, n_frames: int = 96, size: int = 64) -> nn.Module:
    return STCNN(n_classes, n_frames, size)
