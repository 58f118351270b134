"""Clip preprocessing (differentiable), frame reading from videos and frame folders."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from equime.errors import EquimeError
from equime.mer.clips import count_frames, frame_files, preprocess, read_frames
from equime.video.mp4 import write_mp4


def test_preprocess_shape_zscore_padding_and_gradient() -> None:
    torch.manual_seed(0)
    frames = torch.rand(2, 10, 48, 40, 3, requires_grad=True)
    x = preprocess(frames, n_frames=16, size=32)
    assert x.shape == (2, 1, 16, 32, 32) and x.dtype == torch.float32
    real = x[:, 0, :10]
    assert torch.allclose(real.mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(real.std(dim=(1, 2, 3), unbiased=False), torch.ones(2), atol=1e-3)
    assert torch.count_nonzero(x[:, 0, 10:]) == 0  # zero-padded after z-scoring
    x[:, 0, 3, 5, 5].sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0  # differentiable to RGB


def test_preprocess_trims_and_uses_luma() -> None:
    frames = torch.zeros(1, 30, 8, 8, 3)
    frames[..., 1] = torch.linspace(0, 1, 30)[None, :, None, None]  # green ramp over time
    x = preprocess(frames, n_frames=12, size=8)
    assert x.shape == (1, 1, 12, 8, 8)
    expected = torch.linspace(0, 1, 30)[:12] * 0.587
    expected = (expected - expected.mean()) / expected.std(unbiased=False)
    assert torch.allclose(x[0, 0, :, 0, 0], expected, atol=1e-3)


def test_read_video_and_frame_folder(tmp_path) -> None:
    rng = np.random.default_rng(0)
    frames = np.repeat(np.arange(12, dtype=np.uint8)[:, None, None, None] * 20, 32, 1)
    frames = np.repeat(np.repeat(frames, 32, 2), 3, 3) + rng.integers(
        0, 3, (12, 32, 32, 3), dtype=np.uint8
    )
    write_mp4(tmp_path / "clip.mp4", frames, fps=24, crf=0)
    video = read_frames(tmp_path / "clip.mp4")
    assert video.shape == (12, 32, 32, 3) and count_frames(tmp_path / "clip.mp4") == 12
    picked = read_frames(tmp_path / "clip.mp4", [2, 5])
    assert picked.shape[0] == 2 and abs(int(picked[1].mean()) - int(frames[5].mean())) <= 3
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (1, 2, 10):  # natural order: img2 before img10
        cv2.imwrite(str(folder / f"img{i}.png"), np.full((16, 16, 3), i * 10, np.uint8))
    assert [p.name for p in frame_files(folder)] == ["img1.png", "img2.png", "img10.png"]
    stack = read_frames(folder, [1, 2])
    assert stack.shape == (2, 16, 16, 3) and stack[1, 0, 0, 0] == 100
    with pytest.raises(EquimeError, match="not found"):
        read_frames(tmp_path / "missing.mp4")
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(EquimeError, match="cannot read video"):
        read_frames(tmp_path / "broken.mp4")
