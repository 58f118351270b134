"""Asking a trained recogniser about one uploaded clip from the page: which checkpoints the page
may use, the upload checked and stored, the `equime predict` job, and its answer read back.
Plain Python (no Gradio): tab_recognise.py is the view."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pandas as pd

from equime.errors import EquimeError
from equime.mer.datasets.folder import VIDEO_SUFFIXES  # what equime predict reads
from equime.ui.safety import inside, safe_name

MAX_VIDEO_BYTES = 50 * 2**20
SEARCH_DEPTH = 6  # folders below the working folder searched for checkpoints


def checkpoints(work: Path) -> list[tuple[str, str]]:
    """(label, path) of every checkpoint folder (config.json + model.safetensors) in `work`."""
    found = []
    for config in sorted(work.rglob("config.json")):
        depth = len(config.relative_to(work).parts)
        if depth <= SEARCH_DEPTH and (config.parent / "model.safetensors").is_file():
            found.append((str(config.parent.relative_to(work)), str(config.parent.resolve())))
    return found


def store_video(upload: str | Path, folder: Path) -> Path:
    """Copy an uploaded video under a sanitised name once its container reads as a video."""
    from equime.video.mp4 import video_info

    src = Path(upload)
    if src.suffix.lower() not in VIDEO_SUFFIXES:
        raise EquimeError(
            f"{src.name}: only videos can be asked about ({', '.join(VIDEO_SUFFIXES)})"
        )
    size = src.stat().st_size if src.is_file() else 0
    if not 0 < size <= MAX_VIDEO_BYTES:
        raise EquimeError(f"{src.name}: the file is empty or larger than 50 MB")
    video_info(src)  # raises a one-line error when it is not a video
    folder.mkdir(parents=True, exist_ok=True)
    dest = inside(folder / f"{uuid.uuid4().hex[:8]}-{safe_name(src.name, 'clip.mp4')}", [folder])
    shutil.copyfile(src, dest)
    return dest


def predict_argv(
    checkpoint: Path, video: Path, out: Path, onset: int | None, apex: int | None
) -> list[str]:
    argv = ["predict", str(checkpoint), str(video), "--out", str(out)]
    argv += ["--flow-dir", str(out.with_suffix("")), "--no-progress"]
    for name, value in (("--onset", onset), ("--apex", apex)):
        if value:  # the page's empty number is 0: the first frame, or an apex to find
            argv += [name, str(int(value))]
    return argv


def answer(out: Path) -> tuple[str, str | None]:
    """The answer as one line of HTML and the flow image it was read from."""
    row = pd.read_csv(out).iloc[0]
    classes = {c[2:]: row[c] for c in row.index if c.startswith("p_")}
    ranked = ", ".join(f"{c} {p:.2f}" for c, p in sorted(classes.items(), key=lambda x: -x[1]))
    if bool(row["unsure"]):
        head = f"unsure ({row['unsure_why']} outside the training clips' range)"
    else:
        head = f"{row['pred']} ({row['confidence']:.2f})"
    apex = f", apex frame {int(row['apex_used'])}" if "apex_used" in row else ""
    text = f'<p id="rec-answer"><b>{head}</b>{apex}; all classes: {ranked}</p>'
    picture = row.get("flow_png")
    return text, str(picture) if isinstance(picture, str) and picture else None
