"""Decoded, grayscale, resized clips cached on disk so decoding never starves training.

One .npy (float16, (T, S, S)) per clip, named by a key over the source's content (SHA-256 of a
video file's bytes; names, sizes and mtimes of a frame folder's selected images), the frame
positions, the size and the cache format version. A changed file or setting is a new key; stale
entries are simply never read. Writes are atomic, so parallel or killed runs leave whole files.

Prepared inputs (mer.preprocess: aligned and / or time-normalised frames, or flow) add every
preprocessing setting, the row's timing fields and the face model's hash to the key; flow
entries are float32 (3, S, S) with a `.json` beside them saying which apex was used and whether
it was estimated.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from equime.mer.clips import (
    frames_to_tensor,
    gray_resize,
    read_frames,
    row_frame_files,
    row_frames,
)
from equime.mer.preprocess import Preprocess, prep_digest
from equime.mer.sampling import sample_indices, source_length

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


def clip_key(row: pd.Series, indices: list[int], size: int) -> str:
    source = Path(row["source"])
    files = row_frame_files(row)
    digest = hashlib.sha256(f"v{CACHE_VERSION}|{size}|{indices}".encode())
    if files is None:
        digest.update(_file_digest(source).encode())
    else:
        for i in indices:
            stat = files[i].stat()
            digest.update(f"|{files[i].name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def gray_clip(frames: np.ndarray, size: int) -> np.ndarray:
    parts = []
    with torch.no_grad():
        for start in range(0, len(frames), CHUNK):
            parts.append(gray_resize(frames_to_tensor(frames[start : start + CHUNK]), size)[0])
    return torch.cat(parts).numpy().astype(np.float16)


def prepared_indices(row: pd.Series, sampling: str, n_frames: int, prep: Preprocess) -> list[int]:
    """The frame positions a prepared input depends on."""
    if prep.input == "flow":
        return list(range(source_length(row)))
    if prep.fps:
        from equime.mer.preprocess import timed_indices

        return timed_indices(row, sampling, n_frames, prep.fps)
    return sample_indices(row, sampling, n_frames)


def prepare_clip(
    row: pd.Series, sampling: str, n_frames: int, size: int, prep: Preprocess
) -> tuple[np.ndarray, dict]:
    """A prepared input and what was used: aligned / time-normalised grayscale frames
    (T, S, S) float16, or flow (3, S, S) float32."""
    if prep.input == "flow":
        from equime.mer.flow import prepare_flow

        return prepare_flow(row, prep, size)
    from equime.mer.preprocess import Aligner, onset_position, warp

    indices = prepared_indices(row, sampling, n_frames, prep)
    info: dict = {"indices": indices}
    if not prep.align:
        return gray_clip(row_frames(row, indices), size), info
    onset = min(onset_position(row), source_length(row) - 1)
    frames = row_frames(row, [onset, *indices])
    matrix, aligned, _ = Aligner.matrix(frames[0], prep.crop)
    info["aligned"] = aligned
    return gray_clip(warp(frames[1:], matrix, prep.crop), size), info


def decode_clip(row: pd.Series, indices: list[int], size: int) -> np.ndarray:
    """Decode the chosen frames and convert them exactly as `mer.clips.preprocess` would."""
    frames = read_frames(row["source"], indices, files=row_frame_files(row))
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

    def get(
        self,
        row: pd.Series,
        sampling: str,
        n_frames: int,
        size: int,
        prep: Preprocess | None = None,
    ) -> Path:
        """The cached clip's .npy path, decoding (and preparing) it first when absent."""
        if prep is None or prep.plain:
            indices = sample_indices(row, sampling, n_frames)
            key = clip_key(row, indices, size)
        else:
            indices = prepared_indices(row, sampling, n_frames, prep)
            base = clip_key(row, indices, size)
            key = hashlib.sha256(f"{base}|{prep_digest(prep, row)}".encode()).hexdigest()[:32]
        path = self.folder / key[:2] / f"{key}.npy"
        if path.is_file():
            self.hits += 1
            return path
        self.misses += 1
        info: dict = {}
        if prep is None or prep.plain:
            clip = decode_clip(row, indices, size)
        else:
            clip, info = prepare_clip(row, sampling, n_frames, size, prep)
        path.parent.mkdir(parents=True, exist_ok=True)
        if info:
            from equime.files import write_text_atomic

            write_text_atomic(path.with_suffix(".json"), json.dumps(info))
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp.npy")
        np.save(tmp, clip)
        os.replace(tmp, path)
        return path


def clip_info(path: Path) -> dict:
    """What a prepared entry used (apex, estimated, aligned); {} for plain clips."""
    side = Path(path).with_suffix(".json")
    return json.loads(side.read_text()) if side.is_file() else {}


def cache_clips(
    table: pd.DataFrame,
    sampling: str | dict[str, str],
    n_frames: int,
    size: int,
    cache: ClipCache,
    progress: bool = True,
    prep: Preprocess | None = None,
) -> list[Path]:
    """Cache every clip of `table` (sampling per dataset name when a dict); returns the paths."""
    from tqdm import tqdm

    paths = []
    for _, row in tqdm(
        table.iterrows(), total=len(table), desc="clips", disable=not progress, leave=False
    ):
        method = sampling[row["dataset"]] if isinstance(sampling, dict) else sampling
        paths.append(cache.get(row, method, n_frames, size, prep))
    return paths
