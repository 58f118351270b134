"""Contact sheet of the demo's start faces: each photo as given, the face its videos start from
(the astronaut neutralised, Grace Hopper untouched), and two emotions at apex from that start.

    PYTHONPATH=src python scripts/neutral_sheet.py [--out docs/img/neutral-start.png]

Each panel is labelled with what the toolkit's own measure (`equime.faces.expression`) reads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from equime.faces.expression import describe, measure
from equime.faces.landmarker import Landmarker
from equime.faces.prepare import prepare_face
from equime.faces.sources import demo_sources
from equime.synth.neutral import neutralise
from equime.synth.warp import WarpGenerator

EMOTIONS = {"happiness": {"6": 0.4, "12": 0.4}, "sadness": {"1": 0.4, "4": 0.4, "15": 0.4}}


def label(image: np.ndarray, lines: list[str]) -> np.ndarray:
    """The image with a white caption band of `lines` under it."""
    band = np.full((16 * len(lines) + 6, image.shape[1], 3), 255, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(band, text, (4, 14 + 16 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)  # fmt: skip
    return np.concatenate([image, band], 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/img/neutral-start.png")
    args = parser.parse_args()
    gen = WarpGenerator()
    rows = []
    with Landmarker(max_faces=1) as landmarker:

        def read(image: np.ndarray) -> str:
            return describe(measure(landmarker.detect(image)[0].blendshapes)) or "neutral"

        for src in demo_sources():
            face = prepare_face(src, landmarker, size=256)
            start = neutralise(face, landmarker).face
            panels = [
                label(face.image, ["photo as given", read(face.image)]),
                label(start.image, ["video starts from", read(start.image)]),
            ]
            for emotion, aus in EMOTIONS.items():
                apex = gen.apex_frame(start, aus)
                panels.append(label(apex, [f"{emotion} apex (0.4)", read(apex)]))
            rows.append(np.concatenate(panels, 1))
    height = max(r.shape[0] for r in rows)
    pad = [((0, height - r.shape[0]), (0, 0), (0, 0)) for r in rows]
    rows = [np.pad(r, p, constant_values=255) for r, p in zip(rows, pad, strict=True)]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, 0)).save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
