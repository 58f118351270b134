"""Recognition throughput: training clips/s per model, and clip loading from the cache against
raw decoding (does decoding starve training?).

    python benchmarks/bench_mer.py [--videos-per-face 2] [--frames 96] [--size 64] [--steps 3]

(a) raw: decode an EquiME MP4 (161 frames, 256x256), grayscale, resize to SIZE, first FRAMES
frames, z-score: what every epoch would cost without a cache (the baseline);
(b) cached: np.load the cached float16 clip + z-score, as `equime train` does each epoch;
(c) training: forward + backward + Adam step per model at batch 16, clips/s.
Loading must beat training by a wide margin for the cache to keep the model busy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from equime.cli import main as equime
from equime.mer.cache import ClipCache, cache_clips
from equime.mer.clips import finish, frames_to_tensor, gray_resize, read_frames
from equime.mer.datasets import load_dataset
from equime.mer.models import count_parameters, create_model, model_inputs, model_names
from equime.mer.sampling import sample_indices


def bench_loading(folder: Path, n_frames: int, size: int) -> tuple[float, float]:
    table = load_dataset("equime", folder)
    start = time.perf_counter()
    for _, row in table.iterrows():
        frames = read_frames(row["source"], sample_indices(row, "first", n_frames))
        finish(gray_resize(frames_to_tensor(frames), size), n_frames)
    raw = len(table) / (time.perf_counter() - start)
    cache = ClipCache(folder / "cache")
    paths = cache_clips(table, "first", n_frames, size, cache, progress=False)
    start = time.perf_counter()
    for _ in range(5):
        for path in paths:
            clip = torch.from_numpy(np.load(path).astype(np.float32))[None]
            finish(clip, n_frames)
    cached = 5 * len(paths) / (time.perf_counter() - start)
    return raw, cached


def bench_training(name: str, n_frames: int, size: int, steps: int) -> tuple[float, int]:
    torch.manual_seed(0)
    model = create_model(name, 5, n_frames=n_frames, size=size).train()
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    x, y = torch.randn(16, 1, n_frames, size, size), torch.randint(0, 5, (16,))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return 16 * steps / (time.perf_counter() - start), count_parameters(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos-per-face", type=int, default=2)
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        equime(
            [
                "generate",
                "--demo",
                "--per-face",
                str(args.videos_per_face),
                "--out",
                str(data),
                "--no-progress",
            ]
        )
        raw, cached = bench_loading(data, args.frames, args.size)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{args.frames} frames at {args.size}x{args.size}, batch 16"
    )
    print("| step | clips/s | vs raw decoding |\n|---|---|---|")
    print(f"| (a) raw decode + preprocess (baseline) | {raw:.1f} | 1.00 |")
    print(f"| (b) cached load + z-score | {cached:.1f} | {cached / raw:.1f} |")
    for name in [m for m in model_names() if model_inputs(m) == ("frames",)]:
        rate, params = bench_training(name, args.frames, args.size, args.steps)
        label = f"(c) train {name} ({params / 1e6:.1f} M parameters)"
        print(f"| {label} | {rate:.1f} | {rate / raw:.2f} |")


if __name__ == "__main__":
    main()
