"""Simple3DCNN: a 16-filter 3-D convolution, max-pool and a 64-unit dense head (EquiME supplementary
material; the authors' Keras code, github.com/noobasuna/equime)."""

from __future__ import annotations

from torch import nn

from equime.mer.models import register_model
from equime.mer.models.stcnn import ConvDense


@register_model("simple3dcnn")
def simple3dcnn(n_classes: int, n_frames: int = 96, size: int = 64) -> nn.Module:
    return ConvDense(n_classes, n_frames, size, filters=16, dense=64, dropout=0.3)
