"""Reading photos as plain 8-bit RGB arrays, whatever the file's mode, depth or orientation.

Everything downstream (landmarker, generators) assumes (H, W, 3) uint8 sRGB with the face upright,
so every odd case is normalised here once: EXIF orientation, grayscale, 16-bit, transparency, CMYK.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from equime.errors import InputRejected

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_WHITE = (255, 255, 255)
# Modes that carry (or may carry) an alpha channel, composited onto white.
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
# High-bit-depth single-channel modes Pillow returns for 16/32-bit grayscale and float images.
_DEEP_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes: a source photo's identity, stable across runs and machines."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise InputRejected(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    return digest.hexdigest()


def load_rgb(path: str | Path) -> np.ndarray:
    """Decode a photo to an upright (H, W, 3) uint8 RGB array, or raise a one-line InputRejected."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputRejected(str(path), "file not found") from exc
    except OSError as exc:
        raise InputRejected(str(path), f"cannot read file ({exc.strerror or exc})") from exc
    if not data:
        raise InputRejected(str(path), "empty file")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # decode now so truncated or corrupt data fails here, not later
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb_array(img)
    except InputRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise InputRejected(str(path), "image too large (decompression bomb guard)") from exc
    except UnidentifiedImageError as exc:
        raise InputRejected(str(path), "not a readable image (cannot identify image file)") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputRejected(str(path), f"not a readable image ({reason})") from exc
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InputRejected(str(path), "image has no pixels")
    return rgb


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to uint8 RGB, scaling deep images and compositing alpha on white."""
    mode = img.mode
    if mode == "P" or mode == "1":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    elif mode == "L" and "transparency" in img.info:
        img = img.convert("LA")
        mode = img.mode
    elif mode == "RGB" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = img.mode
    if mode in _DEEP_MODES:
        gray = _scale_to_uint8(np.asarray(img))
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode in _ALPHA_MODES:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        img = Image.alpha_composite(background, rgba).convert("RGB")
    elif mode in {"RGB", "CMYK"}:
        img = _to_srgb(img)
    else:  # L, YCbCr, LAB, HSV, ...
        img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.uint8)
    return np.ascontiguousarray(arr[:, :, :3])


def _to_srgb(img: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (CMYK print, wide-gamut phone photos) when possible."""
    icc = img.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(img, source, target, outputMode="RGB")
            if converted is not None:
                return converted
        except Exception as exc:  # a broken profile must not reject a usable photo
            log.debug("ignoring unusable ICC profile: %s", exc)
    return img.convert("RGB")


def _scale_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale deep grayscale to 0..255 by nominal range (unit float, 8, 16 bit), not clipping."""
    values = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    values = np.clip(values, 0.0, None)
    top = float(values.max()) if values.size else 0.0
    if arr.dtype.kind == "f" and top <= 1.0:
        full = 1.0
    elif arr.dtype.itemsize == 2 or 255 < top <= 65535:
        full = 65535.0
    elif top <= 255:
        full = 255.0
    else:
        full = top
    return np.clip(np.rint(values * (255.0 / full)), 0, 255).astype(np.uint8)
