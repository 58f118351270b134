"""Training-time augmentation (mer.augment): transformed flow stays a true flow of the
transformed face, so the label still holds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from equime.mer.augment import Augment, augment_flow, augment_frames

S = 28


def _grid() -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised pixel-centre coordinates, x right and y down, in [-1, 1]."""
    c = (torch.arange(S, dtype=torch.float32) + 0.5) / S * 2 - 1
    y, x = torch.meshgrid(c, c, indexing="ij")
    return x, y


def _field(u: torch.Tensor, v: torch.Tensor, n: int = 8) -> torch.Tensor:
    strain = torch.full_like(u, 0.3)
    return torch.stack([u, v, strain]).unsqueeze(0).repeat(n, 1, 1, 1)


def _inner(x: torch.Tensor) -> torch.Tensor:
    """The centre, away from what a rotation or zoom brings in from outside the input."""
    return x[..., 8:-8, 8:-8]


@pytest.mark.parametrize(
    "u_of, v_of, zoom",
    [
        (lambda x, y: x, lambda x, y: y, 0.1),  # expansion: the same under rotation and zoom
        (lambda x, y: -y, lambda x, y: x, 0.0),  # rotation: the same under rotation
    ],
    ids=["expansion", "rotation"],
)
def test_flow_vectors_turn_with_their_pixels(u_of, v_of, zoom: float) -> None:
    x, y = _grid()
    field = _field(u_of(x, y), v_of(x, y))
    aug = Augment(mirror=False, scale=(1.0, 1.0), rotate=30.0, zoom=zoom, shift=0.0)
    out = augment_flow(field, torch.Generator().manual_seed(0), aug)
    assert not torch.allclose(out[:, :2], field[:, :2])  # resampled: the corners came from outside
    # bilinear resampling of a linear field is exact inside: vectors wrongly turned would
    # differ by sin(30 deg) * |p| there
    assert torch.allclose(_inner(out[:, :2]), _inner(field[:, :2]), atol=1e-4)
    assert torch.allclose(_inner(out[:, 2]), _inner(field[:, 2]), atol=1e-5)  # strain unchanged


def test_a_uniform_flow_turns_by_the_angle() -> None:
    field = _field(torch.ones(S, S), torch.zeros(S, S), n=64)
    aug = Augment(mirror=False, scale=(1.0, 1.0), rotate=20.0, zoom=0.0, shift=0.0)
    out = _inner(augment_flow(field, torch.Generator().manual_seed(1), aug))
    u, v = out[:, 0].mean((1, 2)), out[:, 1].mean((1, 2))
    assert torch.allclose(u**2 + v**2, torch.ones(64), atol=1e-4)  # length kept
    assert v.abs().max() > 0.2  # turned by up to 20 degrees (sin 20 = 0.34)
    assert v.abs().max() <= np.sin(np.radians(20)) + 1e-4


def test_mirror_flips_and_negates_horizontal_motion() -> None:
    x, _ = _grid()
    # the subject's one side moves right: mirrored, the other side moves left
    u = torch.where(x < 0, torch.ones(S, S), torch.zeros(S, S))
    field = _field(u, torch.zeros(S, S), n=32)
    aug = Augment(mirror=True, scale=(1.0, 1.0), rotate=0.0, zoom=0.0, shift=0.0)
    out = augment_flow(field, torch.Generator().manual_seed(2), aug)
    kept = [torch.allclose(o, field[0], atol=1e-5) for o in out]
    mirrored = torch.where(x > 0, -torch.ones(S, S), torch.zeros(S, S))
    flipped = [torch.allclose(o[0], mirrored, atol=1e-5) for o in out]
    assert all(k or f for k, f in zip(kept, flipped, strict=True))
    assert 4 <= sum(flipped) <= 28  # about half


def test_magnitude_scales_every_channel_alike() -> None:
    field = _field(torch.ones(S, S), torch.ones(S, S), n=64)
    aug = Augment(mirror=False, scale=(0.6, 1.6), rotate=0.0, zoom=0.0, shift=0.0)
    out = _inner(augment_flow(field, torch.Generator().manual_seed(3), aug))
    factor = out[:, 0].mean((1, 2))
    assert torch.allclose(out[:, 1].mean((1, 2)), factor, atol=1e-5)
    assert torch.allclose(out[:, 2].mean((1, 2)), 0.3 * factor, atol=1e-5)
    assert factor.min() >= 0.6 - 1e-5 and factor.max() <= 1.6 + 1e-5
    assert factor.max() - factor.min() > 0.5


def test_augmentation_is_seeded() -> None:
    field = torch.randn(16, 3, S, S)
    clip = torch.randn(4, 1, 6, S, S)
    for fn, x in ((augment_flow, field), (augment_frames, clip)):
        a = fn(x, torch.Generator().manual_seed(7))
        b = fn(x, torch.Generator().manual_seed(7))
        c = fn(x, torch.Generator().manual_seed(8))
        assert torch.equal(a, b) and not torch.equal(a, c)
        assert a.shape == x.shape


def test_frames_move_as_one_clip() -> None:
    still = torch.randn(1, 1, 1, S, S).repeat(6, 1, 5, 1, 1)  # five identical frames
    out = augment_frames(still, torch.Generator().manual_seed(4))
    for clip in out:
        assert all(torch.equal(clip[0, 0], clip[0, t]) for t in range(5))


def test_flow_trains_augmented_and_frames_as_the_authors_did() -> None:
    from equime.mer.train import TrainConfig

    def resolved(model: str, **kw) -> bool | None:
        cfg = TrainConfig(data="d", model=model, out="o", **kw)
        cfg.validate()
        return cfg.augment

    assert resolved("ststnet") is True
    assert resolved("simple3dcnn") is False
    assert resolved("ststnet", augment=False) is False
    assert resolved("stcnn", augment=True) is True
