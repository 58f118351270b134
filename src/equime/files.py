"""Atomic writes: a file in the dataset is either complete or absent, whenever the process dies."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], None], tmp_dir: Path | None = None) -> None:
    """Call `write(tmp)` on a temporary name, fsync, then rename onto `path` (same filesystem)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = tmp_dir or path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".part-", suffix=path.suffix, dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str, tmp_dir: Path | None = None) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), tmp_dir)


def write_bytes_atomic(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    write_atomic(path, lambda tmp: tmp.write_bytes(data), tmp_dir)
