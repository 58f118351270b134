"""Frames per second of each quality metric, as ratios against decoding the same frames.

    python benchmarks/bench_quality.py [--frames 161] [--size 256] [--threads 1] [--clip]
    python benchmarks/bench_quality.py --definitions DATASET [DATASET ...] [--authors DIR]

The clip: scikit-image's astronaut, cropped to the face and resized to SIZE, drifting by a pixel
and with sensor noise, encoded as H.264 like `equime generate` (161 frames, 24 fps). Baseline:
decoding it. Also timed: the `brisque` package's own scorer (per frame, with the numpy-2.4 shim
the tests use), and with --clip CLIP-IQA on a randomly initialised CLIP of ViT-B/32's size (the
cost of the real model; its numbers mean nothing) plus one model build, which is what the
authors' script paid for every frame.

--definitions: not a timing. Measures each folder with `--definition paper` and `exact` and prints
one row per folder and definition (PSNR, the authors' wrap-around uint8 PSNR, SSIM, TV, BRISQUE
raw and clipped, identical pairs), so the differences between definitions are measured. --authors
DIR: the authors' published per-video CSVs (noobasuna/equime, evaluation_framework/*.csv), their
means as published and without the clips whose PSNR is their identical-frames 100.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPEATS = 3


def make_clip(n_frames: int, size: int) -> np.ndarray:
    from skimage import data

    face = cv2.resize(data.astronaut()[0:300, 100:400], (size + 16, size + 16))
    rng = np.random.default_rng(0)
    frames = []
    for t in range(n_frames):
        dx = 8 + round(2 * np.sin(t / 12))
        crop = face[8 : 8 + size, dx : dx + size].astype(np.float64)
        frames.append(np.clip(crop + rng.normal(0, 1.0, crop.shape), 0, 255).astype(np.uint8))
    return np.stack(frames)


def timed(label: str, frames: int, work: Callable[[], object], base: float | None) -> float:
    """Best of REPEATS runs after a warm-up: the CPU is shared, the minimum is the least
    disturbed measurement."""
    work()  # warm-up (imports, caches)
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    seconds = min(runs)
    ratio = f"{seconds / base:8.2f}" if base else "    1.00"
    print(f"| {label:44s} | {frames / seconds:9.1f} | {ratio} |")
    return seconds


def authors_rows(folder: Path) -> None:
    """The authors' per-video CSVs: published means, and without identical-frame clips."""
    import pandas as pd

    print(
        "| authors' CSV | videos | PSNR | SSIM | TV | BRISQUE | CLIP-IQA | PSNR = 100 | "
        "PSNR without them | SSIM without them | BRISQUE < 0 | BRISQUE clipped to 0-100 |"
    )
    print("|---" * 12 + "|")
    for path in sorted(folder.glob("*.csv")):
        t = pd.read_csv(path)
        t.columns = [c.replace("avg_", "").replace("_mean", "") for c in t.columns]
        same = t["psnr"] == 100
        print(
            f"| {path.stem} | {len(t)} | {t.psnr.mean():.2f} | {t.ssim.mean():.4f} | "
            f"{t.tv.mean():.2f} | {t.brisque.mean():.2f} | {t.clip_iqa.mean():.2f} | "
            f"{int(same.sum())} | {t.psnr[~same].mean():.2f} | {t.ssim[~same].mean():.4f} | "
            f"{int((t.brisque < 0).sum())} | {t.brisque.clip(0, 100).mean():.2f} |"
        )


def definitions(folders: list[str]) -> None:
    """Each folder under both definitions: the differences measured, not guessed."""
    from equime.quality import QualityOptions
    from equime.quality.measure import measure_folder

    print(
        "| folder | definition | PSNR | authors' uint8 PSNR | SSIM | TV | BRISQUE | "
        "BRISQUE raw | frames outside 0-100 | identical pairs |"
    )
    print("|---" * 10 + "|")
    for folder in folders:
        for definition in ("paper", "exact"):
            opts = QualityOptions(definition=definition, metrics=("psnr", "ssim", "tv", "brisque"))
            _, t, _ = measure_folder(folder, opts, 1, False)
            wrap = f"{t.psnr_uint8.mean():.2f}" if "psnr_uint8" in t else "-"
            print(
                f"| {Path(folder).name} | {definition} | {t.psnr.mean():.2f} | {wrap} | "
                f"{t.ssim.mean():.4f} | {t.tv.mean():.2f} | {t.brisque.mean():.2f} | "
                f"{t.brisque_raw.mean():.2f} | {int(t.brisque_clipped_frames.sum())} | "
                f"{int(t.identical_pairs.sum())} of {int(t.pairs.sum())} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=161)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clip", action="store_true", help="also CLIP-IQA (ViT-B/32 size)")
    parser.add_argument("--definitions", nargs="+", metavar="DATASET", help="see the docstring")
    parser.add_argument("--authors", type=Path, help="folder of the authors' per-video CSVs")
    args = parser.parse_args()
    if args.authors or args.definitions:
        if args.authors:
            authors_rows(args.authors)
        if args.definitions:
            definitions(args.definitions)
        return

    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    from equime.quality import QualityOptions
    from equime.quality.base import build_metrics, to_gray
    from equime.quality.readers import ClipSource, load_clip
    from equime.video.mp4 import write_mp4

    n = args.frames
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        write_mp4(path, make_clip(n, args.size), 24.0)
        source = ClipSource("clip", path, "video")
        print(f"{n} frames {args.size}x{args.size}, {args.threads} thread(s)\n")
        print(f"| {'step':44s} | {'frames/s':>9s} | {'x decode':>8s} |")
        print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|")
        base = timed("decode MP4 (baseline)", n, lambda: load_clip(source), None)
        frames, _ = load_clip(source)

    grey = to_gray(frames)
    colour_opts = QualityOptions(definition="exact", metrics=("psnr", "ssim", "tv", "brisque"))
    metrics, _ = build_metrics(colour_opts)
    for name, metric in metrics.items():
        timed(f"{name} (colour)", n, lambda m=metric: m(frames, colour_opts), base)
    grey_opts = QualityOptions(definition="exact", grayscale=True, metrics=colour_opts.metrics)
    for name, metric in metrics.items():
        timed(f"{name} (--grayscale)", n, lambda m=metric: m(grey, grey_opts), base)
    paper_opts = QualityOptions(metrics=colour_opts.metrics)  # the default definition
    for name, metric in metrics.items():
        timed(f"{name} (--definition paper)", n, lambda m=metric: m(grey, paper_opts), base)

    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    pairs = range(1, n)
    timed(
        "scikit-image PSNR (colour, reference)",
        n,
        lambda: [peak_signal_noise_ratio(frames[k - 1], frames[k], data_range=255) for k in pairs],
        base,
    )
    timed(
        "scikit-image SSIM (colour, reference)",
        n,
        lambda: [
            structural_similarity(frames[k - 1], frames[k], channel_axis=2, data_range=255)
            for k in pairs
        ],
        base,
    )

    from brisque import BRISQUE

    class PackageScorer(BRISQUE):  # the numpy-2.4 shim from tests/test_quality.py
        def scale_features(self, features):
            return super().scale_features([np.asarray(f, float).reshape(-1)[0] for f in features])

    package = PackageScorer(url=False)
    few = frames[:16]
    timed(
        "brisque package's own scorer (16 frames)",
        len(few),
        lambda: [package.score(f) for f in few],
        base * len(few) / n,
    )

    if args.clip:
        from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

        from equime.quality.clipiqa import ClipIQA

        with tempfile.TemporaryDirectory() as tmp:
            vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
            for c in "abcdefghijklmnopqrstuvwxyz.":
                vocab.setdefault(c, len(vocab))
                vocab.setdefault(c + "</w>", len(vocab))
            config = CLIPConfig()  # ViT-B/32: 224 px, 12+12 layers
            config.text_config.vocab_size = len(vocab)
            CLIPModel(config).save_pretrained(tmp)
            CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(tmp)
            start = time.perf_counter()
            clip = ClipIQA(tmp)
            build = time.perf_counter() - start
            opts = QualityOptions(clip_model=tmp)
            timed("clipiqa, ViT-B/32 size (colour)", n, lambda: clip(frames, opts), base)
            print(
                f"\none CLIP-IQA model build (load + prompt embeddings): {build:.2f} s "
                f"= {build / (base / n):.0f} frame decodes"
            )


if __name__ == "__main__":
    main()
