"""One preprocessing path for every dataset: face alignment, time normalisation, cache keys.

Alignment: MediaPipe landmarks on the clip's onset frame (first frame when unannotated) give
one similarity transform to the canonical template (`faces.align`); every frame of the clip is
warped with that same transform, so motion inside the clip survives while head pose, face size
and position are the same across clips, datasets and people. No face on the onset frame: the
largest centred square, and `aligned` says so.

Time normalisation (resampling by time): a clip is read at `fps` frames per second of real time
whatever the source's rate, by taking the source frame nearest each time step from the
sampler's start. A 200 fps SAMM clip, a 30 fps CAS(ME)^3 clip and a 24 fps EquiME clip then give
frames the same time apart. The source's rate is the row's `fps` (loaders fill it), else the
video container's, else the dataset's documented rate (`DEFAULT_FPS`), else 30.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from equime.errors import EquimeError

PREPROCESS_VERSION = "2"  # 2: strain on the averaged flow
# recording rates given in the datasets' papers: SAMM 200 (Davison et al. 2018), CASME II 200
# (Yan et al. 2014), SMIC-HS 100 (Li et al. 2013), CAS(ME)^3 30 (Li et al. 2022), MiE-X 25
DEFAULT_FPS = {"samm": 200.0, "casme2": 200.0, "smic": 100.0, "casme3": 30.0, "miex": 25.0}
FALLBACK_FPS = 30.0
ALIGN_SIZE = 128  # side of the aligned crop (pixels) before the model's size


@dataclass(frozen=True)
class Preprocess:
    """Everything that changes a prepared input (all of it goes into the cache key)."""

    input: str = "frames"  # frames | flow (mer.inputs)
    align: bool = False  # similarity-aligned crop from the onset frame's landmarks
    fps: float | None = None  # time normalisation: frames read at this rate (None: every frame)
    crop: int = ALIGN_SIZE

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @property
    def plain(self) -> bool:
        """Today's frames path (the paper's baselines): nothing to align or resample."""
        return self.input == "frames" and not self.align and not self.fps


def fps_of(row: pd.Series | dict[str, Any]) -> float:
    """The source's frame rate: row `fps`, else the video's, else the dataset's, else 30."""
    value = _number(row.get("fps"))
    if value and value > 0:
        return value
    source = Path(str(row.get("source", "")))
    if source.is_file():
        from equime.video.mp4 import video_info

        rate = video_info(source)[2]
        if rate:
            return float(rate)
    return DEFAULT_FPS.get(str(row.get("dataset", "")), FALLBACK_FPS)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def time_indices(start: int, total: int, n: int, fps: float, target_fps: float) -> list[int]:
    """n source positions from `start`, one per 1/target_fps seconds (nearest frame), within
    the source; a slower source repeats frames, a faster one skips them."""
    step = fps / target_fps
    out = [round(start + k * step) for k in range(n)]
    return [i for i in out if 0 <= i < total]


def timed_indices(row: pd.Series, sampling: str, n: int, target_fps: float) -> list[int]:
    """The sampler's window, read at `target_fps`: it starts where the sampler starts (onset,
    apex - n/2 steps, or 0) and stops at the offset for onset-offset."""
    from equime.mer.sampling import sample_indices, source_length

    total = source_length(row)
    fps = fps_of(row)
    first = sample_indices(row, sampling, 1)[0]
    if sampling == "apex" and int(row["apex"]) >= 0:
        first = max(0, round(int(row["apex"]) - n // 2 * fps / target_fps))
    indices = time_indices(first, total, n, fps, target_fps)
    if sampling == "onset-offset" and int(row["offset"]) >= first:
        indices = [i for i in indices if i <= int(row["offset"])] or indices[:1]
    if not indices:
        raise EquimeError(f"{row['source']}: no frames to sample ({sampling} at {target_fps} fps)")
    return indices


def onset_position(row: pd.Series) -> int:
    onset = int(row.get("onset", -1))
    return onset if onset >= 0 else 0


class Aligner:
    """Landmarks on one frame -> the crop transform; one MediaPipe model per process, opened
    when first needed and closed at exit by faces.landmarker."""

    _landmarker: Any = None

    @classmethod
    def matrix(cls, frame: np.ndarray, size: int) -> tuple[np.ndarray, bool, np.ndarray | None]:
        """(2x3 matrix, whether a face was found, its landmarks in crop coordinates)."""
        from equime.faces.align import apply_matrix, centre_matrix, template_matrix

        if cls._landmarker is None:
            from equime.faces.landmarker import Landmarker

            cls._landmarker = Landmarker(max_faces=1)
        faces = cls._landmarker.detect(np.ascontiguousarray(frame))
        if not faces:
            return centre_matrix(frame.shape[0], frame.shape[1], size), False, None
        matrix = template_matrix(faces[0].landmarks, size)
        return matrix, True, apply_matrix(faces[0].landmarks, matrix)


def warp(frames: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, size, size, 3) with one 2x3 transform (bilinear, edge copy)."""
    import cv2

    return np.stack(
        [
            cv2.warpAffine(
                f, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            for f in frames
        ]
    )


def landmarker_tag() -> str:
    """The face model's identity for cache keys (its SHA-256 when known)."""
    try:
        from equime.faces.model import cached_model_path, sha256_of

        path = cached_model_path()
        return sha256_of(path)[:16] if path.is_file() else "mediapipe"
    except Exception:  # a key must never fail; the model is checked when used
        return "mediapipe"


def row_key(row: pd.Series) -> str:
    """The row's fields that change a prepared input (timing, rate, apex provenance)."""
    fields = ("onset", "apex", "offset", "n_frames", "fps", "apex_source", "dataset")
    return json.dumps({f: str(row.get(f, "")) for f in fields}, sort_keys=True)


def prep_digest(prep: Preprocess, row: pd.Series) -> str:
    extra = f"|prep{PREPROCESS_VERSION}|{prep.key()}|{row_key(row)}"
    if prep.align or prep.input == "flow":
        extra += f"|{landmarker_tag()}"
    return hashlib.sha256(extra.encode()).hexdigest()
