"""Per-video cost of each backend and executor, what 75,000 videos (the paper's size) take, and
what a Ray driver pays to receive and write each video when workers have no shared disk.

    python benchmarks/bench_executors.py [--per-face 1] [--workers 2] [--ltx-model FOLDER]

(a) `equime generate --demo` with the warp backend on the local executor (baseline); then, on a
Ray cluster of three nodes on this machine (`ray.cluster_utils.Cluster`: a head with no CPUs for
the driver, `--workers` worker nodes of one CPU; start-up reported on its own), (b) the same run
with workers writing into --out (`--write-on-workers`) and (c) with results returned through
Ray's object store (the default on a cluster equime did not start). All three must give the
same dataset (checked: ids and SHA-256 of every video).

(d) Driver-side cost per video without a shared disk: (a)'s videos and rows are held by actors
on the worker nodes and returned as a render task returns them; the driver receives each
(`ray.wait` + `ray.get`, a transfer between nodes) and writes it (`store_result`: video and row,
atomic, fsynced) as fast as it can. Reported against the encode time of the same videos
(decoded, then encoded again with the run's CRF and preset) and against a worker's time per
video (`render_sample` of (a)'s rows in this process: warp frames and encode, face from memory),
which gives the number of workers one driver can feed.

(e) with `--ltx-model`, the LTX backend on the local executor with that model.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from equime.dataset.layout import DatasetLayout
from equime.dataset.metadata import read_rows
from equime.executors import Held, worker_pythonpath
from equime.faces.sources import resolve_sources
from equime.generation.config import GenerateConfig
from equime.generation.pipeline import generate
from equime.generation.plan import build_plan
from equime.generation.tasks import RenderTask, render_sample, store_result
from equime.video.mp4 import encode_mp4_bytes, read_mp4

PAPER_VIDEOS = 75_000
LTX_H100_S = (4.0, 5.0)  # s/video/GPU, the FLOP estimate in BENCHMARKS.md (not measured)


def timed_run(cfg: GenerateConfig) -> tuple[float, int]:
    start = time.perf_counter()
    report = generate(cfg)
    return time.perf_counter() - start, report.made


def per_video(label: str, seconds: float, made: int, workers: int) -> float:
    """Seconds per video per worker (what one worker needs for one video)."""
    each = seconds * workers / max(made, 1)
    hours = PAPER_VIDEOS * each / 3600
    print(
        f"{label:40s} {made:4d} videos in {seconds:6.1f} s on {workers} workers: "
        f"{each:6.2f} s/video/worker -> 75,000 videos = {hours:8.1f} worker-hours"
    )
    return each


def hashes(root: Path) -> pd.Series:
    return pd.read_parquet(root / "metadata.parquet").set_index("id")["sha256"].sort_index()


def start_cluster(workers: int) -> Any:
    import ray
    from ray.cluster_utils import Cluster

    store = 200 * 2**20
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": store}
    )
    for _ in range(workers):
        cluster.add_node(num_cpus=1, object_store_memory=store)
    ray.init(
        address=cluster.address,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {"PYTHONPATH": worker_pythonpath()}},
    )
    return cluster


class Holder:
    """A Ray actor on a worker node that hands back finished results, as render tasks do."""

    def __init__(self, results: list[dict]) -> None:
        self.results = results

    def result(self, index: int) -> dict:
        return self.results[index]


def encode_seconds(root: Path, rows: list[dict], crf: int, preset: str) -> float:
    """Mean time to encode one of these videos (their decoded frames, the run's settings)."""
    total = 0.0
    for row in rows:
        frames = read_mp4(root / row["file_name"])
        start = time.perf_counter()
        encode_mp4_bytes(frames, row["fps"], crf=crf, preset=preset)
        total += time.perf_counter() - start
    return total / len(rows)


def driver_cost(source: Path, out: Path, holders: int, rounds: int) -> tuple[float, float, int]:
    """(receive s, write s) per video on the driver, and the number of videos timed."""
    import ray

    rows = list(read_rows(DatasetLayout(source)).values())
    results = [{"row": r, "video": (source / r["file_name"]).read_bytes()} for r in rows]
    actor = ray.remote(Holder).options(num_cpus=1)
    actors = [actor.remote(results) for _ in range(holders)]
    ray.get([a.result.remote(0) for a in actors])  # placed and loaded before timing
    layout = DatasetLayout(out)
    layout.tmp.mkdir(parents=True)
    receive = write = 0.0
    count = 0
    for _ in range(rounds):
        pending = [actors[i % holders].result.remote(i) for i in range(len(results))]
        while pending:
            start = time.perf_counter()
            (ref,), pending = ray.wait(pending, num_returns=1)
            result = ray.get(ref)
            middle = time.perf_counter()
            store_result(layout, result)
            receive += middle - start
            write += time.perf_counter() - middle
            count += 1
    for a in actors:
        ray.kill(a)
    return receive / count, write / count, count


def render_seconds(cfg: GenerateConfig, root: Path) -> float:
    """Mean time of one render task (frames and encode) as a worker runs it, face in memory."""
    layout = DatasetLayout(root)
    faces = [(s.face_id, s.attributes) for s in resolve_sources("demo", None)]
    plan = [r for r in build_plan(cfg, faces) if layout.face_path(r.face_id).is_file()]
    options = tuple(sorted(cfg.generator_options.items()))
    expected = read_rows(layout)
    total = 0.0
    for i, row in enumerate([plan[0], *plan]):  # the first, untimed, builds the generator
        face = Held(layout.face_path(row.face_id).read_bytes())
        task = RenderTask("", row, cfg.generator, options, cfg.crf, cfg.preset, face, False)
        start = time.perf_counter()
        result = render_sample(task)
        if i:
            total += time.perf_counter() - start
        assert result["row"]["sha256"] == expected[row.sample_id]["sha256"]
    return total / len(plan)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-face", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="(d): times each video is received")
    parser.add_argument("--ltx-model", help="a local LTX pipeline folder (or hub id)")
    parser.add_argument("--ltx-steps", type=int, default=80)
    parser.add_argument("--ltx-frames", type=int, default=161)
    args = parser.parse_args()
    base = {"source": "demo", "per_face": args.per_face, "workers": args.workers, "progress": False}
    with tempfile.TemporaryDirectory() as tmp:
        local = GenerateConfig(out=f"{tmp}/local", **base)
        seconds, made = timed_run(local)
        baseline = per_video("(a) warp, local executor", seconds, made, args.workers)

        import ray

        start = time.perf_counter()
        cluster = start_cluster(args.workers)
        print(
            f"    ray cluster (head + {args.workers} worker nodes) start-up: "
            f"{time.perf_counter() - start:.1f} s (not counted)"
        )
        runs = {"b": ("workers write (--write-on-workers)", True), "c": ("results via Ray", None)}
        ray_each = {}
        for key, (label, on_workers) in runs.items():
            cfg = GenerateConfig(
                out=f"{tmp}/{key}", executor="ray", write_on_workers=on_workers, **base
            )
            seconds, made = timed_run(cfg)
            each = per_video(f"({key}) warp, ray, {label}", seconds, made, args.workers)
            same = hashes(Path(tmp) / key).equals(hashes(Path(tmp) / "local"))
            print(f"    ({key}) / (a) = {each / baseline:.2f}; same dataset as (a): {same}")
            ray_each[key] = each
        print(
            f"    results via Ray / workers write = (c) / (b) = {ray_each['c'] / ray_each['b']:.2f}"
        )

        receive, write, count = driver_cost(
            Path(tmp) / "local", Path(tmp) / "driver", args.workers, args.rounds
        )
        rows = list(read_rows(DatasetLayout(Path(tmp) / "local")).values())
        encode = encode_seconds(Path(tmp) / "local", rows, local.crf, local.preset)
        render = render_seconds(local, Path(tmp) / "local")
        size_kb = sum((Path(tmp) / "local" / r["file_name"]).stat().st_size for r in rows) / 1e3
        cost = receive + write
        print(
            f"(d) driver, per video ({count} received, mean {size_kb / len(rows):.0f} KB): "
            f"receive {receive * 1e3:.1f} ms + write {write * 1e3:.1f} ms = {cost * 1e3:.1f} ms"
        )
        print(
            f"    encode one video: {encode * 1e3:.0f} ms -> driver / encode = {cost / encode:.3f}"
        )
        print(f"    one render task (warp frames + encode): {render * 1e3:.0f} ms")
        print(f"    one driver takes {1 / cost:.0f} videos/s; workers it can feed:")
        print(f"      warp at {render:.2f} s/video/worker: {render / cost:.0f}")
        lo, hi = LTX_H100_S
        print(
            f"      LTX paper preset at ~{lo:.0f}-{hi:.0f} s/video/GPU: "
            f"{lo / cost:.0f}-{hi / cost:.0f}"
        )
        ray.shutdown()
        cluster.shutdown()

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
            each = per_video("(e) ltx, local executor", seconds, made, 1)
            print(f"    ltx / warp = {each / baseline:.0f}")


if __name__ == "__main__":
    main()
