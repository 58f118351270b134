"""The embedded generator: X = G(Z, Y) + eps_X by warping the neutral photo with AU motion fields.

G: each AU code gets a dense displacement field at intensity E (1.0), interpolated from its
landmark displacements (a motion source, `synth.motion_source`: `data`, fitted on real faces, or
the `table`), varied per person and per video (`synth.variation`), with normalised Gaussian
splats: near moving landmarks the field equals their displacement (`data`: solved exactly through
every mesh vertex; `table`: their weighted mean), away from them it decays like a Gaussian of
width `sigma`, and held landmarks (face outline, pins) drag it to zero. The fields are separable
sums, so one costs two small matrix products. Intensity is linear:
an AU at intensity i is i times its E field (no gain), so the recorded Z is the rendered Z. Each AU
follows its own timeline (`SynthSpec.au_timelines`), so a frame is
`remap(image, grid + sum_AU curve_AU[t] * i_AU * field_AU)`, computed only inside the fields'
bounding box, then shaded with the AUs' appearance changes (`synth.appearance`: furrows, wrinkles)
and, where lips part, a darker mouth interior, all driven by the same intensity and curve.

eps_X: head motion, lighting drift, sensor noise, a small left/right asymmetry of each AU and
optional blinks, each with its own knob and its own random substream of `spec.seed`, so a different
seed changes only eps_X and every knob can be switched off (all at 0: frames outside the expression
are the photo, byte for byte).
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
from equime.synth import appearance
from equime.synth.au_motion import LIP_GAP_AUS, response
from equime.synth.base import SynthSpec, register_generator
from equime.synth.motion_source import DEFAULT, UnitMotion, motion_source
from equime.synth.variation import Variation, person_variation, take_variation, vary

HOLD_WEIGHT = 1.0  # a held landmark weighs as much as a moving one: it pins the skin near it
SNAP_PX = 0.02  # field values below this are set to exactly 0 (background stays byte-identical)
RIDGE = 1e-2  # regularisation of the exact splat weights (no ringing between dense control points)
REACH_SIGMAS = 4.3  # a splat is computed this far from its point (exp(-4.3^2/2) ~ 1e-4)
MAX_GAIN = 2.0  # cap on that rescaling (a landmark boxed in by pins cannot be forced)
MIN_JACOBIAN = 0.05  # the mapping must never compress an area below this (no fold-over)
INVERSE_STEPS = 3  # fixed-point steps inverting a field (`ExpressionField.backward`)
GAP_SHADE = 0.35  # darkening of the opened lip gap (mouth interior), uniform over the gap
_CACHE_SIZE = 128  # per-(face, code) unit fields kept; each is S*S*2 float32 (512 KiB at 256 px)


def _gauss(coords: np.ndarray, centres: np.ndarray, sigma: float) -> np.ndarray:
    """(len(coords), len(centres)) 1-D Gaussian weights: one factor of a separable 2-D kernel."""
    d = coords[:, None] - centres[None, :].astype(np.float32)
    return np.exp(d * d * np.float32(-0.5 / sigma**2))


def au_field(
    landmarks: np.ndarray,
    code: str,
    size: int,
    source: str = DEFAULT,
    variations: tuple[Variation, ...] = (),
) -> np.ndarray:
    """Backward displacement field (size, size, 2) float32 for one AU code at intensity 1.0, from
    motion source `source` (`synth.motion_source`), varied by each of `variations` in turn (the
    person's, then the performance's).

    Sampling the image at `grid + field` moves each landmark by its displacement (to first order).
    """
    unit = _unit_motion(np.asarray(landmarks, np.float32), code, source)
    disp = unit.disp
    for variation in variations:
        disp = vary(landmarks, unit.moving, disp, variation)
    return splat_field(landmarks, unit.moving, disp, unit.held, unit.sigma, size, unit.exact)


_UNITS: OrderedDict[tuple, UnitMotion] = OrderedDict()  # per (face, code, source)


def _unit_motion(landmarks: np.ndarray, code: str, source: str) -> UnitMotion:
    """The source's motion for one face and code, cached: every performance of a face reuses it."""
    key = (landmarks.tobytes(), code, source)
    if key not in _UNITS:
        _UNITS[key] = motion_source(source)(landmarks, code)
        if len(_UNITS) > _CACHE_SIZE:
            _UNITS.popitem(last=False)
    return _UNITS[key]


def splat_field(
    landmarks: np.ndarray,
    moving: np.ndarray,
    disp: np.ndarray,
    held: np.ndarray,
    sigma: float,
    size: int,
    exact: bool = False,
) -> np.ndarray:
    """Dense backward field that moves landmarks `moving` by `disp` (px) and keeps `held` and the
    face outline in place (normalised separable Gaussian splats of width `sigma` px).

    `exact`: the splat weights are solved for (ridge-regularised) so that the field at every
    control point is its displacement (dense meshes, where neighbours would otherwise average
    each other out); else the displacements are splatted as they are and rescaled on average."""
    held = np.array(sorted(set(held) | (set(regions.FACE_OVAL) - set(moving))), dtype=np.int64)
    pts = np.asarray(landmarks, np.float32)
    gx_m, gy_m, den, solve, (y0, y1, x0, x1) = _splat_geometry(
        pts, moving, held, sigma, size, exact
    )
    weights = np.asarray(disp, np.float64)
    if solve is not None:
        weights = solve @ weights
    field = np.zeros((size, size, 2), np.float32)
    coarse = np.stack(
        [-((gy_m * weights[:, c].astype(np.float32)) @ gx_m.T) / den for c in range(2)], -1
    )
    # only where a control point reaches (4.3 sigma), exactly 0 beyond; computed on every 2nd
    # pixel (block centres) and brought up linearly: the field is smooth over sigma >> 2 px
    fine = cv2.resize(
        coarse, (2 * coarse.shape[1], 2 * coarse.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    field[y0:y1, x0:x1] = fine[: y1 - y0, : x1 - x0]
    if exact:
        return field
    # Neighbours and pins dilute the splats; rescale so the moving landmarks travel, on average,
    # exactly the distance the motion table gives (the table then means what it says).
    at = np.clip(np.round(pts[moving]).astype(np.int64), 0, size - 1)
    reached = -field[at[:, 1], at[:, 0]]
    gain = float((disp * disp).sum() / max(float((reached * disp).sum()), 1e-6))
    return field * np.float32(min(gain, MAX_GAIN))


_GEOMETRY: OrderedDict[tuple, tuple] = OrderedDict()  # per (face, control points): reused by
# every AU, intensity and variation of that face (the splat's costly part)


def _splat_geometry(
    pts: np.ndarray, moving: np.ndarray, held: np.ndarray, sigma: float, size: int, exact: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, tuple[int, int, int, int]]:
    """(gx, gy, den, solve, box) of `splat_field`, cached, inside the box (y0, y1, x0, x1) that
    the moving points' splats reach; `solve` (n, n) maps displacements to exact splat weights,
    K w = disp with K_ij = g(p_i, p_j) / den(p_i), ridge-regularised."""
    key = (pts.tobytes(), moving.tobytes(), held.tobytes(), float(sigma), size, exact)
    if key in _GEOMETRY:
        _GEOMETRY.move_to_end(key)
        return _GEOMETRY[key]
    reach = REACH_SIGMAS * sigma
    lo, hi = pts[moving].min(0) - reach, pts[moving].max(0) + reach
    x0, y0 = (max(int(np.floor(v)), 0) for v in lo)
    x1, y1 = (min(int(np.ceil(v)) + 1, size) for v in hi)
    xs = np.arange(x0, x1, 2, dtype=np.float32) + np.float32(0.5)  # 2x2 block centres
    ys = np.arange(y0, y1, 2, dtype=np.float32) + np.float32(0.5)
    gx_m, gy_m = _gauss(xs, pts[moving, 0], sigma), _gauss(ys, pts[moving, 1], sigma)
    gx_h, gy_h = _gauss(xs, pts[held, 0], sigma), _gauss(ys, pts[held, 1], sigma)
    den = gy_m @ gx_m.T + HOLD_WEIGHT * (gy_h @ gx_h.T)
    np.maximum(den, 1.0, out=den)
    solve = None
    if exact:
        p, h = pts[moving].astype(np.float64), pts[held].astype(np.float64)
        g = np.exp(-0.5 * ((p[:, None] - p[None]) ** 2).sum(-1) / sigma**2)
        gh = np.exp(-0.5 * ((p[:, None] - h[None]) ** 2).sum(-1) / sigma**2)
        k = g / np.maximum(g.sum(1) + HOLD_WEIGHT * gh.sum(1), 1.0)[:, None]
        solve = np.linalg.solve(k.T @ k + RIDGE * np.eye(len(p)), k.T)
    _GEOMETRY[key] = (gx_m, gy_m, den, solve, (y0, y1, x0, x1))
    if len(_GEOMETRY) > 8:
        _GEOMETRY.popitem(last=False)
    return _GEOMETRY[key]


def blink_field(landmarks: np.ndarray, size: int, closure: float = 0.9) -> np.ndarray:
    """AU45 at full closure: each upper-lid point moves `closure` of the way to its lower-lid
    partner (both lids are listed outer to inner corner); brows and lower lids stay."""
    pts = np.asarray(landmarks, np.float64)
    upper = np.array([*regions.UPPER_LID["R"], *regions.UPPER_LID["L"]], dtype=np.int64)
    lower = np.array([*regions.LOWER_LID["R"], *regions.LOWER_LID["L"]], dtype=np.int64)
    held = np.array(
        [*lower, *regions.BROW_INNER["R"], *regions.BROW_INNER["L"], *regions.BROW_MIDDLE["R"],
         *regions.BROW_MIDDLE["L"], *regions.BROW_OUTER["R"], *regions.BROW_OUTER["L"]],
        dtype=np.int64,
    )  # fmt: skip
    disp = closure * (pts[lower] - pts[upper])
    sigma = 0.06 * regions.face_frame(pts).iod
    return _limit_folding(splat_field(pts, upper, disp, held, sigma, size))


def side_weight(landmarks: np.ndarray, size: int, width: float = 0.25) -> np.ndarray:
    """(size, size) float32 in [-1, 1]: -1 on the subject's right half, +1 on the left, a smooth
    tanh across the midline over `width` IOD (the asymmetry of an AU scales its halves apart)."""
    pts = np.asarray(landmarks, np.float64)
    frame = regions.face_frame(pts)
    q = frame.to_face(pts)
    mid = q[list(regions.MIDLINE)]
    slope, intercept = np.polyfit(mid[:, 1], mid[:, 0], 1)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    fx = ((xs - frame.origin[0]) * frame.ex[0] + (ys - frame.origin[1]) * frame.ex[1]) / frame.iod
    fy = ((xs - frame.origin[0]) * frame.ey[0] + (ys - frame.origin[1]) * frame.ey[1]) / frame.iod
    return np.tanh((fx - (slope * fy + intercept)) / width).astype(np.float32)


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
    """Z on one face at apex: each AU's field (intensity and fold limit applied), cropped to the box
    where any of them is non-zero, with what the lip-gap shading and appearance need."""

    field: np.ndarray  # (h, w, 2) float32, sum of the parts: the backward displacement at apex
    grid: np.ndarray  # (h, w, 2) float32, absolute pixel coordinates of the box
    box: tuple[int, int, int, int]  # y0, y1, x0, x1 (empty when nothing moves)
    gap: tuple[np.ndarray, np.ndarray] | None = None  # lower inner lip (n, 2) px and its motion
    codes: tuple[str, ...] = ()  # the AU codes, in the order of `parts`
    parts: tuple[np.ndarray, ...] = ()  # per code: its (h, w, 2) field inside the box
    sided: tuple[np.ndarray, ...] = ()  # per code: part * side weight (for the asymmetry)
    gaps: tuple[np.ndarray, ...] = ()  # per code: its motion at the lower inner lip (n, 2)
    shades: tuple[tuple[appearance.Shading | None, float], ...] = ()  # per code: map, intensity

    @property
    def empty(self) -> bool:
        return self.box[0] >= self.box[1]

    def at(self, weights: np.ndarray, asymmetry: np.ndarray | None = None) -> np.ndarray:
        """The field with each part scaled by `weights` (curve values) and, optionally, its
        halves scaled apart by 1 -/+ `asymmetry` (subject's right / left)."""
        out = np.zeros_like(self.field)
        for k, (part, w) in enumerate(zip(self.parts, weights, strict=True)):
            if w > 0:
                cv2.scaleAdd(part, float(w), out, out)
                if asymmetry is not None and asymmetry[k] != 0:
                    cv2.scaleAdd(self.sided[k], float(w * asymmetry[k]), out, out)
        return out

    def backward(self, field: np.ndarray) -> np.ndarray:
        """The sampling offsets that move every point p by exactly -field(p): `field` holds the
        forward motion (negated), and sampling at y + field(y) is only its first-order inverse;
        a motion as large as its fall-off then shows less than its share at high intensity.
        Fixed-point iterations b <- field(y + b) make the shown motion linear in intensity."""
        local = self.grid - np.array([self.box[2], self.box[0]], np.float32)
        out = field
        for _ in range(INVERSE_STEPS):
            out = cv2.remap(field, cv2.add(local, out), None, cv2.INTER_LINEAR)
        return out

    def gap_at(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        if self.gap is None:
            return None
        motion_px = sum(w * g for w, g in zip(weights, self.gaps, strict=True))
        return self.gap[0], np.asarray(motion_px, np.float32)


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


def _shade_gap(frame: np.ndarray, gap: tuple[np.ndarray, np.ndarray] | None) -> None:
    """Darken the band the lower lip has uncovered: a warp can only stretch the lip line, and
    parted lips read as parted (to people and to landmarkers) only with a darker mouth interior."""
    if gap is None:
        return
    lip, motion_px = gap
    down = np.maximum(motion_px[:, 1], 0.0)
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
    gain = 1.0 - GAP_SHADE * mask  # the interior is dark; its area grows with the opening
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
    version = "3.0"  # 3.0: motion from real faces (`data`), per-person variation

    def __init__(
        self,
        strength: float = 1.0,
        head_motion_px: float = 0.3,
        light_drift: float = 0.01,
        sensor_noise: float = 1.0,
        asymmetry: float = 0.1,
        appearance: float = 1.0,
        blink_rate: float = 0.0,
        motion: str = DEFAULT,
        variation: float = 0.05,
        take_variation: float = 0.15,
    ) -> None:
        motion_source(motion)  # an unknown source fails here, before any work
        for key, value in (
            ("strength", strength),
            ("head_motion_px", head_motion_px),
            ("light_drift", light_drift),
            ("sensor_noise", sensor_noise),
            ("asymmetry", asymmetry),
            ("appearance", appearance),
            ("blink_rate", blink_rate),
            ("variation", variation),
            ("take_variation", take_variation),
        ):
            if not np.isfinite(value) or value < 0:
                raise EquimeError(f"warp option {key}={value} must be a number >= 0")
        if asymmetry >= 1:
            raise EquimeError(f"warp option asymmetry={asymmetry} must be below 1")
        self.strength = float(strength)
        self.head_motion_px = float(head_motion_px)
        self.light_drift = float(light_drift)
        self.sensor_noise = float(sensor_noise)
        self.asymmetry = float(asymmetry)  # each AU's halves differ by up to +-this share
        self.appearance = float(appearance)  # furrows, wrinkles, mouth interior (0: motion only)
        self.blink_rate = float(blink_rate)  # blinks per second (AU45), as eps_X
        self.motion = str(motion)  # where AU motion comes from (`synth.motion_source`)
        self.variation = float(variation)  # per-person spread of each AU's pattern (0: none)
        self.take_variation = float(take_variation)  # per-video spread, as eps_X (0: none)
        self._fields: OrderedDict[tuple[str, bytes, int, str], np.ndarray] = OrderedDict()
        self._exprs: OrderedDict[tuple, ExpressionField] = OrderedDict()
        self._heads: dict[tuple[str, bytes, int], HeadBasis] = {}
        self._sides: dict[tuple[str, bytes, int], np.ndarray] = {}
        self._shades: dict[tuple, appearance.Shading | None] = {}

    # --- G(Z, Y) ---------------------------------------------------------------------------------

    @staticmethod
    def _face_key(face: Face) -> tuple[str, bytes, int]:
        return (face.face_id, np.asarray(face.landmarks, np.float32).tobytes(), face.size)

    def person(self, face: Face) -> Variation | None:
        """How this face's motion differs from the model's (None when `variation` is 0)."""
        return person_variation(face.face_id, self.variation) if self.variation > 0 else None

    def performance(self, spec: SynthSpec) -> Variation | None:
        """How this video's performance differs from the person's usual one (eps_X: seeded by the
        video's eps_X seed; None when `take_variation` is 0)."""
        spread = self.take_variation
        return take_variation(spec.seed, spread) if spread > 0 else None

    def _variations(self, face: Face, take: Variation | None) -> tuple[Variation, ...]:
        return tuple(v for v in (self.person(face), take) if v is not None)

    @property
    def row_fields(self) -> dict[str, str]:
        return {"motion_source": self.motion}

    def face_fields(self, face: Face) -> dict[str, str]:
        """Metadata of one video that depends on its face: the person's motion variation."""
        person = self.person(face)
        return {"motion_variation": person.record() if person else ""}

    def unit_field(self, face: Face, code: str, take: Variation | None = None) -> np.ndarray:
        """au_field for one face (and performance), cached per (face, code, performance)."""
        key = (*self._face_key(face), code, take.seed if take else None)
        field = self._fields.get(key)
        if field is None:
            variations = self._variations(face, take)
            field = au_field(face.landmarks, code, face.size, self.motion, variations)
            self._fields[key] = field
            if len(self._fields) > _CACHE_SIZE:
                self._fields.popitem(last=False)
        else:
            self._fields.move_to_end(key)
        return field

    def _side_weight(self, face: Face) -> np.ndarray:
        key = self._face_key(face)
        if key not in self._sides:
            if len(self._sides) >= _CACHE_SIZE // 8:
                self._sides.pop(next(iter(self._sides)))
            self._sides[key] = side_weight(face.landmarks, face.size)
        return self._sides[key]

    def _shading(self, face: Face, code: str) -> appearance.Shading | None:
        key = (*self._face_key(face), code)
        if key not in self._shades:
            if len(self._shades) >= _CACHE_SIZE:
                self._shades.pop(next(iter(self._shades)))
            self._shades[key] = appearance.shading(face.face_id, face.landmarks, face.size, code)
        return self._shades[key]

    def expression_field(
        self, face: Face, aus: dict[str, float], take: Variation | None = None
    ) -> ExpressionField:
        """Z at apex: intensity * E field per AU (linear: `au_motion.response` is the identity),
        times `strength`, fold-limited (one scale for all AUs; only extreme requests), cropped."""
        zkey = tuple(sorted((str(k), float(v)) for k, v in aus.items()))
        key = (*self._face_key(face), zkey, take.seed if take else None)
        expr = self._exprs.get(key)
        if expr is None:
            expr = self._build_expression(face, aus, take)
            self._exprs[key] = expr
            if len(self._exprs) > _CACHE_SIZE // 8:
                self._exprs.popitem(last=False)
        else:
            self._exprs.move_to_end(key)
        return expr

    def _build_expression(
        self, face: Face, aus: dict[str, float], take: Variation | None
    ) -> ExpressionField:
        size = face.size
        codes, parts, levels = [], [], []
        for raw, value in sorted(aus.items()):
            code = normalise_code(raw)
            level = response(code, check_intensity(code, float(value))) * self.strength
            if level > 0:
                codes.append(str(raw))
                levels.append(level)
                parts.append(np.float32(level) * self.unit_field(face, code, take))
        empty = np.zeros((0, 0, 2), np.float32)
        if not parts:
            return ExpressionField(empty, empty, (0, 0, 0, 0))
        total = np.sum(parts, axis=0)
        limited = _limit_folding(total)
        scale = (
            np.float32(1.0)
            if limited is total
            else np.float32(np.abs(limited).max() / max(float(np.abs(total).max()), 1e-12))
        )
        total = limited
        moving = np.abs(total).max(axis=2) >= SNAP_PX
        if self.asymmetry > 0:
            moving |= np.abs(total).max(axis=2) * (1 + self.asymmetry) >= SNAP_PX
        rows, cols = np.flatnonzero(moving.any(axis=1)), np.flatnonzero(moving.any(axis=0))
        if rows.size == 0:
            return ExpressionField(empty, empty, (0, 0, 0, 0))
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        grid = np.ascontiguousarray(np.stack([xs, ys], axis=-1))
        box = (int(y0), int(y1), int(x0), int(x1))

        def crop(f: np.ndarray) -> np.ndarray:
            f = f[y0:y1, x0:x1] * scale
            f[np.abs(f) < SNAP_PX / len(parts)] = 0.0  # far skin stays byte-identical
            return np.ascontiguousarray(f)

        cropped = tuple(crop(f) for f in parts)
        side = self._side_weight(face)[y0:y1, x0:x1, None]
        sided = tuple(np.ascontiguousarray(f * side) for f in cropped)
        gap, gaps = None, ()
        if any(parse_code(c)[1] in LIP_GAP_AUS for c in codes):
            lip = np.asarray(face.landmarks, np.float32)[list(regions.LOWER_LIP_INNER)]
            at = np.clip(np.round(lip).astype(np.int64), 0, size - 1)
            gaps = tuple(-(f[at[:, 1], at[:, 0]] * scale) for f in parts)
            gap = (lip, np.sum(gaps, axis=0))
        shades = tuple(
            (self._shading(face, normalise_code(c)) if self.appearance > 0 else None, lvl)
            for c, lvl in zip(codes, levels, strict=True)
        )
        field = np.ascontiguousarray(np.sum(cropped, axis=0))
        return ExpressionField(field, grid, box, gap, tuple(codes), cropped, sided, gaps, shades)

    def _appearance(self, frame: np.ndarray, expr: ExpressionField, weights: np.ndarray) -> None:
        if self.appearance > 0:
            appearance.apply(
                frame,
                [
                    (shade, self.appearance * level * float(w))
                    for (shade, level), w in zip(expr.shades, weights, strict=True)
                    if shade is not None
                ],
            )

    def apex_frame(self, face: Face, aus: dict[str, float]) -> np.ndarray:
        """`face.image` showing Z at its apex: no timeline, no eps_X (verify renders single AU
        templates with it, so the read-out learns what a detector sees for each AU's motion)."""
        frame = np.ascontiguousarray(face.image).copy()
        expr = self.expression_field(face, aus)
        if not expr.empty:
            y0, y1, x0, x1 = expr.box
            grid = cv2.add(expr.backward(expr.field), expr.grid)
            frame[y0:y1, x0:x1] = cv2.remap(face.image, grid, None, cv2.INTER_LINEAR, **_EDGE)
            ones = np.ones(len(expr.parts))
            if self.appearance > 0:
                _shade_gap(frame, expr.gap_at(ones))
            self._appearance(frame, expr, ones)
        return frame

    # --- frames ----------------------------------------------------------------------------------

    def curves(self, expr: ExpressionField, spec: SynthSpec) -> np.ndarray:
        """(T, codes) curve value of each AU per frame (its own timeline, or the clip's)."""
        n = spec.timeline.n_frames
        if not expr.codes:
            return np.zeros((n, 0), np.float32)
        return np.stack([spec.timeline_of(c).curve() for c in expr.codes], 1).astype(np.float32)

    def __call__(self, face: Face, spec: SynthSpec) -> np.ndarray:
        image = np.ascontiguousarray(face.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise EquimeError(f"face {face.face_id}: image must be (S, S, 3) uint8")
        expr = self.expression_field(face, spec.aus, self.performance(spec))
        curves = self.curves(expr, spec)
        n, size = len(curves), face.size
        motion_rng, light_rng, noise_rng, asym_rng, blink_rng = (
            np.random.Generator(np.random.PCG64(s))
            for s in np.random.SeedSequence(spec.seed).spawn(5)
        )
        asym = (
            asym_rng.uniform(-self.asymmetry, self.asymmetry, len(expr.codes))
            if self.asymmetry > 0 and not expr.empty
            else None
        )
        blinks = self._blinks(blink_rng, n, spec.timeline.fps)
        blink = blink_field(face.landmarks, size) if blinks is not None else None
        shift = self._head_motion(motion_rng, n, spec.timeline.fps, size)
        head = self.head_basis(face) if shift is not None else None
        frames = np.empty((n, size, size, 3), np.uint8)
        y0, y1, x0, x1 = expr.box
        for t in range(n):
            w = curves[t] if not expr.empty else curves[t, :0]
            active = bool(w.size and w.max() > 0)
            b = float(blinks[t]) if blinks is not None else 0.0
            if head is None and b == 0:
                frames[t] = image
                if active:
                    grid = cv2.add(expr.backward(expr.at(w, asym)), expr.grid)
                    frames[t, y0:y1, x0:x1] = cv2.remap(
                        image, grid, None, cv2.INTER_LINEAR, **_EDGE
                    )
            else:
                mx, my = self._base_map(head, shift, t, size)
                if active:
                    f = expr.backward(expr.at(w, asym))
                    mx[y0:y1, x0:x1] += f[..., 0]
                    my[y0:y1, x0:x1] += f[..., 1]
                if b > 0:
                    mx += np.float32(b) * blink[..., 0]
                    my += np.float32(b) * blink[..., 1]
                cv2.remap(image, mx, my, cv2.INTER_LINEAR, frames[t], **_EDGE)
            if active:
                if self.appearance > 0:
                    _shade_gap(frames[t], expr.gap_at(w))
                self._appearance(frames[t], expr, w)
        self._light(light_rng, frames, spec.timeline.fps)
        self._noise(noise_rng, frames)
        return frames

    def _base_map(
        self, head: HeadBasis | None, shift: np.ndarray | None, t: int, size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The sampling map before the expression: the rigid head motion, or the identity."""
        if head is None or shift is None:
            ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
            return xs, ys
        tx, ty, a = (float(v) for v in shift[t])
        # the head moves rigidly (shift + tiny turn about its centre); the background does not
        mx = cv2.scaleAdd(head.rx, a, cv2.scaleAdd(head.weight, tx, head.gx))
        my = cv2.scaleAdd(head.ry, a, cv2.scaleAdd(head.weight, ty, head.gy))
        return mx, my

    def _blinks(self, rng: np.random.Generator, n: int, fps: float) -> np.ndarray | None:
        """(n,) lid closure per frame (0-1) for blinks at Poisson times (`blink_rate` per second):
        ~75 ms closing, ~150 ms opening (a spontaneous blink's lid phases); None when off."""
        if self.blink_rate == 0:
            return None
        count = int(rng.poisson(self.blink_rate * n / fps))
        starts = np.sort(rng.uniform(0, n, count))
        closure = np.zeros(n)
        t = np.arange(n, dtype=np.float64)
        close, open_ = 0.075 * fps, 0.15 * fps
        for s0 in starts:
            rise = np.clip((t - s0) / close, 0, 1)
            fall = np.clip(1 - (t - s0 - close) / open_, 0, 1)
            c = np.where(t < s0 + close, rise, fall) * (t >= s0)
            closure = np.maximum(closure, 0.5 - 0.5 * np.cos(np.pi * c))
        return closure if closure.max() > 0 else None

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
