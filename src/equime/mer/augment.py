"""Training-time augmentation: vary what differs between people and recordings, not between
expressions, so a recogniser trained on a few faces transfers to faces it never saw.

Each training batch, per sample, seeded by the training seed:
- mirror (p = 0.5): the face flipped left/right; a flow's horizontal component changes sign.
  FACS action units are bilateral (Ekman, Friesen and Hager 2002), so a mirrored
  micro-expression keeps its label; it also undoes a one-sided habit of the training faces.
- magnitude (flow only): u, v and strain times s, log-uniform in `scale` (0.6-1.6). People and
  clips move the same action units by different amounts (a micro-expression's intensity), and
  the label does not depend on how much.
- similarity jitter: rotation up to 5 degrees, zoom up to 8 % and shift up to 4 % of the side:
  the alignment error and face-shape difference between two people on one canonical crop.
  Flow vectors are rotated and scaled with their pixels.

Off by default for `frames`: the paper's four baselines are reproduced as their authors trained
them (no augmentation in EquiME's supplementary material). Measured on generated data
(BENCHMARKS.md "Recognition across people"): STSTNet trained on one demo face and tested on the
other, UF1 0.91 -> 0.97 (mean of 5 seeds, the harder direction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augment:
    mirror: bool = True
    scale: tuple[float, float] = (0.6, 1.6)  # magnitude factor range (flow), log-uniform
    rotate: float = 5.0  # degrees, uniform in +-rotate
    zoom: float = 0.08  # log zoom, uniform in +-zoom
    shift: float = 0.04  # fraction of the side, uniform in +-shift


DEFAULT = Augment()


def _uniform(
    n: int, low: float, high: float, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Drawn on the CPU generator (one stream whatever the device), used on `device`."""
    return (low + (high - low) * torch.rand(n, generator=generator)).to(device)


def _coin(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, generator=generator) < 0.5).to(device)


def _jitter(
    b: int, aug: Augment, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per sample: angle (radians), zoom factor, shift (normalised units, [-1, 1] = the side)."""
    angle = _uniform(b, -aug.rotate, aug.rotate, generator, device) * math.pi / 180
    zoom = torch.exp(_uniform(b, -aug.zoom, aug.zoom, generator, device))
    shift = _uniform(2 * b, -aug.shift, aug.shift, generator, device).view(b, 2) * 2
    return angle, zoom, shift


def _similarity(
    x: torch.Tensor, angle: torch.Tensor, zoom: torch.Tensor, shift: torch.Tensor
) -> torch.Tensor:
    """(B, C, H, W) resampled so the content turns by -`angle`, grows by `zoom` and moves by
    -`shift` (affine_grid maps output to input); outside the input reads zero (no motion)."""
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def augment_flow(
    x: torch.Tensor, generator: torch.Generator, aug: Augment = DEFAULT
) -> torch.Tensor:
    """(B, 3, S, S) u, v, strain -> augmented copy."""
    b = x.shape[0]
    x = x.clone()
    if aug.mirror:
        flip = _coin(b, generator, x.device)
        x[flip] = torch.flip(x[flip], dims=[-1])
        x[flip, 0] = -x[flip, 0]
    low, high = math.log(aug.scale[0]), math.log(aug.scale[1])
    x = x * torch.exp(_uniform(b, low, high, generator, x.device)).view(b, 1, 1, 1).to(x.dtype)
    angle, zoom, shift = _jitter(b, aug, generator, x.device)
    x = _similarity(x, angle, zoom, shift)
    # the content turned by -angle and grew by zoom: so did every displacement vector; strain
    # (a gradient ratio) is unchanged by either
    cos, sin = torch.cos(angle).view(b, 1, 1), torch.sin(angle).view(b, 1, 1)
    z = zoom.view(b, 1, 1)
    u, v = x[:, 0], x[:, 1]
    turned = torch.stack([z * (cos * u + sin * v), z * (-sin * u + cos * v)], 1)
    return torch.cat([turned.to(x.dtype), x[:, 2:]], 1)


def augment_frames(
    x: torch.Tensor, generator: torch.Generator, aug: Augment = DEFAULT
) -> torch.Tensor:
    """(B, 1, T, S, S) clip -> mirrored and jittered copy (one transform over the whole clip)."""
    b, c, t, h, w = x.shape
    x = x.clone()
    if aug.mirror:
        flip = _coin(b, generator, x.device)
        x[flip] = torch.flip(x[flip], dims=[-1])
    flat = _similarity(x.reshape(b, c * t, h, w), *_jitter(b, aug, generator, x.device))
    return flat.reshape(b, c, t, h, w)
