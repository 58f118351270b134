"""Time the embedded generator against the H.264 encode it feeds (161 frames, 256x256).

    python benchmarks/bench_generate.py [--videos N] [--threads 1]

(a) warp + encode: the full cost of one generated video; (b) encode only, same frames; (c) warp
only. Target: (a) / (b) <= 1.5 on one core, i.e. generating adds at most half an encode. The warp
runs at its defaults (warp 3.0: motion from real faces, per-person and per-video variation,
per-AU timelines, appearance shading, asymmetry, eps_X).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cv2
import numpy as np

from equime.faces.face import Face
from equime.faces.landmarker import Landmarker
from equime.faces.prepare import prepare_face
from equime.faces.sources import demo_sources
from equime.synth.base import SynthSpec
from equime.synth.timeline import Timeline, sample_au_timelines
from equime.synth.warp import WarpGenerator
from equime.video.mp4 import encode_mp4_bytes

N_FRAMES, FPS = 161, 24.0  # the defaults of `equime generate`
PROTOTYPES = (
    {"6": 0.35, "12": 0.35},
    {"1": 0.35, "4": 0.35, "15": 0.35},
    {"1": 0.35, "2": 0.35, "5": 0.35, "26": 0.35},
    {"4": 0.35, "5": 0.35, "7": 0.35, "23": 0.35},
    {"9": 0.35, "15": 0.35, "16": 0.35},
    {"R12": 0.35, "R14": 0.35},
)


def specs(n: int, first_seed: int = 0) -> list[SynthSpec]:
    """`n` videos; each seed is a new eps_X draw and a new performance (warp 3.0 computes each
    video's AU fields afresh), so timed runs use seeds the warm-up did not."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        onset = int(rng.integers(50, 80))
        timeline = Timeline(N_FRAMES, FPS, onset, onset + 5, onset + 11, hold=1)
        aus = PROTOTYPES[i % len(PROTOTYPES)]
        per_au = sample_au_timelines(rng, timeline, list(aus))  # each AU its own timing
        out.append(SynthSpec(aus, "bench", timeline, seed=first_seed + i, au_timelines=per_au))
    return out


def timed(label: str, n: int, work: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(n):
        work(i)
    seconds = time.perf_counter() - start
    print(
        f"{label:22s} {n / seconds:7.2f} videos/s {n * N_FRAMES / seconds:9.0f} frames/s"
        f"  ({seconds / n * 1000:.0f} ms/video)"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = one core)")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    with Landmarker(max_faces=1) as landmarker:
        faces: list[Face] = [prepare_face(s, landmarker, size=256) for s in demo_sources()]
    gen = WarpGenerator()
    face_of = lambda i: faces[i % len(faces)]  # noqa: E731
    warm = specs(2 * len(PROTOTYPES))
    for i, spec in enumerate(warm):  # warm the per-face caches (geometry, shading)
        gen(face_of(i), spec)
    frames = [gen(face_of(i), s) for i, s in enumerate(specs(args.videos, 1000))]
    full_jobs, warp_jobs = specs(args.videos, 2000), specs(args.videos, 3000)
    print(f"{args.videos} videos x {N_FRAMES} frames at 256x256, cv2 threads={args.threads}")
    full = timed(
        "(a) warp + encode",
        args.videos,
        lambda i: encode_mp4_bytes(gen(face_of(i), full_jobs[i]), FPS),
    )
    encode = timed("(b) encode only", args.videos, lambda i: encode_mp4_bytes(frames[i], FPS))
    warp = timed("(c) warp only", args.videos, lambda i: gen(face_of(i), warp_jobs[i]))
    print(
        f"generate / encode-only = {full / encode:.2f} (target <= 1.5); warp / encode = "
        f"{warp / encode:.2f}"
    )


if __name__ == "__main__":
    main()
