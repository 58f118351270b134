"""Does a generator move faces as real faces move? Single-AU videos against the real-data model.

For each AU: a video with Z = {AU: intensity} alone (no eps_X: no noise, head motion, asymmetry or
lighting drift) is rendered, encoded to H.264 and decoded again; MediaPipe re-detects the 478
landmarks at frame 0 and at the apex; their displacement (the video has no head motion, so none is
removed) is compared by cosine (over 478 x 2) with the real-data pattern: the AU's displacement in
py-feat's AU -> mesh model (`faces.au_mesh`, head pose removed, side band zero) projected onto the
same face. Nothing of the generator's own tables enters the pattern; the video is read by a model
the generator never saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from equime.faces.au_mesh import au_pixels, load_au_mesh
from equime.faces.face import Face
from equime.synth.base import SynthSpec
from equime.synth.timeline import Timeline
from equime.synth.warp import WarpGenerator
from equime.video.lossless import decode_bytes
from equime.video.mp4 import encode_mp4_bytes

TIMELINE = Timeline(n_frames=16, fps=24.0, onset=3, apex=8, offset=13)
QUIET = dict(
    head_motion_px=0.0,
    light_drift=0.0,
    sensor_noise=0.0,
    asymmetry=0.0,
    variation=0.0,
    take_variation=0.0,
)


@dataclass(frozen=True)
class Agreement:
    face_id: str
    number: int
    cosine: float  # rendered (read back) vs real-data pattern, 478 x 2
    moved: float  # RMS landmark displacement read back at apex, px


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def measure(
    face: Face,
    numbers: tuple[int, ...],
    landmarker,
    motion: str = "data",
    intensity: float = 1.0,
    work: Path | None = None,
) -> list[Agreement]:
    """One `Agreement` per AU in `numbers` on `face` (the MP4 goes to `work` when given)."""
    gen = WarpGenerator(motion=motion, **QUIET)
    out = []
    for number in numbers:
        frames = gen(face, SynthSpec({str(number): intensity}, "agreement", TIMELINE, seed=0))
        data = encode_mp4_bytes(frames, TIMELINE.fps)
        if work is not None:
            (Path(work) / f"{face.face_id}_{motion}_AU{number}.mp4").write_bytes(data)
        video = decode_bytes(data)
        found = [landmarker.detect(video[t]) for t in (0, TIMELINE.apex)]
        if not all(found):
            out.append(Agreement(face.face_id, number, float("nan"), float("nan")))
            continue
        ref = np.asarray(found[0][0].landmarks, np.float64)
        moved = np.asarray(found[1][0].landmarks, np.float64) - ref
        rms = float(np.sqrt((moved**2).sum(1).mean()))
        out.append(Agreement(face.face_id, number, cosine(moved, au_pixels(ref, number)), rms))
    return out


def model_numbers() -> tuple[int, ...]:
    """The AUs the real-data model has (the catalogue's, AU16 excepted)."""
    return load_au_mesh().numbers
