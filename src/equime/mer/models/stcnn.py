"""ST-CNN ("original"): one 3-D convolution, max-pool, and a wide dense head (EquiME
supplementary material; the authors' Keras code).

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


class ConvDense(nn.Module):
    """Conv3D -> ReLU -> MaxPool3D(2) -> Dropout -> Flatten -> Dense -> Dropout -> logits: the
    shape of both ST-CNN and Simple3DCNN, which differ only in widths and dropout."""

    def __init__(
        self, n_classes: int, n_frames: int, size: int, filters: int, dense: int, dropout: float
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(1, filters, kernel_size=3),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(2),
            nn.Dropout(dropout),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(_flat_size(self.features, n_frames, size), dense),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(dense, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_model("stcnn")
def stcnn(n_classes: int, n_frames: int = 96, size: int = 64) -> nn.Module:
    return ConvDense(n_classes, n_frames, size, filters=32, dense=128, dropout=0.5)
