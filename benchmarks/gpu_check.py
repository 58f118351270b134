"""One short check of the LTX backend on whatever machine runs it (run by scripts/gpu_check.sh).

    python benchmarks/gpu_check.py [--device cuda|cpu] [--model DIR] [--face FACE.npz]
                                   [--save-face FACE.npz] [--out DIR]

1. the tiny random LTX pipeline (equime.synth.ltx_tiny) in keyframe mode, bf16 on CUDA / fp32 on
   CPU: checks that the three conditions sit at the planned onset / apex / offset and that a
   second generator encodes no text (the T5 cache), then prints frames/s;
2. the warp benchmark: the warp generator on planned rows of the paper's five emotions (161
   frames at 256 px, one core; no H.264, so PyAV need not be installed): videos/s and frames/s;
3. with --model, one paper-preset clip (256 px, 161 frames, 80 steps, guidance 3, keyframes) with
   its load and render time and the GPU's peak memory; --sweep adds the peak memory of model CPU
   offload and offload + VAE tiling (2 steps each: memory does not depend on the step count).

The face comes from --face (an .npz written by --save-face: image + landmarks), else from the
bundled demo photos through MediaPipe, so a machine without MediaPipe can still run the check.
Writes report.json (and the paper clip as .npy) under --out. Exit status 0 only if every check
held.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from equime.faces.face import Face
from equime.generation.config import GenerateConfig
from equime.generation.plan import plan_sample
from equime.versions import versions


def load_face(path: str | None, size: int) -> Face:
    """A prepared face at `size` px: from an .npz, else the first demo photo via MediaPipe."""
    import cv2

    if path:
        with np.load(path) as data:
            face = Face("gpu-check", data["image"], data["landmarks"])
    else:
        from equime.faces.landmarker import Landmarker
        from equime.faces.prepare import prepare_face
        from equime.faces.sources import demo_sources

        with Landmarker(max_faces=1) as landmarker:
            face = prepare_face(demo_sources()[0], landmarker, size=256)
    if face.size != size:
        image = cv2.resize(face.image, (size, size), interpolation=cv2.INTER_AREA)
        face = Face(face.face_id, image, face.landmarks * (size / face.size))
    return face


class CallSpy:
    """The real pipeline, with each call's conditions kept."""

    def __init__(self, pipe: Any) -> None:
        self.pipe, self.calls = pipe, []

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.pipe(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipe, name)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _peak_gib(device: str, reset: bool = False) -> float | None:
    if not device.startswith("cuda"):
        return None
    import torch

    if reset:
        torch.cuda.reset_peak_memory_stats()
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def tiny_keyframes(args: argparse.Namespace, face: Face, work: Path) -> dict[str, Any]:
    """The tiny pipeline in keyframe mode: conditions, text cache, frames/s."""
    from equime.synth.ltx import LtxGenerator
    from equime.synth.ltx_tiny import build_tiny_ltx

    model = build_tiny_ltx(work / "tiny-ltx")
    cfg = GenerateConfig(size=args.size, n_frames=args.frames, generator="ltx", per_face=9)
    rows = [plan_sample(cfg, face.face_id, "surprise", r, {}) for r in range(args.clips + 1)]
    options = {"model": str(model), "steps": args.steps, "device": args.device, "threads": 0}
    options["text_cache"] = str(work / "t5")
    gen = LtxGenerator(**options)
    spy = gen.pipe = CallSpy(gen.pipe)
    gen(face, rows[0].spec())  # warm-up (kernels, caches)
    _sync(args.device)
    _peak_gib(args.device, reset=True)
    start = time.perf_counter()
    for row in rows[1:]:
        frames = gen(face, row.spec())
    _sync(args.device)
    seconds = time.perf_counter() - start
    placed = [[c.frame_index for c in call["conditions"]] for call in spy.calls]
    planned = [[r.onset, r.apex, r.offset] for r in rows]
    again = LtxGenerator(**options)  # a second run: every prompt already cached
    again(face, rows[1].spec())
    checks = {
        "conditions at planned onset/apex/offset": placed == planned,
        "frames shape": frames.shape == (args.frames, args.size, args.size, 3),
        "second run encodes no text": again.text.encoded == 0 and gen.text.encoded > 0,
        "timing_source keyframes": gen.timing_source == "keyframes",
    }
    return {
        "dtype": str(gen.pipe.transformer.dtype),
        "shape": f"{args.clips} clips x {args.frames} frames at {args.size} px, {args.steps} steps",
        "seconds": round(seconds, 3),
        "frames_per_s": round(args.clips * args.frames / seconds, 1),
        "peak_gib": _peak_gib(args.device),
        "checks": checks,
    }


def warp_bench(face: Face, videos: int) -> dict[str, Any]:
    """The warp on planned rows (161 frames, 256 px, the paper's emotions), one core: videos/s."""
    import cv2

    from equime.synth.warp import WarpGenerator

    cv2.setNumThreads(1)  # one core, as benchmarks/bench_generate.py measures it
    cfg = GenerateConfig(per_face=videos)
    jobs = [
        plan_sample(cfg, face.face_id, cfg.emotions[i % len(cfg.emotions)], i, {}).spec()
        for i in range(videos)
    ]
    gen = WarpGenerator()
    for spec in jobs:  # warm the per-face field caches
        gen(face, spec)
    start = time.perf_counter()
    for spec in jobs:
        gen(face, spec)
    seconds = time.perf_counter() - start
    return {
        "videos": videos,
        "frames": videos * cfg.n_frames,
        "seconds": round(seconds, 3),
        "videos_per_s": round(videos / seconds, 2),
        "frames_per_s": round(videos * cfg.n_frames / seconds, 1),
    }


def paper_clip(args: argparse.Namespace, face: Face, out: Path) -> dict[str, Any]:
    """One clip at the paper's settings from a real model folder; optional memory sweep."""
    import torch

    from equime.synth.ltx import LtxGenerator, preset

    paper = preset("paper")
    cfg = GenerateConfig(
        size=paper["size"], n_frames=paper["n_frames"], fps=paper["fps"], generator="ltx"
    )
    row = plan_sample(cfg, face.face_id, "surprise", 0, {})
    report: dict[str, Any] = {}
    runs = [("bf16", {}, paper["options"]["steps"])]
    if args.sweep:
        runs += [("offload", {"offload": True}, 2)]
        runs += [("offload + vae tiling", {"offload": True, "vae_tiling": True}, 2)]
    for name, extra, steps in runs:
        options = {**paper["options"], "steps": steps, "model": args.model, **extra}
        _peak_gib(args.device, reset=True)
        start = time.perf_counter()
        gen = LtxGenerator(device=args.device, threads=0, **options)
        loaded = time.perf_counter() - start
        gen(face, row.spec())  # the first clip also fills the text cache
        _sync(args.device)
        start = time.perf_counter()
        frames = gen(face, row.spec())
        _sync(args.device)
        report[name] = {
            "steps": steps,
            "load_s": round(loaded, 1),
            "clip_s": round(time.perf_counter() - start, 2),
            "peak_gib": _peak_gib(args.device),
        }
        if name == "bf16":
            np.save(out / "paper_clip.npy", frames)
            report[name]["timing"] = {"onset": row.onset, "apex": row.apex, "offset": row.offset}
        del gen
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")
    parser.add_argument("--model", help="a real LTX-Video pipeline folder: one paper-preset clip")
    parser.add_argument("--sweep", action="store_true", help="with --model: offload, tiling too")
    parser.add_argument("--face", help="prepared face .npz (image, landmarks); default: MediaPipe")
    parser.add_argument("--save-face", help="write the prepared face here (for a machine without")
    parser.add_argument("--out", default=None, help="report folder (default: a temporary one)")
    parser.add_argument("--size", type=int, help="tiny run: pixels (cuda 256, cpu 64)")
    parser.add_argument("--frames", type=int, help="tiny run: frames (cuda 161, cpu 25)")
    parser.add_argument("--steps", type=int, help="tiny run: steps (cuda 10, cpu 2)")
    parser.add_argument("--clips", type=int, help="tiny run: timed clips (cuda 8, cpu 2)")
    parser.add_argument("--warp-videos", type=int, help="warp benchmark clips (cuda 12, cpu 3)")
    args = parser.parse_args()
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("gpu_check: --device cuda, but torch sees no CUDA device", file=sys.stderr)
        return 2
    defaults = (256, 161, 10, 8, 12) if cuda else (64, 25, 2, 2, 3)
    for key, value in zip(
        ("size", "frames", "steps", "clips", "warp_videos"), defaults, strict=True
    ):
        if getattr(args, key) is None:
            setattr(args, key, value)
    out = Path(args.out or tempfile.mkdtemp(prefix="gpu-check-"))
    out.mkdir(parents=True, exist_ok=True)
    face = load_face(args.face, 256)
    if args.save_face:
        np.savez(args.save_face, image=face.image, landmarks=face.landmarks)
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "versions": versions("torch", "diffusers", "transformers"),
    }
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        small = load_face(args.face, args.size) if args.size != 256 else face
        report["tiny_keyframes"] = tiny_keyframes(args, small, Path(tmp))
    report["warp"] = warp_bench(face, args.warp_videos)
    if args.model:
        report["paper_clip"] = paper_clip(args, face, out)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tiny, warp = report["tiny_keyframes"], report["warp"]
    print(
        f"device {report['device']}; {', '.join(f'{k} {v}' for k, v in report['versions'].items())}"
    )
    print(
        f"tiny LTX keyframes ({tiny['dtype']}): {tiny['frames_per_s']} frames/s "
        f"({tiny['shape']}; peak GPU memory {tiny['peak_gib'] or 'n/a'} GiB)"
    )
    for name, ok in tiny["checks"].items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    print(f"warp: {warp['videos_per_s']} videos/s, {warp['frames_per_s']} frames/s (1 core)")
    for name, run in report.get("paper_clip", {}).items():
        print(
            f"paper clip [{name}, {run['steps']} steps]: load {run['load_s']} s, "
            f"clip {run['clip_s']} s, peak {run['peak_gib']} GiB"
        )
    print(f"report: {out / 'report.json'}")
    return 0 if all(tiny["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
