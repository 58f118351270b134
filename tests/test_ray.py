"""`--executor ray` on a cluster of three Ray nodes on this machine (`ray.cluster_utils.Cluster`):
a head node with no CPUs, where the driver runs, and two worker nodes of one CPU each, so every
video is made on another node than the driver's.

Without a shared disk (the default on a cluster equime did not start) the dataset is the local
executor's, byte for byte, while every worker process runs under an audit hook that refuses any
file access under an off-limits folder (where those runs put `--out`) and to the source photos;
the same hook makes a `--write-on-workers` run there fail, which shows it bites. A worker killed
mid-task is retried, one that keeps dying is rejected, a local run resumes what Ray left, and the
driver never lets finished results pile up.

One cluster serves the whole module (Ray takes seconds to start); it is shut down at the end.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray")

import equime.generation.pipeline as generate_module
from equime.cli import main
from equime.faces.sources import demo_sources
from equime.generation.tasks import RenderTask, render_sample

WARP_SMALL = ["--demo", "--emotions", "happiness,sadness,anger", "--frames", "17"]
WARP_SMALL += ["--size", "64", "--no-progress"]
FORBIDDEN = "EQUIME_TEST_FORBIDDEN"  # os.pathsep-joined paths a worker may not touch
WATCHED = {"open", "os.rename", "os.mkdir", "os.remove", "os.rmdir", "os.listdir", "os.scandir"}
WATCHED |= {"os.chmod", "os.utime", "os.truncate", "os.link", "os.symlink", "shutil.rmtree"}


def forbid_paths() -> None:
    """Ray worker setup hook: any open, listing, rename or removal of a forbidden path raises
    PermissionError in this worker process (the driver has no such hook)."""
    roots = [r for r in os.environ[FORBIDDEN].split(os.pathsep) if r]

    def hook(event: str, args: tuple) -> None:
        if event not in WATCHED:
            return
        for arg in args[:2]:
            if isinstance(arg, str | bytes | os.PathLike):
                path = os.path.abspath(os.fsdecode(arg))
                if any(path == r or path.startswith(r + os.sep) for r in roots):
                    raise PermissionError(f"{path}: a worker may not touch the driver's files")

    sys.addaudithook(hook)


@pytest.fixture(scope="module")
def offlimits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where runs without a shared disk put --out: no worker may open anything under it."""
    return tmp_path_factory.mktemp("offlimits")


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory, offlimits: Path):
    import ray
    from ray.cluster_utils import Cluster

    from equime.executors import worker_pythonpath

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    store = 100 * 2**20
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": store}
    )
    for _ in range(2):
        cluster.add_node(num_cpus=1, object_store_memory=store)
    forbidden = [str(offlimits), *(str(s.path.resolve()) for s in demo_sources())]
    env = {
        "PYTHONPATH": worker_pythonpath(),
        "TMPDIR": str(tmp_path_factory.mktemp("worker-scratch")),  # workers' own scratch
        FORBIDDEN: os.pathsep.join(forbidden),
    }
    ray.init(
        address=cluster.address,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": env, "worker_process_setup_hook": forbid_paths},
    )
    nodes = [n for n in ray.nodes() if n["Alive"]]
    assert len(nodes) == 3 and sorted(n["Resources"].get("CPU", 0) for n in nodes) == [0, 1, 1]
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def dataset(root: Path) -> pd.DataFrame:
    meta = pd.read_parquet(root / "metadata.parquet")
    return meta.set_index("id")[["file_name", "sha256", "prompt"]].sort_index()


def assert_same_dataset(made: Path, reference: Path) -> None:
    """Every metadata column and every video's bytes."""
    a, b = (
        pd.read_parquet(r / "metadata.parquet").set_index("id").sort_index()
        for r in (made, reference)
    )
    pd.testing.assert_frame_equal(a, b)
    videos = sorted(p.relative_to(made) for p in (made / "videos").rglob("*.mp4"))
    assert videos == sorted(p.relative_to(reference) for p in (reference / "videos").rglob("*.mp4"))
    for video in videos:
        assert (made / video).read_bytes() == (reference / video).read_bytes(), video


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local") / "ds"
    assert main(["generate", *WARP_SMALL, "--out", str(out), "--workers", "2"]) == 0
    return out


def test_without_a_shared_disk_ray_makes_the_local_dataset_byte_for_byte(
    ray_cluster, offlimits: Path, local_reference: Path
) -> None:
    out = offlimits / "ray"
    assert main(["generate", *WARP_SMALL, "--out", str(out), "--executor", "ray"]) == 0
    assert pd.read_csv(out / "rejected.csv").empty
    assert len(dataset(out)) == 6
    assert_same_dataset(out, local_reference)

    # the guard bites: workers told to write into the off-limits folder cannot even read a face
    blocked = offlimits / "blocked"
    args = ["generate", *WARP_SMALL, "--out", str(blocked), "--executor", "ray"]
    assert main([*args, "--write-on-workers"]) == 0
    rejected = pd.read_csv(blocked / "rejected.csv")
    assert len(rejected) == 6 and rejected["reason"].str.contains("PermissionError").all()
    assert not list(blocked.rglob("*.mp4"))


class KillWorker:
    """Stands in for render_sample inside the Ray worker and SIGKILLs that worker process:
    before rendering (`before`), after the video is made but before the result is returned
    (`after`), or on every attempt (`always`). Marks on disk count the attempts."""

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
    ray_cluster, offlimits: Path, local_reference: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    reference = dataset(local_reference)
    before, after, always = reference.index[0], reference.index[3], reference.index[5]
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setattr(generate_module, "render_sample", KillWorker(marks, before, after, always))
    out = offlimits / "killed"  # no shared disk: results come back through Ray
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


def test_ray_writing_on_workers_resumes_a_local_run(
    ray_cluster, local_reference: Path, tmp_path: Path
) -> None:
    """--write-on-workers: the shared-disk mode (here the nodes do share this machine's disk)."""
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(local_reference, out)
    victim = out / dataset(out)["file_name"].iloc[1]
    victim.unlink()
    args = ["generate", *WARP_SMALL, "--out", str(out), "--executor", "ray", "--write-on-workers"]
    assert main(args) == 0
    assert_same_dataset(out, local_reference)


class MarkStart:
    """A task that leaves a mark when a worker starts it, so the driver can count starts."""

    def __init__(self, marks: Path) -> None:
        self.marks = marks

    def __call__(self, item: int) -> int:
        (self.marks / str(item)).touch()
        return item


def test_a_slow_driver_holds_back_the_cluster(ray_cluster, tmp_path: Path) -> None:
    """Back-pressure: whatever the cluster's speed, at most `workers` tasks run or wait finished
    beyond what the driver has taken, and items are drawn only as workers free up."""
    from equime.executors import RayExecutor

    executor = RayExecutor(workers=2)
    assert not executor.shares_disk  # a cluster equime did not start: no shared disk assumed
    drawn = []

    def items():
        for item in range(8):
            drawn.append(item)
            yield item

    marks = tmp_path / "started"
    marks.mkdir()
    taken = []
    for result in executor.map(MarkStart(marks), items()):
        taken.append(result)
        time.sleep(0.3)  # a slow driver: finished tasks of a free-running cluster would pile up
        assert len(list(marks.iterdir())) <= len(taken) + executor.workers
        assert len(drawn) <= len(taken) + executor.workers
    assert sorted(taken) == list(range(8))


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
