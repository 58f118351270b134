"""MP4 writing: a faithful round trip, byte-identical re-encodes, atomic writes, clear errors."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from equime.errors import EquimeError
from equime.video.mp4 import encode_mp4_bytes, read_mp4, write_mp4


def clip(n: int = 12, size: int = 64) -> np.ndarray:
    """A moving gradient with a little texture: what x264 sees in a real clip."""
    y, x = np.mgrid[0:size, 0:size]
    frames = [
        np.stack([(x * 4 + t * 3) % 256, (y * 4) % 256, ((x + y) * 2 + t) % 256], axis=-1)
        for t in range(n)
    ]
    return np.asarray(frames, np.uint8)


def test_round_trip(tmp_path: Path) -> None:
    frames = clip()
    path = tmp_path / "sub" / "clip.mp4"
    write_mp4(path, frames, fps=30)
    back = read_mp4(path)
    assert back.shape == frames.shape and back.dtype == np.uint8
    assert np.abs(back.astype(np.int32) - frames).mean() < 3.0  # crf 18 + 4:2:0 chroma
    assert [p.name for p in path.parent.iterdir()] == ["clip.mp4"]  # no temp file left


def test_same_frames_same_bytes(tmp_path: Path) -> None:
    frames = clip()
    write_mp4(tmp_path / "a.mp4", frames, fps=30)
    write_mp4(tmp_path / "b.mp4", frames, fps=30)
    data = (tmp_path / "a.mp4").read_bytes()
    assert data == (tmp_path / "b.mp4").read_bytes()
    assert data == encode_mp4_bytes(frames, fps=30)


_HASH_SCRIPT = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from test_mp4 import clip
from equime.video.mp4 import encode_mp4_bytes
print(hashlib.sha256(encode_mp4_bytes(clip(24, 96), fps=30)).hexdigest())
"""


def test_bytes_do_not_depend_on_uninitialised_memory() -> None:
    """glibc fills fresh allocations with a chosen byte under MALLOC_PERTURB_; an encoder that read
    uninitialised memory (x264's AVX-512 mb-tree kernel did, for this very clip) would change."""
    hashes = set()
    for perturb in ("0", "77", "165"):
        env = {**os.environ, "MALLOC_PERTURB_": perturb}
        args = [sys.executable, "-c", _HASH_SCRIPT, str(Path(__file__).parent)]
        hashes.add(subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout)
    assert len(hashes) == 1


def _textured_clip(seed: int, n: int = 17, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = cv2.resize(
        rng.integers(0, 256, (size // 4, size // 4, 3)).astype(np.float32), (size, size)
    )
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    shifts = (3 * np.sin(t / 3 + seed) for t in range(n))
    frames = [cv2.remap(base, x + np.float32(dx), y, cv2.INTER_LINEAR) for dx in shifts]
    return np.clip(frames, 0, 255).astype(np.uint8)


def test_bytes_do_not_depend_on_what_was_encoded_before() -> None:
    """x264's AVX-512 kernels made this fail: 4-10 of these 60 clips changed bytes with the order
    they were encoded in, within one process (what a generate worker does all day)."""
    clips = [_textured_clip(seed) for seed in range(60)]
    seen: dict[int, set[str]] = {i: set() for i in range(len(clips))}
    for order_seed in range(6):
        order = np.random.default_rng(order_seed).permutation(len(clips))
        for i in order:
            seen[int(i)].add(hashlib.sha256(encode_mp4_bytes(clips[i], fps=24)).hexdigest())
    assert [i for i, hashes in seen.items() if len(hashes) > 1] == []


def test_lossless_gives_back_the_exact_frames_even_at_odd_sizes(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).integers(0, 256, (5, 33, 47, 3), dtype=np.uint8)
    write_mp4(tmp_path / "exact.mp4", frames, fps=24, lossless=True)
    assert np.array_equal(read_mp4(tmp_path / "exact.mp4"), frames)
    assert (tmp_path / "exact.mp4").read_bytes() == encode_mp4_bytes(frames, 24, lossless=True)


def test_bad_frames_are_refused(tmp_path: Path) -> None:
    with pytest.raises(EquimeError, match="even"):
        write_mp4(tmp_path / "odd.mp4", np.zeros((2, 63, 64, 3), np.uint8), fps=30)
    with pytest.raises(EquimeError, match="uint8"):
        write_mp4(tmp_path / "f.mp4", np.zeros((2, 64, 64, 3), np.float32), fps=30)
    assert not list(tmp_path.iterdir())
    with pytest.raises(EquimeError):
        read_mp4(tmp_path / "missing.mp4")
