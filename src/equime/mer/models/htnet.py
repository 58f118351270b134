"""HTNet (Wang, Zhang, Yu and Kang, "HTNet for micro-expression recognition", Neurocomputing
2024, arXiv 2307.14637): a hierarchical transformer over onset -> apex flow, with among the
highest published MEGC 2019 composite figures (UF1 0.860, UAR 0.848, LOSO).

Its idea, kept here: transformer layers first look only *inside* facial regions (local motion
of a brow, of a mouth corner), then aggregation layers (3x3 convolution, layer norm, 3x3 max
pooling with stride 2) merge neighbouring regions, so the next level relates brows to mouth.
Input (B, 3, 28, 28) flow; 7x7 patches -> 4x4 tokens; level 1 attends within each 2x2 block of
tokens (the four face quarters on the aligned crop: left / right eye and brow, left / right
mouth), level 2 across the four quarters, level 3 over the face; then mean pooling and a linear
head. The paper's width (dim 256, blocks 2-2-10) is an option; the default is narrower
(dim 64, doubling per level, blocks 2-2-2: 2.46 M parameters) so it trains on a CPU in
minutes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from equime.mer.models import register_model


class _Block(nn.Module):
    """Pre-norm transformer layer (multi-head self-attention + MLP)."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, 4 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * dim, dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class _Level(nn.Module):
    """Transformer layers applied within blocks of `block` x `block` tokens."""

    def __init__(self, dim: int, heads: int, depth: int, block: int, tokens: int, drop: float):
        super().__init__()
        self.block = block
        self.pos = nn.Parameter(torch.zeros(1, block * block, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.layers = nn.Sequential(*[_Block(dim, heads, drop) for _ in range(depth)])
        del tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        b, c, h, w = x.shape
        k = self.block
        blocks = x.reshape(b, c, h // k, k, w // k, k).permute(0, 2, 4, 3, 5, 1)
        blocks = blocks.reshape(b * (h // k) * (w // k), k * k, c)
        blocks = self.layers(blocks + self.pos)
        blocks = blocks.reshape(b, h // k, w // k, k, k, c).permute(0, 5, 1, 3, 2, 4)
        return blocks.reshape(b, c, h, w)


class _Aggregate(nn.Module):
    """Conv 3x3 -> layer norm over channels -> max pool 3x3 / 2: merges neighbouring regions."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.LayerNorm(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return F.max_pool2d(x, 3, stride=2, padding=1)


class HTNet(nn.Module):
    def __init__(
        self,
        n_classes: int,
        size: int = 28,
        patch: int = 7,
        dim: int = 64,
        heads: int = 4,
        depths: tuple[int, ...] = (2, 2, 2),
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        grid = size // patch
        levels = len(depths)
        if grid != 2 ** (levels - 1):
            raise ValueError(f"size {size} / patch {patch} must give {2 ** (levels - 1)} tokens")
        self.embed = nn.Conv2d(3, dim, patch, stride=patch)
        self.levels = nn.ModuleList()
        self.merges = nn.ModuleList()
        side, width = grid, dim
        for i, depth in enumerate(depths):
            block = 2 if side >= 2 else 1
            self.levels.append(_Level(width, heads, depth, block, side, dropout))
            if i < levels - 1:
                self.merges.append(_Aggregate(width, width * 2))
                side, width = side // 2, width * 2
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        for i, level in enumerate(self.levels):
            x = level(x)
            if i < len(self.merges):
                x = self.merges[i](x)
        return self.head(self.norm(x.mean(dim=(2, 3))))


@register_model("htnet", inputs=("flow",), lr=3e-4)
def htnet(
    n_classes: int,
    n_frames: int = 1,
    size: int = 28,
    dim: int = 64,
    heads: int = 4,
    depths: tuple[int, ...] = (2, 2, 2),
    dropout: float = 0.1,
) -> nn.Module:
    del n_frames
    return HTNet(n_classes, size, 7, dim, heads, tuple(depths), dropout)
