"""Appearance changes of AUs whose FACS criteria are mostly not motion: furrows, wrinkles, bulges.

A warp moves pixels; it cannot draw the vertical furrows between lowered brows (AU4), crow's feet
and the cheek bulge of a cheek raise (AU6), nose-root wrinkles (AU9) or a deepening nasolabial
furrow (AU6, AU10, AU12), which FACS lists among these AUs' appearance changes (Ekman, Friesen &
Hager 2002). Each is a soft shading map per face and AU: a furrow is a thin dark line with a faint
highlight on one side (the ridge beside it), a bulge a soft highlight with a shadow under it. At
frame t the image is multiplied by 1 + sum_AU intensity * curve_AU(t) * depth * map_AU, the same
intensity and curve as the AU's motion. The mouth interior of parted lips (AU16/25/26) is shaded
by the warp itself (`warp._shade_gap`), where the gap opens.

Where exactly the lines fall (a few hundredths of an IOD, a few degrees) is drawn from a generator
seeded by the face id: wrinkles belong to a face, so one person's furrows are the same in every
clip, and the same face always gets the same ones. Cheap: maps are built once per face and AU
(a few small polylines and a blur) and applied inside their bounding box.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import cv2
import numpy as np

from equime.faces import regions as r
from equime.facs.aus import parse_code

FURROW = 0.16  # darkening at a furrow's centre line at intensity 1 (share of the pixel value)
RIDGE = 0.35  # highlight beside a furrow, as a share of its darkening
BULGE = 0.10  # cheek-bulge highlight at intensity 1


@dataclass(frozen=True)
class Shading:
    """A multiplicative shading map for one AU: image * (1 + k * map) inside `box`."""

    box: tuple[int, int, int, int]  # y0, y1, x0, x1
    map: np.ndarray  # (y1 - y0, x1 - x0) float32; < 0 darkens, > 0 lightens


def _rng(face_id: str, code: str) -> np.random.Generator:
    digest = hashlib.sha256(f"appearance/{face_id}/{code}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class _Canvas:
    """Draws furrows and bulges in face coordinates (IOD, origin between the eyes, y down)."""

    def __init__(self, landmarks: np.ndarray, size: int) -> None:
        self.pts = np.asarray(landmarks, np.float64)
        self.frame = r.face_frame(self.pts)
        self.q = self.frame.to_face(self.pts)  # every landmark in face coordinates
        self.size = size
        self.dark = np.zeros((size, size), np.float32)
        self.light = np.zeros((size, size), np.float32)

    def px(self, face_xy: np.ndarray) -> np.ndarray:
        f = self.frame
        xy = np.atleast_2d(np.asarray(face_xy, np.float64)) * f.iod
        return f.origin + xy[:, :1] * f.ex + xy[:, 1:] * f.ey

    def furrow(self, line: np.ndarray, ridge_side: np.ndarray, weight: float = 1.0) -> None:
        """A dark line along `line` (k, 2 face coords), a highlight shifted toward `ridge_side`."""
        width = max(1, round(0.012 * self.frame.iod))
        for canvas, shift, w in ((self.dark, 0.0, weight), (self.light, 0.025, RIDGE * weight)):
            pts = self.px(line + shift * np.asarray(ridge_side, np.float64))
            cv2.polylines(
                canvas, [np.round(pts * 16).astype(np.int32)], False, w, width, cv2.LINE_AA, 4
            )

    def bulge(self, centre: np.ndarray, radii: tuple[float, float], weight: float = 1.0) -> None:
        c = self.px(centre)[0]
        axes = (max(1, round(radii[0] * self.frame.iod)), max(1, round(radii[1] * self.frame.iod)))
        angle = float(np.degrees(np.arctan2(self.frame.ex[1], self.frame.ex[0])))
        cv2.ellipse(self.light, (round(c[0]), round(c[1])), axes, angle, 0, 360, weight, -1)

    def shading(self, blur: float = 0.022) -> Shading | None:
        sigma = max(blur * self.frame.iod, 0.5)
        width = max(1, round(0.012 * self.frame.iod))
        peak = math.erf(width / (2 * math.sqrt(2) * sigma))  # a blurred line's centre value
        dark = cv2.GaussianBlur(self.dark, (0, 0), sigma) / np.float32(peak)
        light = cv2.GaussianBlur(self.light, (0, 0), 3 * sigma)
        total = FURROW * (light - dark)
        nz = np.abs(total) > 1e-3
        if not nz.any():
            return None
        ys, xs = np.flatnonzero(nz.any(1)), np.flatnonzero(nz.any(0))
        y0, y1, x0, x1 = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
        return Shading((y0, y1, x0, x1), np.ascontiguousarray(total[y0:y1, x0:x1]))


def _sides(side: str) -> tuple[str, ...]:
    return (side,) if side else ("R", "L")


def _out(s: str) -> float:
    return -1.0 if s == "R" else 1.0  # face x of the subject's right is negative


def _brow_furrows(c: _Canvas, rng: np.random.Generator, side: str) -> None:
    """AU4: vertical furrows between the brows, converging slightly downward."""
    top = c.q[[55, 285]].mean(0)[1] - 0.08
    bottom = c.q[168][1] + 0.02
    mid = c.q[[9, 168]].mean(0)[0]
    for s in _sides(side):
        x = mid + _out(s) * (0.07 + rng.uniform(-0.01, 0.01))
        line = np.array([[x + _out(s) * 0.015, top], [x, (top + bottom) / 2], [x, bottom]])
        c.furrow(line, [_out(s), 0.0])


def _nasolabial(c: _Canvas, rng: np.random.Generator, side: str, weight: float) -> None:
    """The furrow from the nose wing to beside the lip corner, deepened by AU6/10/12."""
    for s in _sides(side):
        wing = c.q[129 if s == "R" else 358]
        corner = c.q[61 if s == "R" else 291]
        start = wing + np.array([_out(s) * 0.04, 0.0])
        end = corner + np.array([_out(s) * (0.07 + rng.uniform(0, 0.02)), -0.02])
        mid = (start + end) / 2 + np.array([_out(s) * 0.04, 0.0])
        c.furrow(np.stack([start, mid, end]), [_out(s), 0.0], weight)


def _crows_feet(c: _Canvas, rng: np.random.Generator, side: str) -> None:
    """AU6: crow's feet at the outer eye corner, the cheek bulge, the lower-lid furrow."""
    for s in _sides(side):
        corner = c.q[33 if s == "R" else 263]
        for angle in np.radians(np.array([-28.0, 0.0, 25.0]) + rng.uniform(-6, 6, 3)):
            d = np.array([_out(s) * np.cos(angle), np.sin(angle)])
            c.furrow(np.stack([corner + 0.1 * d, corner + 0.2 * d]), [0.0, -1.0], 0.7)
        cheek = c.q[list(r.UNDER_EYE[s])].mean(0) + np.array([0.0, 0.14])
        c.bulge(cheek, (0.14, 0.07), BULGE / FURROW)
        under = c.q[list(r.LOWER_LID_RING[s])] + np.array([0.0, 0.06])
        c.furrow(under[1:-1], [0.0, 1.0], 0.5)
    _nasolabial(c, rng, side, 0.6)


def _nose_wrinkles(c: _Canvas, rng: np.random.Generator, side: str) -> None:
    """AU9: short oblique wrinkles across the nose root and the sides of the nose."""
    root = c.q[[6, 197]].mean(0)
    for k in range(3):
        y = root[1] + 0.05 * k + rng.uniform(-0.01, 0.01)
        c.furrow(np.array([[root[0] - 0.09, y + 0.02], [root[0], y], [root[0] + 0.09, y + 0.02]]),
                 [0.0, -1.0], 0.5)  # fmt: skip
    _nasolabial(c, rng, side, 0.5)


_PAINTERS = {
    4: _brow_furrows,
    6: _crows_feet,
    9: _nose_wrinkles,
    10: lambda c, rng, side: _nasolabial(c, rng, side, 0.6),
    12: lambda c, rng, side: _nasolabial(c, rng, side, 0.7),
}
APPEARANCE_AUS = tuple(_PAINTERS)


def shading(face_id: str, landmarks: np.ndarray, size: int, code: str) -> Shading | None:
    """The shading map of AU `code` on this face at intensity 1, or None (motion only)."""
    side, number, _ = parse_code(code)
    if number not in _PAINTERS:
        return None
    canvas = _Canvas(landmarks, size)
    _PAINTERS[number](canvas, _rng(face_id, code), side)
    return canvas.shading()


def apply(frame: np.ndarray, parts: list[tuple[Shading, float]]) -> None:
    """frame *= 1 + sum(weight * map), in place, over the union of the maps' boxes."""
    parts = [(s, w) for s, w in parts if w > 0]
    if not parts:
        return
    y0 = min(s.box[0] for s, _ in parts)
    y1 = max(s.box[1] for s, _ in parts)
    x0 = min(s.box[2] for s, _ in parts)
    x1 = max(s.box[3] for s, _ in parts)
    gain = np.ones((y1 - y0, x1 - x0), np.float32)
    for s, w in parts:
        a, b, c, d = s.box
        gain[a - y0 : b - y0, c - x0 : d - x0] += np.float32(w) * s.map
    patch = frame[y0:y1, x0:x1].astype(np.float32) * gain[..., None]
    frame[y0:y1, x0:x1] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)
