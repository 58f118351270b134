"""Per-video cost of each backend and executor, and what 75,000 videos (the paper's size) take.

    python benchmarks/bench_executors.py [--per-face 3] [--workers 2] [--ltx-model FOLDER]

(a) `equime generate --demo` with the warp backend on the local executor (baseline), (b) the same
run on a local Ray cluster (started before timing: start-up is reported on its own), (c) with
`--ltx-model`, the LTX backend on the local executor with that model (the paper's shape by default).
Each run writes its own folder; (a) and (b) must produce identical datasets (checked).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from equime.executors import start_ray
from equime.generation.config import GenerateConfig
from equime.generation.pipeline import generate

PAPER_VIDEOS = 75_000


def timed_run(cfg: GenerateConfig) -> tuple[float, int]:
    start = time.perf_counter()
    report = generate(cfg)
    return time.perf_counter() - start, report.made


def per_video(label: str, seconds: float, made: int, workers: int) -> float:
    """Seconds per video per worker (what one worker needs for one video)."""
    each = seconds * workers / max(made, 1)
    hours = PAPER_VIDEOS * each / 3600
    print(
        f"{label:34s} {made:4d} videos in {seconds:6.1f} s on {workers} workers: "
        f"{each:6.2f} s/video/worker -> 75,000 videos = {hours:8.1f} worker-hours"
    )
    return each


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-face", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ltx-model", help="a local LTX pipeline folder (or hub id)")
    parser.add_argument("--ltx-steps", type=int, default=80)
    parser.add_argument("--ltx-frames", type=int, default=161)
    args = parser.parse_args()
    base = {"source": "demo", "per_face": args.per_face, "workers": args.workers, "progress": False}
    with tempfile.TemporaryDirectory() as tmp:
        local = GenerateConfig(out=f"{tmp}/local", **base)
        seconds, made = timed_run(local)
        baseline = per_video("(a) warp, local executor", seconds, made, args.workers)

        start = time.perf_counter()
        start_ray(num_cpus=args.workers)
        print(f"    ray local cluster start-up: {time.perf_counter() - start:.1f} s (not counted)")
        ray_cfg = GenerateConfig(out=f"{tmp}/ray", executor="ray", **base)
        seconds, made = timed_run(ray_cfg)
        ray_each = per_video("(b) warp, ray executor", seconds, made, args.workers)
        print(f"    ray / local = {ray_each / baseline:.2f}")
        a, b = (pd.read_parquet(Path(tmp) / d / "metadata.parquet") for d in ("local", "ray"))
        same = (
            a.set_index("id")["sha256"]
            .sort_index()
            .equals(b.set_index("id")["sha256"].sort_index())
        )
        print(f"    same dataset (ids, hashes): {same}")
        import ray

        ray.shutdown()

        if args.ltx_model:
            ltx = GenerateConfig(
                out=f"{tmp}/ltx",
                source="demo",
                limit=1,
                emotions=("happiness",),
                workers=1,
                progress=False,
                generator="ltx",
                n_frames=args.ltx_frames,
                generator_options={"model": args.ltx_model, "steps": args.ltx_steps},
            )
            seconds, made = timed_run(ltx)
            each = per_video("(c) ltx, local executor", seconds, made, 1)
            print(f"    ltx / warp = {each / baseline:.0f}")


if __name__ == "__main__":
    main()
