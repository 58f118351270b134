"""Results returned instead of written (what a cluster without a shared disk uses), without Ray:
a render task that carries its face and returns its video never touches the dataset folder, and
the driver's `store_result` writes exactly what a writing worker writes; `--no-write-on-workers`
on the local executor makes the same dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from equime.cli import main
from equime.dataset.layout import DatasetLayout
from equime.executors import Held
from equime.generation.config import GenerateConfig
from equime.generation.pipeline import render_tasks
from equime.generation.plan import build_plan
from equime.generation.tasks import RenderTask, render_sample, store_result

SMALL = ["--demo", "--limit", "1", "--emotions", "happiness,anger", "--frames", "17"]
SMALL += ["--size", "64", "--no-progress", "--workers", "1"]


def test_returned_videos_are_written_by_the_driver_as_a_worker_writes_them(
    tmp_path: Path,
) -> None:
    written = tmp_path / "written"
    assert main(["generate", *SMALL, "--out", str(written)]) == 0
    returned = tmp_path / "returned"
    assert main(["generate", *SMALL, "--out", str(returned), "--no-write-on-workers"]) == 0
    for root in (written, returned):
        assert len(list((root / "videos").rglob("*.mp4"))) == 2
    a, b = (pd.read_parquet(r / "metadata.parquet").set_index("id") for r in (written, returned))
    pd.testing.assert_frame_equal(a, b)
    for name in a["file_name"]:
        assert (written / name).read_bytes() == (returned / name).read_bytes()

    # one task by hand: the face travels with it, the dataset folder it names does not exist
    layout = DatasetLayout(written)
    cfg = GenerateConfig(source="demo", limit=1, emotions=("happiness",), n_frames=17, size=64)
    face_ids = [p.stem for p in layout.faces.glob("*.npz")]
    (row,) = build_plan(cfg, [(face_ids[0], {})])
    absent = tmp_path / "absent"
    face = Held(layout.face_path(row.face_id).read_bytes())
    task = RenderTask(str(absent), row, "warp", (), cfg.crf, cfg.preset, face, write=False)
    result = render_sample(task)
    assert not absent.exists() and set(result) == {"row", "video"}
    store = DatasetLayout(tmp_path / "driver")
    assert store_result(store, result) == {"row": result["row"]}
    assert (store.root / result["row"]["file_name"]).read_bytes() == result["video"]
    assert store.row_path(row.sample_id).is_file()


def test_faces_are_shared_once_per_face_and_only_without_a_shared_disk(tmp_path: Path) -> None:
    class Counting:
        workers = 1
        shares_disk = False

        def __init__(self) -> None:
            self.shared: list[int] = []

        def share(self, value: bytes) -> Held:
            self.shared.append(len(value))
            return Held(value)

    layout = DatasetLayout(tmp_path)
    cfg = GenerateConfig(source="demo", emotions=("happiness", "anger"), per_face=2)
    for face_id in ("a", "b"):
        layout.faces.mkdir(parents=True, exist_ok=True)
        layout.face_path(face_id).write_bytes(face_id.encode() * 10)
    plan = build_plan(cfg, [("a", {}), ("b", {})])
    executor = Counting()
    tasks = list(render_tasks(cfg, layout, plan, executor))
    assert executor.shared == [10, 10]  # two faces, eight tasks
    assert [t.face.get() for t in tasks] == [b"a" * 10] * 4 + [b"b" * 10] * 4
    assert not any(t.write for t in tasks)
    executor.shares_disk = True
    tasks = list(render_tasks(cfg, layout, plan, executor))
    assert all(t.write and t.face is None for t in tasks) and executor.shared == [10, 10]


def test_long_videos_also_come_back_to_the_driver(tmp_path: Path) -> None:
    """--long through the returned-results path: the same files as workers writing them."""
    args = ["generate", *SMALL, "--long", "--duration", "8"]
    written, returned = tmp_path / "written", tmp_path / "returned"
    assert main([*args, "--out", str(written)]) == 0
    assert main([*args, "--out", str(returned), "--no-write-on-workers"]) == 0
    a, b = (pd.read_parquet(r / "metadata.parquet").set_index("id") for r in (written, returned))
    pd.testing.assert_frame_equal(a, b)
    assert (written / "intervals.csv").read_bytes() == (returned / "intervals.csv").read_bytes()
    for name in a["file_name"]:
        assert (written / name).read_bytes() == (returned / name).read_bytes()
