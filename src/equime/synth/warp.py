"""The embedded generator: X = G(Z, Y) + eps_X by warping the neutral photo with AU motion fields.

G: each AU code gets a dense displacement field per unit intensity, interpolated from its landmark
displacements (`equime.synth.au_motion`) with normalised Gaussian splats: near a cluster of moving
landmarks the field equals their (weighted mean) displacement, away from them it decays like a
Gaussian of width `sigma`, and held landmarks (face outline, AU-specific pins) drag it to zero. The
fields are separable sums, so one costs two small matrix products. A frame is
`remap(image, grid + curve[t] * field)`, computed only inside the field's bounding box.

eps_X: head motion, lighting drift and sensor noise, each with its own knob and its own random
substream of `spec.seed`, so a different seed changes only eps_X and every knob can be switched off
(all at 0: frames outside the expression are the photo, byte for byte).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.special import ndtri

from equime.errors import EquimeError
from equime.faces import regions
from equime.faces.face import Face
from equime.facs.aus import check_intensity, normalise_code, parse_code
from equime.synth.au_motion import LIP_GAP_AUS, landmark_motion, motion, response
from equime.synth.base import SynthSpec, register_generator

HOLD_WEIGHT = 1.0  # a held landmark weighs as much as a moving one: it pins the skin near it
SNAP_PX = 0.02  # field values below this are set to exactly 0 (background stays byte-identical)
MAX_GAIN = 2.0  # cap on that rescaling (a landmark boxed in by pins cannot be forced)
MIN_JACOBIAN = 0.05  # the mapping must never compress an area below this (no fold-over)
GAP_SHADE = 0.45  # darkening of the opened lip gap (mouth interior) at full opening
_CACHE_SIZE = 128  # per-(face, code) unit fields kept; each is S*S*2 float32 (512 KiB at 256 px)


def _gauss(coords: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """(len(coords), len(centres)) 1-D Gaussian weights: one factor of a separable 2-D kernel."""
    d = coords[:, None] - centres[None, :].astype(np.float32)
    return np.exp(d * d * np.float32(-0.5 / sigma**2))


def au_field(landmarks: np.ndarray, code: str, size: int) -> np.ndarray:
    """Backward displacement field (size, size, 2) float32 for one AU code at intensity 1.0.

    Sampling the image at `grid + field` moves each landmark by its displacement (to first order).
    """
    moving, disp, held = landmark_motion(landmarks, code)
    sigma = motion(code).sigma * regions.face_frame(landmarks).iod
    held = np.array(sorted(set(held) | (set(regions.FACE_OVAL) - set(moving))), dtype=np.int64)
    pts = np.asarray(landmarks, np.float32)
    axis = np.arange(size, dtype=np.float32)
    gx_m, gy_m = _gauss(axis, pts[moving, 0], sigma), _gauss(axis, pts[moving, 1], sigma)
    gx_h, gy_h = _gauss(axis, pts[held, 0], sigma), _gauss(axis, pts[held, 1], sigma)
    den = gy_m @ gx_m.T + HOLD_WEIGHT * (gy_h @ gx_h.T)
    np.maximum(den, 1.0, out=den)
    field = np.empty((size, size, 2), np.float32)
    for c in range(2):
        field[..., c] = -((gy_m * disp[:, c].astype(np.float32)) @ gx_m.T) / den
    # Neighbours and pins dilute the splats; rescale so the moving landmarks travel, on average,
    # exactly the distance the motion table gives (the table then means what it says).
    at = np.clip(np.round(pts[moving]).astype(np.int64), 0, size - 1)
    reached = -field[at[:, 1], at[:, 0]]
    gain = float((disp * disp).sum() / max(float((reached * disp).sum()), 1e-6))
    return field * np.float32(min(gain, MAX_GAIN))


def jacobian_det(field: np.ndarray) -> np.ndarray:
    """det(I + grad field) per pixel: > 0 everywhere means the warp neither tears nor folds."""
    dfx_dy, dfx_dx = np.gradient(field[..., 0])
    dfy_dy, dfy_dx = np.gradient(field[..., 1])
    return (1.0 + dfx_dx) * (1.0 + dfy_dy) - dfx_dy * dfy_dx


def _limit_folding(field: np.ndarray) -> np.ndarray:
    """Scale the field down just enough that every intermediate frame keeps det J >= MIN_JACOBIAN.

    Only extreme requests (many strong AUs stacked) need it; the data keeps single AUs far from it.
    """

    def ok(f: np.ndarray) -> bool:
        return all(jacobian_det(c * f).min() >= MIN_JACOBIAN for c in (0.25, 0.5, 0.75, 1.0))

    if ok(field):
        return field
    lo, hi = 0.0, 1.0
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid * field) else (lo, mid)
    return (lo * field).astype(np.float32)


@dataclass(frozen=True)
class ExpressionField:
    """The combined field at apex, cropped to where it is non-zero."""

    field: np.ndarray  # (h, w, 2) float32, backward displacement inside the box
    grid: np.ndarray  # (h, w, 2) float32, absolute pixel coordinates of the box
    box: tuple[int, int, int, int]  # y0, y1, x0, x1 (empty when nothing moves)
    gap: tuple[np.ndarray, np.ndarray] | None = None  # lower inner lip (n, 2) px and its motion

    @property
    def empty(self) -> bool:
        return self.box[0] >= self.box[1]


def _smooth(rng: np.random.Generator, n: int, fps: float, parts: int = 3) -> np.ndarray:
    """A slow random signal with RMS about 1: a few sinusoids of 0.1-0.8 Hz with random phases."""
    t = np.arange(n) / fps
    freq = rng.uniform(0.1, 0.8, parts)
    phase = rng.uniform(0, 2 * np.pi, parts)
    return np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None]).sum(0) / np.sqrt(
        parts / 2
    )


def _noise_luts(std: float) -> tuple[np.ndarray, np.ndarray]:
    """Byte -> (+noise, -noise) tables: a uniform byte through the normal quantile is a Gaussian
    sample, so noise costs one random byte and two saturating table look-ups per value."""
    q = ndtri((np.arange(256) + 0.5) / 256)
    q = np.round(q / q.std() * std)
    return np.clip(q, 0, 255).astype(np.uint8), np.clip(-q, 0, 255).astype(np.uint8)


def _shade_gap(frame: np.ndarray, expr: ExpressionField, c: float) -> None:
    """Darken the band the lower lip has uncovered: a warp can only stretch the lip line, and
    parted lips read as parted (to people and to landmarkers) only with a darker mouth interior."""
    if expr.gap is None:
        return
    lip, motion_px = expr.gap
    down = np.maximum(motion_px[:, 1], 0.0) * c
    if down.max() < 0.5:
        return
    lower = lip + np.stack([np.zeros_like(down), down], axis=1)
    poly = np.concatenate([lip, lower[::-1]])
    x0, y0 = np.floor(poly.min(0)).astype(int) - 2
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    pts = np.round((poly - [x0, y0]) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1.0, lineType=cv2.LINE_AA, shift=4)
    mask = cv2.GaussianBlur(mask, (3, 3), 0)
    gain = 1.0 - GAP_SHADE * min(1.0, float(down.max()) / 4.0) * mask
    patch = frame[y0:y1, x0:x1].astype(np.float32) * gain[..., None]
    frame[y0:y1, x0:x1] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)


_EDGE = {"borderMode": cv2.BORDER_REPLICATE}
HEAD_MARGIN = 0.45  # the head reaches this far (inter-ocular distances) beyond the face oval (hair)
HEAD_FADE = 0.25  # width of the fade from head to background, inter-ocular distances


@dataclass(frozen=True)
class HeadBasis:
    """Precomputed pieces of the head-motion map, one channel each so cv2 can combine them fast:
    x = gx + tx * weight + angle * rx,  y = gy + ty * weight + angle * ry."""

    gx: np.ndarray
    gy: np.ndarray
    weight: np.ndarray  # 1 on the head, 0 on the background
    rx: np.ndarray  # weight * d(source x)/d(angle) about the face centre
    ry: np.ndarray


def head_basis(landmarks: np.ndarray, size: int) -> HeadBasis:
    frame = regions.face_frame(landmarks)
    oval = np.asarray(landmarks, np.float32)[list(regions.FACE_OVAL)]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, np.round(oval).astype(np.int32), 1)
    grow = max(1, round(HEAD_MARGIN * frame.iod))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), HEAD_FADE * frame.iod)
    weight = np.clip((soft - 0.05) / 0.95, 0.0, 1.0)  # exactly 0 on the far background
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy = oval.mean(axis=0)
    return HeadBasis(xs, ys, weight, -weight * (ys - cy), weight * (xs - cx))


@register_generator("warp")
class WarpGenerator:
    """Landmark-driven warp of the neutral face; CPU only, deterministic, fast."""

    name = "warp"
    version = "1.1"

    def __init__(
        self,
        strength: float = 1.0,
        head_motion_px: float = 0.3,
        light_drift: float = 0.01,
        sensor_noise: float = 1.0,
    ) -> None:
        for key, value in (
            ("strength", strength),
            ("head_motion_px", head_motion_px),
            ("light_drift", light_drift),
            ("sensor_noise", sensor_noise),
        ):
            if not np.isfinite(value) or value < 0:
                raise EquimeError(f"warp option {key}={value} must be a number >= 0")
        self.strength = float(strength)
        self.head_motion_px = float(head_motion_px)
        self.light_drift = float(light_drift)
        self.sensor_noise = float(sensor_noise)
        self._fields: OrderedDict[tuple[str, bytes, int, str], np.ndarray] = OrderedDict()
        self._exprs: OrderedDict[tuple, ExpressionField] = OrderedDict()
        self._heads: dict[tuple[str, bytes, int], HeadBasis] = {}

    # --- G(Z, Y) ---------------------------------------------------------------------------------

    @staticmethod
    def _face_key(face: Face) -> tuple[str, bytes, int]:
        return (face.face_id, np.asarray(face.landmarks, np.float32).tobytes(), face.size)

    def unit_field(self, face: Face, code: str) -> np.ndarray:
        """au_field for one face, cached per (face, code): a video reuses them for every Z."""
        key = (*self._face_key(face), code)
        field = self._fields.get(key)
        if field is None:
            field = au_field(face.landmarks, code, face.size)
            self._fields[key] = field
            if len(self._fields) > _CACHE_SIZE:
                self._fields.popitem(last=False)
        else:
            self._fields.move_to_end(key)
        return field

    def expression_field(self, face: Face, aus: dict[str, float]) -> ExpressionField:
        """Sum of response(intensity) * unit field over Z (`au_motion.response`: subtle AUs are
        boosted at micro intensities), times `strength`, fold-limited and cropped."""
        key = (*self._face_key(face), tuple(sorted((str(k), float(v)) for k, v in aus.items())))
        expr = self._exprs.get(key)
        if expr is None:
            expr = self._build_expression(face, aus)
            self._exprs[key] = expr
            if len(self._exprs) > _CACHE_SIZE // 8:
                self._exprs.popitem(last=False)
        else:
            self._exprs.move_to_end(key)
        return expr

    def _build_expression(self, face: Face, aus: dict[str, float]) -> ExpressionField:
        size = face.size
        total = np.zeros((size, size, 2), np.float32)
        for raw, value in sorted(aus.items()):
            code = normalise_code(raw)
            intensity = response(code, check_intensity(code, float(value))) * self.strength
            if intensity > 0:
                total += np.float32(intensity) * self.unit_field(face, code)
        total = _limit_folding(total)
        total[np.abs(total) < SNAP_PX] = 0.0
        moving = np.abs(total).max(axis=2) > 0
        rows, cols = np.flatnonzero(moving.any(axis=1)), np.flatnonzero(moving.any(axis=0))
        if rows.size == 0:
            empty = np.zeros((0, 0, 2), np.float32)
            return ExpressionField(empty, empty, (0, 0, 0, 0))
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        grid = np.ascontiguousarray(np.stack([xs, ys], axis=-1))
        box = (int(y0), int(y1), int(x0), int(x1))
        gap = None
        if any(parse_code(c)[1] in LIP_GAP_AUS and v > 0 for c, v in aus.items()):
            lip = np.asarray(face.landmarks, np.float32)[list(regions.LOWER_LIP_INNER)]
            at = np.clip(np.round(lip).astype(np.int64), 0, size - 1)
            gap = (lip, -total[at[:, 1], at[:, 0]])
        return ExpressionField(np.ascontiguousarray(total[y0:y1, x0:x1]), grid, box, gap)

    def apex_frame(self, face: Face, aus: dict[str, float]) -> np.ndarray:
        """`face.image` showing Z at its apex: no timeline, no eps_X (verify renders single AU
        templates with it, so the read-out learns what a detector sees for each AU's motion)."""
        frame = np.ascontiguousarray(face.image).copy()
        expr = self.expression_field(face, aus)
        if not expr.empty:
            y0, y1, x0, x1 = expr.box
            grid = cv2.add(expr.field, expr.grid)
            frame[y0:y1, x0:x1] = cv2.remap(face.image, grid, None, cv2.INTER_LINEAR, **_EDGE)
            _shade_gap(frame, expr, 1.0)
        return frame

    # --- frames ----------------------------------------------------------------------------------

    def __call__(self, face: Face, spec: SynthSpec) -> np.ndarray:
        image = np.ascontiguousarray(face.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise EquimeError(f"face {face.face_id}: image must be (S, S, 3) uint8")
        expr = self.expression_field(face, spec.aus)
        curve = spec.timeline.curve().astype(np.float32)
        n, size = len(curve), face.size
        motion_rng, light_rng, noise_rng = (
            np.random.Generator(np.random.PCG64(s))
            for s in np.random.SeedSequence(spec.seed).spawn(3)
        )
        shift = self._head_motion(motion_rng, n, spec.timeline.fps, size)
        head = self.head_basis(face) if shift is not None else None
        frames = np.empty((n, size, size, 3), np.uint8)
        for t in range(n):
            c = float(curve[t]) if not expr.empty else 0.0
            if head is None:
                frames[t] = image
                if c > 0:
                    y0, y1, x0, x1 = expr.box
                    grid = cv2.scaleAdd(expr.field, c, expr.grid)
                    frames[t, y0:y1, x0:x1] = cv2.remap(
                        image, grid, None, cv2.INTER_LINEAR, **_EDGE
                    )
                    _shade_gap(frames[t], expr, c)
                continue
            tx, ty, a = (float(v) for v in shift[t])
            # the head moves rigidly (shift + tiny turn about its centre); the background does not
            mx = cv2.scaleAdd(head.rx, a, cv2.scaleAdd(head.weight, tx, head.gx))
            my = cv2.scaleAdd(head.ry, a, cv2.scaleAdd(head.weight, ty, head.gy))
            if c > 0:
                y0, y1, x0, x1 = expr.box
                mx[y0:y1, x0:x1] += np.float32(c) * expr.field[..., 0]
                my[y0:y1, x0:x1] += np.float32(c) * expr.field[..., 1]
            cv2.remap(image, mx, my, cv2.INTER_LINEAR, frames[t], **_EDGE)
            if c > 0:
                _shade_gap(frames[t], expr, c)
        self._light(light_rng, frames, spec.timeline.fps)
        self._noise(noise_rng, frames)
        return frames

    # --- eps_X -----------------------------------------------------------------------------------

    def head_basis(self, face: Face) -> HeadBasis:
        """Where head motion applies: 1 on the head, fading to 0 on the background (cached)."""
        key = self._face_key(face)
        if key not in self._heads:
            self._heads[key] = head_basis(face.landmarks, face.size)
            if len(self._heads) > _CACHE_SIZE // 8:
                self._heads.pop(next(iter(self._heads)))
        return self._heads[key]

    def _head_motion(
        self, rng: np.random.Generator, n: int, fps: float, size: int
    ) -> np.ndarray | None:
        """(n, 3) per-frame (tx px, ty px, rotation rad), or None when the knob is 0."""
        if self.head_motion_px == 0:
            return None
        tx, ty, rot = (_smooth(rng, n, fps) for _ in range(3))
        angle = rot * 0.5 * self.head_motion_px / (size / 2)  # half the shift, at the image edge
        return np.stack([tx * self.head_motion_px, ty * self.head_motion_px, angle], axis=1)

    def _light(self, rng: np.random.Generator, frames: np.ndarray, fps: float) -> None:
        """Slow global gain 1 + light_drift * s(t), through a per-frame lookup table."""
        if self.light_drift == 0:
            return
        gain = 1.0 + self.light_drift * _smooth(rng, len(frames), fps)
        levels = np.arange(256, dtype=np.float64)
        for t, g in enumerate(gain):
            lut = np.clip(np.round(levels * g), 0, 255).astype(np.uint8)
            cv2.LUT(frames[t], lut, dst=frames[t])

    def _noise(self, rng: np.random.Generator, frames: np.ndarray) -> None:
        """Per-pixel Gaussian-like noise of std `sensor_noise` grey levels, fresh every frame."""
        if self.sensor_noise == 0:
            return
        plus, minus = _noise_luts(self.sensor_noise)
        shape = frames.shape[1:]
        count = int(np.prod(shape))
        for t in range(len(frames)):
            # raw generator words viewed as bytes: 3x cheaper than integers(0, 256)
            raw = rng.bit_generator.random_raw(-(-count // 8)).view(np.uint8)
            draw = raw[:count].reshape(shape)
            cv2.add(frames[t], cv2.LUT(draw, plus), dst=frames[t])
            cv2.subtract(frames[t], cv2.LUT(draw, minus), dst=frames[t])
