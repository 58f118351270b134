"""Pictures a person can look at: contact sheets (rows = emotions, columns = expression frames).

The last column magnifies |apex - neutral|, because a micro-expression is, by design, hard to see.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from equime.dataset.layout import DatasetLayout
from equime.files import write_atomic

COLUMNS = 8
LABEL_WIDTH = 110
DIFF_GAIN = 8.0


def expression_frames(
    frames: np.ndarray, onset: int, offset: int, columns: int = COLUMNS
) -> list[int]:
    """Evenly spaced frame indices from onset to offset inclusive."""
    last = min(offset, len(frames) - 1)
    return [round(i) for i in np.linspace(onset, last, columns)]


def difference_overlay(neutral: np.ndarray, apex: np.ndarray) -> np.ndarray:
    """|apex - neutral| magnified, in red over the dimmed grey apex frame: where the face moved."""
    diff = np.abs(apex.astype(np.float32) - neutral.astype(np.float32)).mean(axis=2) * DIFF_GAIN
    grey = apex.astype(np.float32).mean(axis=2) * 0.5
    out = np.stack([grey + diff, grey, grey], axis=-1)
    return np.clip(out, 0, 255).astype(np.uint8)


def contact_sheet(
    rows: list[tuple[str, np.ndarray, int, int, int]], thumb: int = 128
) -> Image.Image:
    """rows: (label, frames, onset, apex, offset). Returns the sheet as an RGB image."""
    header = 22
    width = LABEL_WIDTH + (COLUMNS + 1) * thumb
    sheet = Image.new("RGB", (width, header + len(rows) * thumb), "white")
    draw = ImageDraw.Draw(sheet)
    for c in range(COLUMNS):
        draw.text((LABEL_WIDTH + c * thumb + 4, 5), "onset" if c == 0 else "", fill="black")
    draw.text((LABEL_WIDTH + (COLUMNS - 1) * thumb + 4, 5), "offset", fill="black")
    draw.text(
        (LABEL_WIDTH + COLUMNS * thumb + 4, 5), f"|apex-neutral| x{DIFF_GAIN:g}", fill="black"
    )
    for r, (label, frames, onset, apex, offset) in enumerate(rows):
        y = header + r * thumb
        draw.text((6, y + thumb // 2 - 6), label, fill="black")
        for c, index in enumerate(expression_frames(frames, onset, offset)):
            tile = Image.fromarray(frames[index]).resize((thumb, thumb), Image.Resampling.LANCZOS)
            sheet.paste(tile, (LABEL_WIDTH + c * thumb, y))
            draw.text((LABEL_WIDTH + c * thumb + 3, y + 3), f"{index}", fill="yellow")
        tile = Image.fromarray(difference_overlay(frames[onset], frames[apex]))
        sheet.paste(
            tile.resize((thumb, thumb), Image.Resampling.LANCZOS),
            (LABEL_WIDTH + COLUMNS * thumb, y),
        )
    return sheet


def known_or_span(row: dict, n_frames: int) -> tuple[int, int, int]:
    """(onset, apex, offset): the recorded or estimated ones; for a video without timing
    (LTX before verification) the whole clip, with its middle as 'apex'."""
    for keys in (("onset", "apex", "offset"), ("est_onset", "est_apex", "est_offset")):
        values = [row.get(k) for k in keys]
        if all(v is not None and not pd.isna(v) for v in values):
            return int(values[0]), int(values[1]), int(values[2])
    return 0, n_frames // 2, n_frames - 1


def save_png(image: Image.Image, path: Path, tmp_dir: Path | None = None) -> None:
    write_atomic(path, lambda tmp: image.save(tmp, format="PNG"), tmp_dir)


def write_dataset_contact_sheet(
    layout: DatasetLayout, frame: pd.DataFrame, emotions: tuple[str, ...]
) -> Path:
    """One sheet for the dataset's first face: a row per emotion, in the config's order."""
    from equime.video.mp4 import read_mp4

    first = frame[frame["face_id"] == frame["face_id"].iloc[0]].drop_duplicates("target_emotion")
    order = {emotion: i for i, emotion in enumerate(emotions)}
    first = first.sort_values("target_emotion", key=lambda col: col.map(order))
    rows = []
    for r in first.itertuples():
        frames = read_mp4(layout.root / r.file_name)
        rows.append((r.target_emotion, frames, *known_or_span(r._asdict(), len(frames))))
    save_png(contact_sheet(rows), layout.contact_sheet, layout.tmp)
    return layout.contact_sheet
