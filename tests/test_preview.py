"""`equime preview` and contact sheets: pictures a person looks at."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from equime.cli import main
from equime.dataset.contact_sheet import COLUMNS, difference_overlay, expression_frames
from equime.faces.sources import demo_sources
from equime.facs.emotions import EMOTIONS
from equime.video.mp4 import read_mp4


def test_preview_writes_a_video_per_emotion_and_a_sheet(tmp_path: Path) -> None:
    photo = demo_sources()[1].path
    out = tmp_path / "prévia"
    assert main(["preview", str(photo), "--out", str(out), "--frames", "33", "--size", "128"]) == 0
    for emotion in EMOTIONS:
        assert read_mp4(out / f"{emotion}.mp4").shape == (33, 128, 128, 3)
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.height > 7 * 128 and sheet.width > (COLUMNS + 1) * 128


def test_preview_of_a_bad_file_is_one_line(tmp_path: Path, capsys) -> None:
    fake = tmp_path / "face.jpg"
    fake.write_text("not a photo")
    assert main(["preview", str(fake), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert str(fake) in err and "not a readable image" in err and len(err.splitlines()) == 1


def test_sheet_columns_span_the_expression() -> None:
    frames = np.zeros((40, 4, 4, 3), np.uint8)
    idx = expression_frames(frames, onset=10, offset=24)
    assert idx[0] == 10 and idx[-1] == 24 and len(idx) == COLUMNS and idx == sorted(idx)


def test_difference_overlay_marks_only_what_moved() -> None:
    neutral = np.full((8, 8, 3), 100, np.uint8)
    apex = neutral.copy()
    apex[2, 3] = 130
    overlay = difference_overlay(neutral, apex).astype(int)
    red_excess = overlay[..., 0] - overlay[..., 1]
    assert red_excess[2, 3] > 100 and (np.delete(red_excess.ravel(), 2 * 8 + 3) == 0).all()
