"""scripts/gpu_check.sh on CPU, as CI runs it: the LTX keyframe checks and both benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from equime.faces.face import Face

ROOT = Path(__file__).parents[1]


def _rate_fits(rate: float, count: int, seconds: float, step: float) -> bool:
    """`rate` (rounded to `step`) is `count` / the time that `seconds` (rounded to 1 ms) shows."""
    exact = count / seconds
    return abs(rate - exact) <= exact * 0.0005 / (seconds - 0.0005) + step / 2 + 1e-9


def test_gpu_check_passes_on_cpu(demo_faces: list[Face], tmp_path: Path) -> None:
    face = tmp_path / "face.npz"  # a prepared face: the path a machine without MediaPipe takes
    np.savez(face, image=demo_faces[0].image, landmarks=demo_faces[0].landmarks)
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("OUT", None)
    args = ["bash", str(ROOT / "scripts" / "gpu_check.sh"), "--device", "cpu"]
    args += [
        "--face",
        str(face),
        "--out",
        str(tmp_path / "out"),
        "--warp-videos",
        "2",
        "--clips",
        "1",
    ]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout and done.stdout.count("  ok ") == 4
    assert "gpu_check: passed in" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert all(report["tiny_keyframes"]["checks"].values())
    # the rates are what was timed: the counts produced over seconds that fit in the script's wall
    tiny, warp = report["tiny_keyframes"], report["warp"]
    print(f"\ngpu_check: wall {wall:.1f} s; tiny {tiny}; warp {warp}")
    assert tiny["shape"] == "1 clips x 25 frames at 64 px, 2 steps"  # --clips 1, CPU defaults
    assert 0 < tiny["seconds"] < wall
    assert _rate_fits(tiny["frames_per_s"], 25, tiny["seconds"], 0.1)
    assert warp["videos"] == 2 and warp["frames"] == 2 * 161  # --warp-videos 2, 161 frames
    assert 0 < warp["seconds"] < wall - tiny["seconds"]  # timed one after the other
    assert _rate_fits(warp["videos_per_s"], 2, warp["seconds"], 0.01)
    assert _rate_fits(warp["frames_per_s"], warp["frames"], warp["seconds"], 0.1)
    assert report["device"] == "cpu" and "diffusers" in report["versions"]
