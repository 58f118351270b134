"""load_rgb makes every photo variant upright 8-bit RGB; broken files are rejected in one line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from equime.errors import InputRejected
from equime.faces.images import file_sha256, load_rgb


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


def _gray(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"))


def test_plain_rgb_png_round_trips(tmp_path: Path, astronaut: np.ndarray) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(astronaut).save(path)
    out = load_rgb(path)
    assert out.dtype == np.uint8 and out.shape == astronaut.shape
    assert np.array_equal(out, astronaut)


def test_grayscale_becomes_three_equal_channels(tmp_path: Path, astronaut: np.ndarray) -> None:
    gray = _gray(astronaut)
    path = tmp_path / "gray.png"
    Image.fromarray(gray).save(path)
    out = load_rgb(path)
    assert out.shape == (*gray.shape, 3)
    for channel in range(3):
        assert np.array_equal(out[:, :, channel], gray)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_grayscale_is_scaled_not_clipped(
    tmp_path: Path, astronaut: np.ndarray, suffix: str
) -> None:
    gray8 = _gray(astronaut)
    gray16 = gray8.astype(np.uint16) * 257  # 255 -> 65535
    path = tmp_path / f"deep{suffix}"
    Image.fromarray(gray16).save(path)
    assert Image.open(path).mode.startswith("I")
    out = load_rgb(path)
    assert np.array_equal(out[:, :, 0], gray8)
    assert np.array_equal(out[:, :, 1], out[:, :, 2])


def test_32bit_integer_grayscale_in_8bit_range_is_kept(tmp_path: Path) -> None:
    ramp = np.tile(np.arange(256, dtype=np.int32), (20, 1))
    path = tmp_path / "int32.tif"
    Image.fromarray(ramp, mode="I").save(path)
    out = load_rgb(path)
    assert np.array_equal(out[:, :, 0], ramp.astype(np.uint8))


def test_16bit_rgb_png_keeps_its_colours(tmp_path: Path, astronaut: np.ndarray) -> None:
    deep = astronaut.astype(np.uint16) * 257
    path = tmp_path / "deep_rgb.png"
    assert cv2.imwrite(str(path), deep[:, :, ::-1])
    out = load_rgb(path)
    assert np.abs(out.astype(int) - astronaut).max() <= 1


def test_rgba_is_composited_on_white(tmp_path: Path, astronaut: np.ndarray) -> None:
    alpha = np.full(astronaut.shape[:2], 255, np.uint8)
    alpha[:, :100] = 0  # fully transparent strip
    path = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([astronaut, alpha])).save(path)
    out = load_rgb(path)
    assert out.shape == astronaut.shape
    assert (out[:, :100] == 255).all()
    assert np.array_equal(out[:, 100:], astronaut[:, 100:])


def test_gray_alpha_and_palette_transparency_go_white(
    tmp_path: Path, astronaut: np.ndarray
) -> None:
    gray = _gray(astronaut)
    alpha = np.where(np.arange(gray.shape[1]) < 50, 0, 255).astype(np.uint8)[None, :]
    la = Image.fromarray(np.dstack([gray, np.broadcast_to(alpha, gray.shape)]), mode="LA")
    la.save(tmp_path / "la.png")
    out = load_rgb(tmp_path / "la.png")
    assert (out[:, :50] == 255).all() and np.array_equal(out[:, 60:, 0], gray[:, 60:])

    pal = Image.fromarray(astronaut).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pixels = np.asarray(pal).copy()
    pixels[:40, :] = 15
    pal = Image.fromarray(pixels, mode="P")
    pal.putpalette(Image.fromarray(astronaut).convert("P", colors=16).getpalette())
    pal.info["transparency"] = 15
    pal.save(tmp_path / "pal.png", transparency=15)
    out = load_rgb(tmp_path / "pal.png")
    assert (out[:40] == 255).all()
    assert not (out[40:] == 255).all()


def test_cmyk_jpeg_looks_like_the_rgb_original(tmp_path: Path, astronaut: np.ndarray) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(astronaut).convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    out = load_rgb(path)
    assert out.shape == astronaut.shape
    assert np.abs(out.astype(int) - astronaut).mean() < 6


def test_webp_is_read(tmp_path: Path, astronaut: np.ndarray) -> None:
    path = tmp_path / "a.webp"
    Image.fromarray(astronaut).save(path, lossless=True)
    assert np.array_equal(load_rgb(path), astronaut)


def test_exif_orientation_is_applied(tmp_path: Path, astronaut: np.ndarray) -> None:
    upright = np.ascontiguousarray(astronaut[:, 56:456])  # 512 x 400, so rotation shows in shape
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # camera held sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "sideways.jpg"
    stored.save(path, quality=95, exif=exif)
    assert Image.open(path).size == (512, 400)
    out = load_rgb(path)
    assert out.shape == upright.shape
    assert np.abs(out.astype(int) - upright).mean() < 4


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"these are not the pixels you are looking for\n", "cannot identify image file"),
    ],
)
def test_non_images_are_rejected(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(InputRejected) as info:
        load_rgb(path)
    assert reason in info.value.reason
    assert info.value.path == str(path)
    assert "\n" not in str(info.value)


def test_truncated_jpeg_is_rejected(tmp_path: Path, astronaut: np.ndarray) -> None:
    whole = tmp_path / "whole.jpg"
    Image.fromarray(astronaut).save(whole, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(InputRejected) as info:
        load_rgb(cut)
    assert info.value.reason.startswith("not a readable image")
    assert "\n" not in str(info.value)


def test_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputRejected, match="file not found"):
        load_rgb(tmp_path / "nope.png")


def test_file_sha256_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # spans several read chunks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(InputRejected):
        file_sha256(tmp_path / "missing.bin")
