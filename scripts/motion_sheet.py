"""Contact sheet of every AU's motion for one motion source: per AU, frame 0, the apex at E and the
magnified |apex - frame 0| difference, on the first demo face (the astronaut, neutralised).

    PYTHONPATH=src python scripts/motion_sheet.py --motion data [--out docs/img/motion-data.png]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from PIL import Image

from equime.faces.landmarker import Landmarker
from equime.faces.prepare import prepare_face
from equime.faces.sources import demo_sources
from equime.synth.au_motion import MOTIONS
from equime.synth.neutral import neutralise
from equime.synth.warp import WarpGenerator
from equime.verify.agreement import QUIET

GAIN = 6  # magnification of the difference panel


def caption(image: np.ndarray, text: str) -> np.ndarray:
    band = np.full((18, image.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([image, band], 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motion", default="data")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    with Landmarker() as landmarker:
        face = neutralise(prepare_face(demo_sources()[0], landmarker, size=160), landmarker).face
    gen = WarpGenerator(motion=args.motion, appearance=0.0, **QUIET)
    tiles = []
    for number in sorted(MOTIONS):
        apex = gen.apex_frame(face, {str(number): 1.0})
        diff = np.abs(apex.astype(np.int16) - face.image).sum(2, keepdims=True) * GAIN
        diff = np.clip(np.repeat(diff, 3, 2), 0, 255).astype(np.uint8)
        row = np.concatenate([face.image, apex, diff], 1)
        tiles.append(caption(row, f"AU{number}  frame 0 | apex (E) | |difference| x{GAIN}"))
    half = (len(tiles) + 1) // 2
    blank = np.full_like(tiles[0], 255)
    left, right = tiles[:half], tiles[half:] + [blank] * (2 * half - len(tiles))
    sheet = np.concatenate([np.concatenate(left, 0), np.concatenate(right, 0)], 1)
    Image.fromarray(sheet).save(args.out or f"docs/img/motion-{args.motion}.png", optimize=True)


if __name__ == "__main__":
    main()
