"""`--executor ray` on a local 2-CPU cluster: same dataset as the local executor; a worker killed
mid-task is retried, one that keeps dying is rejected, and a local run resumes what Ray left.

One cluster serves the whole module (Ray takes seconds to start); it is shut down at the end.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray")

import equime.generation.pipeline as generate_module
from equime.cli import main
from equime.generation.tasks import RenderTask, render_sample

WARP_SMALL = ["--demo", "--emotions", "happiness,sadness,anger", "--frames", "17"]
WARP_SMALL += ["--size", "64", "--no-progress"]


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    from equime.executors import start_ray

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    assert start_ray(num_cpus=2)
    yield ray
    ray.shutdown()


def dataset(root: Path) -> pd.DataFrame:
    meta = pd.read_parquet(root / "metadata.parquet")
    return meta.set_index("id")[["file_name", "sha256", "prompt"]].sort_index()


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "ds"
    assert main(["generate", *WARP_SMALL, "--out", str(out), "--workers", "2"]) == 0
    return out


def test_ray_makes_the_same_dataset_as_local(
    ray_cluster, local_reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ray"
    assert main(["generate", *WARP_SMALL, "--out", str(out), "--executor", "ray"]) == 0
    made = dataset(out)
    assert len(made) == 6
    pd.testing.assert_frame_equal(made, dataset(local_reference))
    assert pd.read_csv(out / "rejected.csv").empty


class KillWorker:
    """Stands in for render_sample inside the Ray worker and SIGKILLs that worker process:
    before rendering (`before`), after the video and row are written but before the result is
    returned (`after`), or on every attempt (`always`). Marks on disk count the attempts."""

    def __init__(self, marks: Path, before: str, after: str, always: str) -> None:
        self.marks, self.before, self.after, self.always = marks, before, after, always

    def _die_once(self, sample_id: str, when: str) -> None:
        mark = self.marks / f"{sample_id}.{when}"
        if not mark.exists():
            mark.touch()
            os.kill(os.getpid(), signal.SIGKILL)

    def __call__(self, task: RenderTask) -> dict:
        sample_id = task.row.sample_id
        if sample_id == self.always:
            with open(self.marks / f"{sample_id}.always", "a") as handle:
                handle.write("x")
            os.kill(os.getpid(), signal.SIGKILL)
        if sample_id == self.before:
            self._die_once(sample_id, "before")
        result = render_sample(task)
        if sample_id == self.after:
            self._die_once(sample_id, "after")
        return result


def test_killed_workers_are_retried_then_rejected_and_local_resumes(
    ray_cluster, local_reference: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    reference = dataset(local_reference)
    before, after, always = reference.index[0], reference.index[3], reference.index[5]
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(generate_module, "render_sample", KillWorker(marks, before, after, always))
    out = tmp_path / "ray"
    args = ["generate", *WARP_SMALL, "--out", str(out)]
    assert main([*args, "--executor", "ray", "--retries", "1"]) == 0
    assert "5 videos made, 0 already done, 1 rejected" in capsys.readouterr().out
    # each killed-once sample was retried and finished; the always-dying one was tried twice
    assert (marks / f"{before}.before").exists() and (marks / f"{after}.after").exists()
    assert (marks / f"{always}.always").read_text() == "xx"
    rejected = pd.read_csv(out / "rejected.csv")
    assert list(rejected["id"]) == [always] and list(rejected["stage"]) == ["render"]
    assert "failed 2 times: worker died" in rejected["reason"].iloc[0]
    made = dataset(out)
    assert made.index.is_unique and len(made) == 5
    pd.testing.assert_frame_equal(made, reference.drop(always))
    assert len(list((out / "videos").rglob("*.mp4"))) == 5  # nothing duplicated on disk

    monkeypatch.undo()  # the local executor resumes what Ray left: only the rejected sample
    assert main([*args, "--workers", "1"]) == 0
    assert "1 videos made, 5 already done, 0 rejected" in capsys.readouterr().out
    pd.testing.assert_frame_equal(dataset(out), reference)


def test_ray_resumes_a_local_run(ray_cluster, local_reference: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(local_reference, out)
    victim = out / dataset(out)["file_name"].iloc[1]
    victim.unlink()
    assert main(["generate", *WARP_SMALL, "--out", str(out), "--executor", "ray"]) == 0
    pd.testing.assert_frame_equal(dataset(out), dataset(local_reference))


def test_unreachable_address_fails_fast_in_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    args = ["generate", *WARP_SMALL, "--out", str(out), "--executor", "ray"]
    assert main([*args, "--address", "127.0.0.1:1"]) == 2
    assert "ray: cannot reach 127.0.0.1:1" in capsys.readouterr().err
    assert not out.exists()


def test_ltx_on_ray_matches_the_local_run(
    ray_cluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The model path end to end on Ray: the actor loads the tiny pipeline and makes the same
    bytes as the local executor (seeded noise, pinned threads)."""
    from test_ltx import LTX_SMALL, build_tiny_ltx

    tmp = tmp_path_factory.mktemp("ltxray")
    model = build_tiny_ltx(tmp / "tiny-ltx")
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness,anger"]
    args += ["--backend", "ltx", "--model", str(model), *LTX_SMALL]
    assert main([*args, "--out", str(tmp / "local")]) == 0
    assert main([*args, "--out", str(tmp / "ray"), "--executor", "ray"]) == 0
    made = dataset(tmp / "ray")
    assert len(made) == 2
    pd.testing.assert_frame_equal(made, dataset(tmp / "local"))


def _visible_gpu(_: int) -> tuple[int, str]:
    import time

    time.sleep(0.25)  # ~3 s of work in all: both worker processes get tasks
    return os.getpid(), os.environ.get("CUDA_VISIBLE_DEVICES", "")


def test_local_executor_gives_each_worker_process_one_gpu() -> None:
    from equime.executors import LocalExecutor

    results = list(LocalExecutor(workers=2, gpus=2).map(_visible_gpu, range(12)))
    seen = dict(results)
    assert all(seen[pid] == gpu for pid, gpu in results)  # a process keeps its device
    assert sorted(seen.values()) == ["0", "1"]  # two processes, one device each
