"""Decoded, grayscale, resized clips cached on disk so decoding never starves training.

One .npy (float16, (T, S, S)) per clip, named by a key over the source's content (SHA-256 of a
video file's bytes; names, sizes and mtimes of a frame folder's selected images), the frame
positions, the size and the cache format version. A changed file or setting is a new key; stale
entries are simply never read. Writes are atomic, so parallel or killed runs leave whole files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from equime.mer.clips import frames_to_tensor, gray_resize, read_frames
from equime.mer.sampling import sample_indices

CACHE_VERSION = "1"
CHUNK = 64  # frames converted at a time (bounds memory for long, large sources)


def default_cache_dir() -> Path:
    base = os.environ.get("EQUIME_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "equime" / "clips" if base else Path.home() / ".cache" / "equime" / "clips"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _frame_files(row: pd.Series) -> list[Path] | None:
    from equime.video.frames import frame_files

    source = Path(row["source"])
    return frame_files(source) if source.is_dir() else None


def clip_key(row: pd.Series, indices: list[int], size: int) -> str:
    source = Path(row["source"])
    files = _frame_files(row)
    digest = hashlib.sha256(f"v{CACHE_VERSION}|{size}|{indices}".encode())
    if files is None:
        digest.update(_file_digest(source).encode())
    else:
        for i in indices:
            stat = files[i].stat()
            digest.update(f"|{files[i].name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def decode_clip(row: pd.Series, indices: list[int], size: int) -> np.ndarray:
    """Decode the chosen frames and convert them exactly as `mer.clips.preprocess` would."""
    frames = read_frames(row["source"], indices, files=_frame_files(row))
    parts = []
    with torch.no_grad():
        for start in range(0, len(frames), CHUNK):
            parts.append(gray_resize(frames_to_tensor(frames[start : start + CHUNK]), size)[0])
    return torch.cat(parts).numpy().astype(np.float16)


class ClipCache:
    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def get(self, row: pd.Series, sampling: str, n_frames: int, size: int) -> Path:
        """The cached clip's .npy path, decoding it first when absent."""
        indices = sample_indices(row, sampling, n_frames)
        key = clip_key(row, indices, size)
        path = self.folder / key[:2] / f"{key}.npy"
        if path.is_file():
            self.hits += 1
            return path
        self.misses += 1
        clip = decode_clip(row, indices, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp.npy")
        np.save(tmp, clip)
        os.replace(tmp, path)
        return path


def cache_clips(
    table: pd.DataFrame,
    sampling: str | dict[str, str],
    n_frames: int,
    size: int,
    cache: ClipCache,
    progress: bool = True,
) -> list[Path]:
    """Cache every clip of `table` (sampling per dataset name when a dict); returns the paths."""
    from tqdm import tqdm

    paths = []
    for _, row in tqdm(
        table.iterrows(), total=len(table), desc="clips", disable=not progress, leave=False
    ):
        method = sampling[row["dataset"]] if isinstance(sampling, dict) else sampling
        paths.append(cache.get(row, method, n_frames, size))
    return paths
