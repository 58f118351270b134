"""scripts/gpu_check.sh on CPU, as CI runs it: the LTX keyframe checks and both benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from equime.faces.face import Face

ROOT = Path(__file__).parents[1]


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
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout and done.stdout.count("  ok ") == 4
    assert "gpu_check: passed in" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert all(report["tiny_keyframes"]["checks"].values())
    assert report["tiny_keyframes"]["frames_per_s"] > 0 and report["warp"]["videos_per_s"] > 0
    assert report["device"] == "cpu" and "diffusers" in report["versions"]
