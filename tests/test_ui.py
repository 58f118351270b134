"""The page's plain parts: upload safety, filters, reports, and background jobs (real processes)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from equime.errors import EquimeError
from equime.facs.emotions import PROTOTYPES
from equime.ui import browse, reports
from equime.ui.jobs import CANCELLED, DONE, FAILED, RUNNING, JobRegistry
from equime.ui.preview import prototype_values, slider_codes
from equime.ui.safety import check_image, extract_photos, inside, safe_name, store_upload


def png_bytes(size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), 128, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_safe_names_keep_nothing_that_could_move_a_path() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\photo 1.JPG") == "photo_1.JPG"
    assert safe_name("..") == "file" and safe_name(".hidden.png") == "hidden.png"
    assert safe_name("Zoë Ångström.png") == "Zoe_Angstrom.png"


def test_paths_outside_the_roots_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("x")
    (root / "link").symlink_to(tmp_path / "secret.txt")
    assert inside(root / "sub", [root]) == (root / "sub").resolve()
    for bad in (root / ".." / "secret.txt", root / "link", Path("/etc/passwd")):
        with pytest.raises(EquimeError, match="outside the folders"):
            inside(bad, [root])


def test_a_text_file_named_jpg_is_refused_in_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "face.jpg"
    fake.write_text("not a photo")
    with pytest.raises(EquimeError) as err:
        store_upload(fake, tmp_path / "store")
    assert str(err.value) == "face.jpg: this file is not a photo (it could not be read as an image)"
    assert not (tmp_path / "store" / "face.jpg").exists()
    script = tmp_path / "run.sh"
    script.write_bytes(png_bytes())
    with pytest.raises(EquimeError, match="only photos"):
        check_image(script)
    good = tmp_path / "ok.png"
    good.write_bytes(png_bytes())
    assert store_upload(good, tmp_path / "store", "../../évil name.png").name == "evil_name.png"


def test_zip_keeps_only_photos_and_never_writes_outside(tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape.png", png_bytes())
        zf.writestr("/abs/olute.png", png_bytes())
        zf.writestr("a/face.png", png_bytes())
        zf.writestr("b/face.png", png_bytes())  # same name in another folder: both kept
        zf.writestr("fake.jpg", b"text, not an image")
        zf.writestr("notes.txt", b"hello")
    dest = tmp_path / "out" / "photos"
    kept, skipped = extract_photos(archive, dest)
    assert sorted(p.name for p in kept) == ["escape.png", "face.png", "face_2.png", "olute.png"]
    assert all(p.parent == dest for p in kept)
    assert not (tmp_path / "escape.png").exists() and not Path("/abs/olute.png").exists()
    assert len(skipped) == 2 and any("fake.jpg" in s and "not a photo" in s for s in skipped)
    assert sorted(p.name for p in dest.iterdir()) == sorted(p.name for p in kept)
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(EquimeError, match="not a zip file"):
        extract_photos(tmp_path / "bad.zip", tmp_path / "x")


def test_sliders_start_at_each_prototype() -> None:
    codes = slider_codes()
    for emotion, proto in PROTOTYPES.items():
        values = prototype_values(emotion)
        assert {c for c, v in values.items() if v > 0} == set(proto.required)
        assert set(proto.required) | set(proto.optional) <= set(codes)
    drawn = prototype_values("fear", seed=3)
    assert all(drawn[c] > 0 for c in PROTOTYPES["fear"].required)


def test_filters_offer_only_columns_with_data() -> None:
    bare = pd.DataFrame({"id": ["a", "b"], "target_emotion": ["fear", "anger"], "race": ["", ""]})
    choices = browse.filter_choices(bare)
    assert choices == {"emotion": ["anger", "fear"], "gender": [], "race": [], "verified": []}
    assert list(browse.apply_filters(bare, {"emotion": "fear", "verified": "verified"})["id"]) == [
        "a"
    ]
    full = bare.assign(gender=["Woman", "unknown"], verified=[True, False])
    choices = browse.filter_choices(full)
    assert choices["gender"] == ["Woman"] and choices["verified"] == ["verified", "not verified"]
    assert list(browse.apply_filters(full, {"verified": "not verified"})["id"]) == ["b"]
    as_text = full.assign(verified=["True", "False"])  # as read back from CSV
    assert list(browse.apply_filters(as_text, {"verified": "verified"})["id"]) == ["a"]


def test_reports_collect_every_png_and_markdown(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "stats"
    (folder / "plots").mkdir(parents=True)
    (folder / "plots" / "b.png").write_bytes(png_bytes())
    (folder / "a.png").write_bytes(png_bytes())
    (folder / "stats.md").write_text("# Stats\n| a | b |\n![a](a.png)\n![w](https://x.org/w.png)")
    pngs, text = reports.collect(folder)
    assert [p.name for p in pngs] == ["a.png", "b.png"] and "# Stats" in text
    assert "(a.png)" not in text and "https://x.org/w.png" in text
    assert {"stats", "quality"} <= reports.available_commands()
    assert reports.collect(tmp_path / "missing") == ([], "")


def wait_for(registry: JobRegistry, job_id: str, states: set[str], timeout: float = 120.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = registry.status(job_id).state
        if state in states:
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {state}: {registry.log_tail(job_id)}")


def test_unknown_command_fails_as_a_job_without_a_traceback(tmp_path: Path) -> None:
    registry = JobRegistry(tmp_path / "jobs")
    job_id = registry.start("nosuch", ["nosuch", "x"], str(tmp_path))
    assert wait_for(registry, job_id, {DONE, FAILED}, 60) == FAILED
    assert "Traceback" not in registry.log_tail(job_id, 50)


def test_a_dataset_job_cancels_and_resumes_to_the_same_end(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    config = tmp_path / "cfg.json"
    config.write_text('{"emotions": "all", "n_frames": 33, "size": 128, "workers": 1}')
    argv = ["generate", "--config", str(config), "--out", str(out), "--no-progress"]
    registry = JobRegistry(tmp_path / "jobs")
    job_id = registry.start("generate", argv, str(out))
    assert registry.status(job_id).state == RUNNING
    deadline = time.time() + 90
    while registry.status(job_id).done < 1 and time.time() < deadline:
        time.sleep(0.1)
    registry.cancel(job_id)
    status = registry.status(job_id)
    assert status.state == CANCELLED and status.total == 14 and 1 <= status.done < 14
    assert "Resume" in status.message
    # a fresh registry (the page restarted) finds the job and resumes it
    again = JobRegistry(tmp_path / "jobs")
    assert again.jobs() == [job_id]
    again.resume(job_id)
    assert wait_for(again, job_id, {DONE, FAILED}) == DONE, again.log_tail(job_id)
    assert again.status(job_id).message == "Finished: 14 of 14 videos"
    assert "0 already done" not in again.log_tail(job_id, 1)
    assert len(pd.read_csv(out / "metadata.csv")) == 14


def test_ui_listens_on_localhost_unless_told_and_then_warns(monkeypatch, capsys) -> None:
    import equime.ui.app
    from equime.cli import main

    calls = []
    monkeypatch.setattr(equime.ui.app, "launch", lambda roots, **kw: calls.append(kw))
    assert main(["ui", "--folder", "unused-ui-folder-for-test"]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and "warning" not in capsys.readouterr().err
    assert main(["ui", "--folder", "unused-ui-folder-for-test", "--host", "0.0.0.0"]) == 0
    assert calls[-1]["host"] == "0.0.0.0"
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err
    assert main(["ui", "--photos", "/no/such/folder"]) == 2


def test_report_commands_that_do_not_exist_are_named(tmp_path: Path) -> None:
    from equime.ui.page import Page
    from equime.ui.safety import Roots

    page = Page(Roots(tmp_path / "work"))
    with pytest.raises(EquimeError, match="no `equime nosuch` command yet"):
        page.start_report("anything", "nosuch")
    assert page.dataset_path("../../etc") == (tmp_path / "work" / "datasets" / "etc").resolve()


def test_a_zip_or_a_folder_becomes_a_job_only_inside_the_roots(tmp_path: Path) -> None:
    from equime.faces.sources import demo_sources
    from equime.ui.page import SOURCE_DEMO, SOURCE_FOLDER, SOURCE_ZIP, Page
    from equime.ui.safety import Roots

    page = Page(Roots(tmp_path / "work"))
    settings = {"emotions": ["happiness"], "n_frames": 33, "size": 128, "workers": 1}
    with pytest.raises(EquimeError, match="outside the folders"):
        page.start_dataset(SOURCE_FOLDER, str(tmp_path), None, "x", settings)
    with pytest.raises(EquimeError, match="at least 16"):
        page.start_dataset(SOURCE_DEMO, None, None, "x", {"n_frames": 3})
    archive = tmp_path / "my photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(demo_sources()[1].path, "../portraits/grace.jpg")
        zf.writestr("readme.txt", "hello")
    job_id = page.start_dataset(SOURCE_ZIP, None, str(archive), "from zip", settings)
    assert wait_for(page.jobs, job_id, {DONE, FAILED}) == DONE, page.jobs.log_tail(job_id)
    meta = pd.read_csv(tmp_path / "work" / "datasets" / "from_zip" / "metadata.csv")
    assert list(meta["target_emotion"]) == ["happiness"]
    # recorded relative to the unpacked folder (named after the zip), which lies in uploads/
    assert meta["source_path"][0] == "grace.jpg"
    assert len(list((tmp_path / "work" / "uploads").rglob("grace.jpg"))) == 1
    # same name, other settings: refused by generate, unless the page is told to replace it
    other = {**settings, "emotions": ["fear"]}
    job_id = page.start_dataset(SOURCE_ZIP, None, str(archive), "from zip", other)
    assert wait_for(page.jobs, job_id, {DONE, FAILED}) == FAILED
    assert "different config" in page.jobs.status(job_id).message
    job_id = page.start_dataset(SOURCE_ZIP, None, str(archive), "from zip", other, replace=True)
    assert wait_for(page.jobs, job_id, {DONE, FAILED}) == DONE


def test_recognise_lists_checkpoints_and_refuses_a_text_file_named_mp4(tmp_path: Path) -> None:
    from equime.ui import recognise

    good, half = tmp_path / "runs" / "ck", tmp_path / "half"
    for folder in (good, half):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    (good / "model.safetensors").write_bytes(b"x")
    assert recognise.checkpoints(tmp_path) == [("runs/ck", str(good.resolve()))]
    fake = tmp_path / "clip.mp4"
    fake.write_text("not a video")
    with pytest.raises(EquimeError, match=r"clip\.mp4: cannot read video"):
        recognise.store_video(fake, tmp_path / "uploads")
    with pytest.raises(EquimeError, match="only videos"):
        recognise.store_video(tmp_path / "runs" / "ck" / "config.json", tmp_path / "uploads")
    argv = recognise.predict_argv(good, fake, tmp_path / "p.csv", 0, 12)
    assert argv[:3] == ["predict", str(good), str(fake)] and argv[-2:] == ["--apex", "12"]
    assert "--onset" not in argv  # the page's empty 0: the first frame


def test_recognise_reads_the_answer_back(tmp_path: Path) -> None:
    from equime.ui import recognise

    out = tmp_path / "p.csv"
    row = {"pred": "anger", "confidence": 0.97, "unsure": True, "unsure_why": "motion size"}
    pd.DataFrame([{**row, "apex_used": 30, "p_anger": 0.97, "p_happiness": 0.03}]).to_csv(out)
    text, picture = recognise.answer(out)
    assert "unsure (motion size outside" in text and "anger 0.97, happiness 0.03" in text
    assert picture is None
