"""End to end: the `equime ui` page in Debian's Chromium (headless), driven by Playwright.

Real everything: the Gradio server on a free localhost port, real uploads, a real preview clip
played by the browser, a real background dataset job, a real CSV download. Screenshots of each
step go to a folder named by the test; with EQUIME_UI_SCREENSHOTS=DIR they are also copied there
(that is how docs/img/ was made).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from equime.faces.sources import demo_sources

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Skipped only off CI (scripts/test.sh installs chromium there): on CI a missing browser fails.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file() and not os.environ.get("CI"), reason="needs Debian's chromium package"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ui-screenshots")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The page on a free localhost port, in this process's background threads; its folder."""
    from equime.ui.app import launch
    from equime.ui.safety import Roots

    work = tmp_path_factory.mktemp("ui-work")
    port = free_port()
    app = launch(Roots(work), port=port, block=False)
    yield f"http://127.0.0.1:{port}/", work
    app.equime_page.jobs.shutdown()
    app.close()


@pytest.fixture(scope="module")
def page(server: tuple[str, Path]) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.goto(server[0])
        tab.wait_for_selector("#preview-generate")
        yield tab
        context.close()
        browser.close()


def snap(page, shots: Path, name: str, locator: str | None = None) -> None:
    path = shots / f"{name}.png"
    if locator:
        page.locator(locator).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 1000
    if os.environ.get("EQUIME_UI_SCREENSHOTS"):
        dest = Path(os.environ["EQUIME_UI_SCREENSHOTS"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / path.name)


def test_preview_plays_a_video_and_shows_the_contact_sheet(page, shots: Path) -> None:
    photo = demo_sources()[1].path  # grace_hopper.jpg
    page.locator("#preview-upload input[type=file]").set_input_files(str(photo))
    page.wait_for_selector("#preview-face img")
    page.locator("#preview-size label", has_text="128").click()
    snap(page, shots, "01-preview-face")
    page.click("#preview-generate")
    video = page.wait_for_selector("#preview-video video", timeout=60_000)
    page.wait_for_selector("#preview-sheet img")
    played = video.evaluate(
        """async v => {
            v.muted = true;
            if (v.readyState < 1) await new Promise(r => v.addEventListener('loadedmetadata', r));
            await v.play();
            await new Promise(r => setTimeout(r, 400));
            return {duration: v.duration, time: v.currentTime, paused: v.paused,
                    width: v.videoWidth, error: v.error && v.error.code};
        }"""
    )
    assert played["error"] is None
    assert played["duration"] > 0 and played["time"] > 0 and not played["paused"]
    assert played["width"] == 128
    sheet_width = page.eval_on_selector("#preview-sheet img", "i => i.naturalWidth")
    assert sheet_width > 8 * 128
    assert "onset frame" in page.inner_text("#preview-summary")
    snap(page, shots, "02-preview-result")


def test_a_text_file_named_jpg_gets_a_friendly_error(page, shots: Path, tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is a text file, not a photo")
    clear = page.locator("#preview-upload button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    page.locator("#preview-upload input[type=file]").set_input_files(str(fake))
    status = page.wait_for_selector("#preview-status .equime-error")
    text = status.inner_text().strip()
    assert "holiday.jpg" in text and "not a photo" in text and len(text.splitlines()) == 1
    assert page.locator("#preview-upload input[type=file]").count() == 1  # ready for another
    body = page.inner_text("body")
    assert "Traceback" not in body and 'File "' not in body
    snap(page, shots, "03-bad-upload")


def test_dataset_job_runs_to_the_end_and_its_csv_downloads(page, server, shots: Path) -> None:
    page.get_by_role("tab", name="Dataset").click()
    page.locator("#ds-name input, #ds-name textarea").first.fill("e2e-demo")
    for emotion in ("sadness", "surprise", "anger"):  # keep happiness and disgust
        page.locator("#ds-emotions label", has_text=emotion).click()
    page.locator("#ds-limit input").fill("1")
    page.locator("#ds-frames input").fill("33")
    page.locator("#ds-workers input").fill("1")
    page.locator("#ds-size label", has_text="128").click()
    page.locator("#ds-faces label", has_text="every face").click()  # --faces all
    page.click("#ds-run")
    page.wait_for_function(
        "() => (document.querySelector('#ds-progress-text') || {}).innerText"
        " && /^(Running|Finished)/.test(document.querySelector('#ds-progress-text').innerText)",
        timeout=30_000,
    )
    snap(page, shots, "04-dataset-running")
    page.wait_for_function(
        "() => (document.querySelector('#ds-progress-text') || {}).innerText"
        " === 'Finished: 2 of 2 videos'",
        timeout=120_000,
    )
    assert page.eval_on_selector("#ds-progress-bar", "p => p.value") == 100
    page.wait_for_function(
        "() => (document.querySelector('#ds-count') || {}).innerText"
        " && document.querySelector('#ds-count').innerText.includes('2 of 2 videos shown')"
    )
    snap(page, shots, "05-dataset-results")
    with page.expect_download() as info:
        page.click("#ds-csv")
    table = pd.read_csv(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert len(table) == 2
    assert set(table["target_emotion"]) == {"happiness", "disgust"}
    assert table["file_name"].str.endswith(".mp4").all()

    page.locator("#ds-filter-emotion input").click()
    page.get_by_role("option", name="happiness").click()
    page.wait_for_function(
        "() => document.querySelector('#ds-count').innerText.includes('1 of 2 videos shown')"
    )
    page.locator("#ds-sample input").click()
    page.get_by_role("option").first.click()
    video = page.wait_for_selector("#ds-sample-video video")
    duration = video.evaluate(
        """async v => { if (v.readyState < 1)
            await new Promise(r => v.addEventListener('loadedmetadata', r));
            return v.duration; }"""
    )
    assert duration == pytest.approx(33 / 24, abs=0.1)
    snap(page, shots, "06-dataset-filtered")

    (meta,) = server[1].rglob("e2e-demo*/metadata.csv")  # each face its own id: photo id + "-0"
    assert pd.read_csv(meta)["face_id"].str.endswith("-0").all()
    page.reload()  # the job lives on disk: a new page finds it, finished
    page.get_by_role("tab", name="Dataset").click()
    page.wait_for_function(
        "() => (document.querySelector('#ds-progress-text') || {}).innerText"
        " === 'Finished: 2 of 2 videos'"
    )


def test_reports_tab_runs_a_report_or_says_it_is_missing(page, server, shots: Path) -> None:
    """Its own tiny dataset, so the test holds whichever xdist worker runs it."""
    from equime.cli import main
    from equime.ui.reports import available_commands

    dataset = server[1] / "datasets" / "reports-demo"
    tiny = ["--emotions", "happiness", "--limit", "1", "--frames", "33", "--size", "128"]
    assert main(["generate", "--demo", "--out", str(dataset), *tiny, "--no-progress"]) == 0
    page.reload()
    page.get_by_role("tab", name="Reports").click()
    page.locator("#rep-dataset input").click()
    page.get_by_role("option", name="reports-demo").click()
    page.click("#rep-stats")
    if "stats" in available_commands():
        page.wait_for_selector("#rep-gallery img", timeout=90_000)
        assert "Finished" in page.inner_text("#rep-status")
    else:
        error = page.wait_for_selector("#rep-status .equime-error")
        assert "not part of this EquiME installation" in error.inner_text()
    assert "Traceback" not in page.inner_text("body")
    snap(page, shots, "07-reports")


def test_check_tab_reports_a_dataset_and_refuses_a_plain_folder(page, server, shots: Path) -> None:
    """`equime datasets check` from the page: a generated folder is usable, an empty one is not."""
    from equime.cli import main

    dataset = server[1] / "datasets" / "check-demo"
    tiny = ["--emotions", "happiness,anger", "--frames", "33", "--size", "128"]
    assert main(["generate", "--demo", "--out", str(dataset), *tiny, "--no-progress"]) == 0
    (server[1] / "datasets" / "not-a-dataset").mkdir()
    page.reload()
    page.get_by_role("tab", name="Check").click()
    for name, expect in (
        ("check-demo", "#chk-done"),
        ("not-a-dataset", "#chk-status .equime-error"),
    ):
        page.locator("#chk-folder input").click()
        page.get_by_role("option", name=f"datasets/{name}").click()
        page.click("#chk-run")
        shown = page.wait_for_selector(expect, timeout=90_000).inner_text()
        if name == "check-demo":
            assert "4 clips, 0 skipped" in shown
            assert "happiness" in page.locator("#chk-report textarea").input_value()
            snap(page, shots, "08-check")
        else:
            assert "not-a-dataset" in shown and len(shown.strip().splitlines()) == 1
    assert "Traceback" not in page.inner_text("body")


def test_long_videos_from_the_page_then_the_spot_report(page, server, shots: Path) -> None:
    """A person makes a long video (micro + macro expressions) at a chosen difficulty and reads
    its spotting report."""
    page.reload()
    page.get_by_role("tab", name="Dataset").click()
    page.locator("#ds-name input, #ds-name textarea").first.fill("e2e-long")
    page.locator("#ds-limit input").fill("1")
    page.locator("#ds-workers input").fill("1")
    page.locator("#ds-size label", has_text="128").click()
    page.locator("#ds-long input").check()
    page.locator("#ds-duration input").fill("10")
    page.locator("#ds-difficulty label", has_text="hard").click()
    page.click("#ds-run")
    page.wait_for_function(
        "() => (document.querySelector('#ds-progress-text') || {}).innerText"
        " === 'Finished: 1 of 1 videos'",
        timeout=180_000,
    )
    page.get_by_role("tab", name="Reports").click()
    page.locator("#rep-dataset input").click()
    page.get_by_role("option", name="e2e-long").click()
    page.click("#rep-spot")
    page.wait_for_selector("#rep-gallery img", timeout=180_000)
    page.wait_for_function(
        "() => document.querySelector('#rep-md').innerText.includes('Spotting score')"
    )
    assert "micro-expressions" in page.inner_text("#rep-md")
    (card,) = server[1].rglob("e2e-long*/dataset.json")
    assert '"preset": "hard"' in card.read_text()
    shown = page.inner_text("#rep-md")  # spot.md: the method and the unusable stretches
    assert "Method: motion" in shown and "unusable stretches" in shown
    assert "Traceback" not in page.inner_text("body")
    snap(page, shots, "09-long-spot")


def test_recognise_tab_answers_with_the_flow_it_read(page, server, shots: Path) -> None:
    """A trained recogniser in the working folder; a person uploads a generated clip and reads
    the answer and its flow image; a clip with no face gets one line."""
    from mer_fixtures import tiny_flow_recogniser

    from equime.faces.samples import sample_path

    trained = tiny_flow_recogniser(server[1] / "models-work")
    clip = sorted((trained["data"] / "videos").rglob("*happiness*.mp4"))[0]
    page.reload()
    page.get_by_role("tab", name="Recognise").click()
    page.locator("#rec-model input").click()
    page.get_by_role("option", name="models-work/model").click()
    for video, expect in ((clip, "#rec-answer"), (sample_path("no_face.mp4"), ".equime-error")):
        clear = page.locator("#rec-video button[aria-label='Clear']")
        if clear.count():
            clear.first.click()
        page.locator("#rec-video input[type=file]").set_input_files(str(video))
        page.click("#rec-run")
        shown = page.wait_for_selector(f"#rec-status {expect}", timeout=90_000).inner_text()
        if video == clip:
            assert "all classes:" in shown and "happiness" in shown
            assert page.eval_on_selector("#rec-flow img", "i => i.naturalWidth") == 224
            snap(page, shots, "10-recognise")
        else:
            assert "no face found" in shown and len(shown.strip().splitlines()) == 1
    assert "Traceback" not in page.inner_text("body")
