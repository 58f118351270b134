"""Cost of `equime protect` per video at the paper's sizes, against scoring the same video.

    python benchmarks/bench_protect.py [--videos 4] [--threads 2]

Videos: 161 frames at 256x256 (the `generate` defaults); recogniser: Simple3DCNN at the paper's
input (96 frames, 64x64; random weights: the cost does not depend on training). Baseline (b):
one forward pass (scoring). Then FGSM, PGD 10 steps (random start, the default), PGD with
--restarts 2, PGD 10 steps with --smooth 2, the blur defence (sigma 1, the report's blur rows),
scoring a flow recogniser (STSTNet, random weights: alignment on the onset frame + Farneback
onset -> apex, the transfer rows' cost), and the writes: lossless RGB H.264 (what protect
writes) vs H.264 CRF 18 (what generate writes), with their sizes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from equime.mer.clips import preprocess
from equime.mer.models import create_model
from equime.privacy.attacks import AttackSpec, perturb
from equime.privacy.measure import Recogniser, class_probabilities, gaussian_blur
from equime.video.mp4 import encode_mp4_bytes

FRAMES, SIZE, CLIP, INPUT = 161, 256, 96, 64


def videos(n: int) -> np.ndarray:
    """Smooth textures with a moving bright patch and sensor noise (compresses like a face)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    out = np.empty((n, FRAMES, SIZE, SIZE, 3), np.uint8)
    for i in range(n):
        base = 128 + 40 * np.sin(6 * xx + i) * np.cos(5 * yy - i)
        for t in range(FRAMES):
            patch = 30 * np.exp(-((yy - 0.6) ** 2 + (xx - 0.3 - t / 600) ** 2) / 0.01)
            frame = base + patch + rng.normal(0, 1.0, base.shape)
            out[i, t] = np.clip(frame, 0, 255)[..., None].astype(np.uint8)
    return out


def timed(fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model("simple3dcnn", 5, n_frames=CLIP, size=INPUT).eval()
    data = videos(args.videos)
    clips = data[:, :CLIP]
    labels = [0] * args.videos
    print(
        f"{args.videos} videos x {FRAMES} frames at {SIZE}x{SIZE}; clip {CLIP} -> {INPUT}x{INPUT}"
    )

    def score() -> None:
        with torch.no_grad():
            x = torch.from_numpy(clips).float() / 255
            model(preprocess(x, CLIP, INPUT))

    rows = {"(b) score (forward only, baseline)": timed(score, 3)}
    for name, spec in {
        "FGSM": AttackSpec(method="fgsm"),
        "PGD 10 steps (random start)": AttackSpec(method="pgd", steps=10),
        "PGD 10 steps, --restarts 2": AttackSpec(method="pgd", steps=10, restarts=2),
        "PGD 10 steps, --smooth 2": AttackSpec(method="pgd", steps=10, smooth=2.0),
    }.items():
        rows[name] = timed(lambda s=spec: perturb(s, model, clips, labels, CLIP, INPUT))
    rows["blur defence, sigma 1 (whole video)"] = timed(
        lambda: [gaussian_blur(v, 1.0) for v in data]
    )
    flow = Recogniser(
        "ststnet",
        Path("."),
        create_model("ststnet", 5, size=28).eval(),
        {"classes": list("abcde"), "n_frames": 1, "size": 28, "input": "flow"},
        "transfer",
    )
    row = pd.Series({"onset": 0, "apex": CLIP // 2, "offset": CLIP - 1, "dataset": "equime"})
    rows["score STSTNet (flow input from the video)"] = timed(
        lambda: class_probabilities(flow, list(data), [row] * len(data), torch.device("cpu"))
    )
    sizes = {}
    for name, encode in {
        "write lossless RGB H.264": lambda v: encode_mp4_bytes(v, 24.0, lossless=True),
        "write H.264 CRF 18 (generate's)": lambda v: encode_mp4_bytes(v, 24.0, crf=18),
    }.items():
        rows[name] = timed(lambda e=encode: [e(v) for v in data])
    sizes["lossless"] = len(encode_mp4_bytes(data[0], 24.0, lossless=True))
    sizes["crf18"] = len(encode_mp4_bytes(data[0], 24.0, crf=18))
    base = rows["(b) score (forward only, baseline)"]
    print("| step | s/video | x scoring |")
    print("|---|---|---|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds / args.videos:.3f} | {seconds / base:.1f} |")
    print(
        f"file size of one video: lossless {sizes['lossless'] / 1e6:.2f} MB, "
        f"CRF 18 {sizes['crf18'] / 1e6:.3f} MB ({sizes['lossless'] / sizes['crf18']:.0f}x)"
    )


if __name__ == "__main__":
    main()
