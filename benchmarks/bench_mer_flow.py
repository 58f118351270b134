"""Flow inputs: cross-identity recognition, flow extraction vs decoding, STSTNet training time.

    PYTHONPATH=src python benchmarks/bench_mer_flow.py --work runs/bench-flow [--per-face 20]

(1) Cross-identity (issue 13's must-show): `equime generate FOLDER --per-face N` on a folder
    holding only the astronaut photo and on one holding only Grace Hopper's (generator
    defaults), then one `equime evaluate` experiment training on one person and testing on the
    other, both ways: STSTNet and HTNet on flow, and Simple3DCNN on frames (16 apex-centred,
    aligned frames at 64 x 64) in the same run; every model at its default training.
(2) Per clip of the 200-clip demo set (`equime generate --demo --per-face 20`): decoding the
    whole MP4 (the baseline) against preparing its flow input (decode onset + apex, landmarks,
    alignment, Farneback, head motion out, strain): the ratio, same process.
(3) `fit` of STSTNet on the demo set's cached flow (defaults: 100 epochs at most, patience 15),
    seconds of training, with the torch thread count used.
Datasets are generated once under --work and reused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

from equime.cli import main as equime


def generate(out: Path, per_face: int, folder: Path | None = None) -> Path:
    if (out / "metadata.parquet").is_file():
        return out
    source = [str(folder)] if folder else ["--demo"]
    args = ["generate", *source, "--per-face", str(per_face), "--out", str(out), "--no-progress"]
    assert equime(args) == 0
    return out


def person_folders(work: Path) -> dict[str, Path]:
    from equime.faces.sources import demo_sources

    out = {}
    for source in demo_sources():
        person = "astronaut" if source.face_id.startswith("astronaut") else "grace"
        folder = work / f"photos_{person}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(source.path, folder / Path(source.path).name)
        out[person] = folder
    return out


def cross_identity(work: Path, per_face: int) -> pd.DataFrame:
    data = {p: generate(work / f"ds_{p}", per_face, f) for p, f in person_folders(work).items()}
    experiment = {
        "name": "cross-identity",
        "out": "cross",
        "scheme": "equime5",
        "align": True,
        "n_frames": 16,
        "models": ["ststnet", "htnet", "simple3dcnn"],
        "model_options": {},
        "datasets": {
            p: {"format": "equime", "path": str(d), "sampling": "apex"} for p, d in data.items()
        },
        "train_on": ["astronaut", "grace"],
        "test_on": ["astronaut", "grace"],
        "within": "skip",
        "cache": "cache",
        "train": {"threads": 1},  # timing is (3)'s job; one thread is fastest on a busy machine
    }
    config = work / "cross.yaml"
    config.write_text(yaml.safe_dump(experiment))
    assert equime(["evaluate", str(config), "--no-progress"]) == 0
    return pd.read_csv(work / "cross" / "results.csv")


def extraction(demo: Path, n: int) -> tuple[float, float]:
    from equime.mer.datasets import load_dataset
    from equime.mer.flow import prepare_flow
    from equime.mer.preprocess import Preprocess
    from equime.video.mp4 import read_mp4

    table = load_dataset("equime", demo).head(n)
    prep = Preprocess(input="flow", align=True)
    prepare_flow(table.iloc[0], prep, 28)  # loads the face model once, outside the timing
    start = time.perf_counter()
    for source in table["source"]:
        read_mp4(source)
    decode = (time.perf_counter() - start) / len(table)
    start = time.perf_counter()
    for _, row in table.iterrows():
        prepare_flow(row, prep, 28)
    flow = (time.perf_counter() - start) / len(table)
    return decode, flow


def train_ststnet(demo: Path, work: Path, threads: int) -> tuple[float, float, int, int]:
    from equime.mer.cache import ClipCache
    from equime.mer.train import TrainConfig, fit, prepare_table

    cfg = TrainConfig(
        data=str(demo),
        model="ststnet",
        out=str(work / "ststnet"),
        threads=threads,
        cache=str(work / "cache"),
        progress=False,
    )
    cfg.validate()
    table, classes, sampling = prepare_table(cfg)
    cache = ClipCache(cfg.cache)
    start = time.perf_counter()
    fitted = fit(table, classes, sampling, cfg, cache)
    wall = time.perf_counter() - start
    return fitted.seconds, wall, len(fitted.history), len(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/bench-flow")
    parser.add_argument("--per-face", type=int, default=20)
    parser.add_argument("--clips", type=int, default=40, help="clips timed in (2)")
    parser.add_argument("--threads", type=int, default=2, help="(3) also timed at this count")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results = cross_identity(work, args.per_face)
    demo = generate(work / "ds_demo", args.per_face)
    decode, flow = extraction(demo, args.clips)
    timings = {t: train_ststnet(demo, work, t) for t in (1, args.threads)}
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}; load average {load:.1f} on {os.cpu_count()} cores")
    print("\n(1) cross-identity, --per-face", args.per_face)
    print("| model (input) | train -> test | UF1 | UAR | accuracy |\n|---|---|---|---|---|")
    for r in results.itertuples():
        kind = "frames" if r.model == "simple3dcnn" else "flow"
        print(
            f"| {r.model} ({kind}) | {r.train} -> {r.test} | {r.uf1:.3f} | {r.uar:.3f} | "
            f"{r.accuracy:.3f} |"
        )
    print(
        f"\n(2) per clip ({args.clips} clips): decode {decode * 1000:.0f} ms (baseline), "
        f"flow input {flow * 1000:.0f} ms: ratio {flow / decode:.2f}"
    )
    for threads, (seconds, wall, epochs, clips) in timings.items():
        print(
            f"\n(3) STSTNet on {clips} demo clips' flow, {threads} thread(s): {epochs} epochs, "
            f"training {seconds:.1f} s (fit with cached flow: {wall:.1f} s)"
        )


if __name__ == "__main__":
    main()
