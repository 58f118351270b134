"""Where clips come from: an EquiME dataset folder, a folder of videos, or a real dataset's
folders of frame images (SAMM / CASME II style: one folder of jpg/png/bmp frames per clip).

A reader lists `ClipSource`s (an id, a path, a kind); `load_clip` decodes one into frames plus the
container facts (frame rate, duration, file size, bitrate). Readers are tried in registry order;
the first whose `matches` says yes lists the clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from equime.errors import EquimeError
from equime.video.frames import IMAGE_SUFFIXES, frame_files, natural_key, read_image
from equime.video.mp4 import read_mp4, video_info

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}


@dataclass(frozen=True)
class ClipSource:
    id: str
    path: Path  # a video file, or a folder of frame images
    kind: str  # "video" | "frames"


@dataclass(frozen=True)
class Reader:
    name: str
    matches: Callable[[Path], bool]
    list_clips: Callable[[Path], list[ClipSource]]


READERS: dict[str, Reader] = {}


def register_reader(name: str, matches: Callable[[Path], bool]):
    def wrap(list_clips: Callable[[Path], list[ClipSource]]):
        READERS[name] = Reader(name, matches, list_clips)
        return list_clips

    return wrap


def _videos_under(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()),
        key=lambda p: natural_key(p.relative_to(root).as_posix()),
    )


def _is_equime(root: Path) -> bool:
    return (root / "metadata.parquet").is_file()


@register_reader("equime", _is_equime)
def equime_clips(root: Path) -> list[ClipSource]:
    import pandas as pd

    meta = pd.read_parquet(root / "metadata.parquet", columns=["id", "file_name"])
    clips = []
    for row in meta.itertuples(index=False):
        clips.append(ClipSource(str(row.id), root / str(row.file_name), "video"))
    return sorted(clips, key=lambda c: c.id)


@register_reader("videos", lambda root: any(True for _ in _videos_under(root)))
def video_clips(root: Path) -> list[ClipSource]:
    return [
        ClipSource(p.relative_to(root).with_suffix("").as_posix(), p, "video")
        for p in _videos_under(root)
    ]


def _frame_folders(root: Path) -> list[Path]:
    """Folders holding images, except report folders of `equime quality` (their PNG plots)."""
    folders = {
        p.parent for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    }
    folders = {f for f in folders if not (f / "quality.json").is_file()}
    return sorted(folders, key=lambda p: natural_key(p.relative_to(root).as_posix()))


@register_reader("frames", lambda root: bool(_frame_folders(root)))
def frame_clips(root: Path) -> list[ClipSource]:
    return [
        ClipSource(p.relative_to(root).as_posix() or p.name, p, "frames")
        for p in _frame_folders(root)
    ]


def find_clips(root: str | Path) -> tuple[str, list[ClipSource]]:
    """The reader that understands `root`, and the clips it lists."""
    root = Path(root)
    if not root.is_dir():
        raise EquimeError(f"{root}: not a folder (give a dataset, a folder of videos or of frames)")
    for reader in READERS.values():
        if reader.matches(root):
            clips = reader.list_clips(root)
            if clips:
                return reader.name, clips
    raise EquimeError(
        f"{root}: no metadata.parquet, videos ({', '.join(sorted(VIDEO_SUFFIXES))}) "
        f"or folders of frame images ({', '.join(sorted(IMAGE_SUFFIXES))}) found"
    )


def _read_video(path: Path) -> tuple[np.ndarray, float]:
    rate = video_info(path)[2]
    return read_mp4(path), rate or float("nan")


def _read_frames(folder: Path) -> np.ndarray:
    frames = [read_image(path) for path in frame_files(folder)]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise EquimeError(f"{folder}: frames differ in size ({sorted(shapes)})")
    return np.stack(frames)


def load_clip(clip: ClipSource, fps: float | None = None) -> tuple[np.ndarray, dict]:
    """(T, H, W, 3) uint8 RGB frames and the clip's facts. Frame folders carry no frame rate:
    their duration and bitrate stay empty unless `fps` is given."""
    if clip.kind == "video":
        frames, rate = _read_video(clip.path)
        size = clip.path.stat().st_size
    else:
        frames, rate = _read_frames(clip.path), float(fps) if fps else float("nan")
        size = sum(
            p.stat().st_size for p in clip.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
    duration = len(frames) / rate if rate and np.isfinite(rate) else float("nan")
    info = {
        "n_frames": len(frames),
        "width": frames.shape[2],
        "height": frames.shape[1],
        "fps": rate,
        "duration_s": duration,
        "file_size_bytes": size,
        "bitrate_kbps": size * 8 / duration / 1000 if np.isfinite(duration) else float("nan"),
    }
    return frames, info
