"""Neutral start faces: undo a source photo's expression with the warp, before any timeline.

`faces.expression` measures the photo (blendshape channels: smile, frown, brow lowering, ...); a
channel beyond neutral names the AUs that make it. Parted lips are closed first, with the real
lower lip moved up against the upper one (`synth.lips`). Then the warp moves the AUs backwards
with the real-data motion (`UNDO_SOURCE`, py-feat's AU -> mesh model) in rounds, the landmarks
re-detected after each (at most `ROUNDS`): mouth and cheek AUs by what the mesh read-out
(`faces.au_readout.read_face_aus`, the same model inverted) still finds of them, a smile's
widening only in part (`WIDTH_KEPT`), brow and lid AUs in small steps while their channel reads
them; a channel the undo itself pushes past neutral (brows rising with the lips) joins it. A
round that purses the lips is retried at half the step, then taken back (`PURSED`). It
stops when the blendshapes read every channel below `MARGIN` x its threshold and the read-out
finds less than `GEOMETRY_DONE` of the mouth's AUs. The shading a smile's fold leaves in the
nasolabial band is lifted after each round. Whether the result is neutral is decided afterwards
by `faces.expression.not_neutral` (the gate); before that `too_strong` refuses an undo larger than
`MAX_UNDO` (the repair would be the face) and a frowning photo (its furrows are texture).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from equime.faces import regions
from equime.faces.au_readout import read_face_aus
from equime.faces.expression import (
    NEUTRAL_THRESHOLD,
    beyond,
    describe,
    limit,
    measure,
    undo_codes,
)
from equime.faces.face import Face
from equime.faces.landmarker import Detection
from equime.facs.aus import parse_code
from equime.facs.magnitudes import E_DISPLACEMENT
from equime.synth.lips import close_lips, lip_gap
from equime.synth.warp import _limit_folding, _unit_motion, au_field, splat_field

UNDO_SOURCE = "data"  # the motion undone: the real-data model, the one the read-out inverts
WORK_SIZE = 256  # px: the crop size the neutraliser works at (generate brings it to --size after)
STEP = 0.5  # undo per round, in E units (landmarks are re-detected after each round)
ROUNDS = 6  # at most this many rounds
MARGIN = 0.5  # a neutralised channel must read below MARGIN * threshold (well inside neutral)
GEOMETRY_DONE = 0.15  # E: once the blendshapes read neutral, steps smaller than this end it
# AUs the mesh read-out sizes (mouth and cheek: read against the mean face they stay small on
# neutral faces); brow and lid AUs it reads poorly against another person's mean (a low brow is
# identity), so those are undone in plain steps until the blendshapes read them neutral.
_CAPPED = frozenset({"6", "10", "12", "14", "15", "17", "20", "23", "24"})
BROW_STEP = 0.25  # E per round for the AUs outside _CAPPED: brows overshoot into a frown at 0.5
MIN_STEP = 0.05  # E: a smaller undo step is not worth a round
CLOSED_GAP = 0.015  # IOD between the inner lips' middles (landmarks 13, 14): a closed mouth
_PARTING = frozenset({25, 26})  # AUs that part the lips: closed by `synth.lips`, not warped back
# E: an AU undone by more than this is an expression beyond the motion model's range (py-feat's
# surprise photo needs its jaw closed by 3.9 E and starts from a frown and pursed lips): refused,
# not animated from a repair. Set on py-feat's photos and the demo's photo variants: with AU12
# alone undoing the smile, the astronaut's variants needed 1.8-2.1 E and came out relaxed, and
# py-feat's group faces needing 2.26-2.4 E came out with twisted, pouting mouths. With the chin
# raise undone too (AU17 also lifts the corners) the faces used need at most 1.75 E of any AU.
# Seven faces of five people: a thin margin, not a population.
MAX_UNDO = 2.2
# MediaPipe's mouthPucker: a round that raises it past this has pushed the mouth corners past
# neutral (the lips bunch into a pout) and is taken back. Neutral faces read 0.0-0.1 (the demo,
# py-feat's photos); the gate refuses a start face above `faces.expression`'s pursed-lips limit.
PURSED = 0.3
# A smile widens the mouth as it lifts the corners; undone in full, the width squeezes the closed
# lips into a pout (py-feat's open-smile photos). Of the widening AUs' motion across the face only
# this share is undone; the lift (along the face) is undone in full.
WIDTH_KEPT = 0.3
_WIDENING = frozenset({12, 20})


@dataclass(frozen=True)
class Neutralised:
    face: Face  # the face to animate (unchanged when nothing was beyond the threshold)
    before: dict[str, float]  # channel scores of the prepared photo
    after: dict[str, float]  # channel scores of `face`
    undone: dict[str, float]  # AU code -> intensity moved backwards (empty: untouched)
    detection: Detection | None = None  # the landmarker's reading of `face.image` (None: no face)

    @property
    def changed(self) -> bool:
        return bool(self.undone)


# Photo expressions whose look is mostly skin texture, not shape: a warp moves the brows back but
# leaves the furrows between them, and a frown stays a frown (py-feat's anger photo, read sad 0.50
# by an independent classifier after its brows were undone). No read-out here tells furrows from
# a neutral face's own lines (py-feat's neutral video frame scores as furrowed as the frown), so
# such a photo is refused rather than started from a frown no gate would see.
TEXTURE_EXPRESSIONS = {"brow lowering": "a frown's furrows"}


def too_strong(done: Neutralised, threshold: float = NEUTRAL_THRESHOLD) -> str:
    """Why an undo went too far to trust the start face ('' when it did not): an AU undone by
    more than `MAX_UNDO`, or a photo expression in `TEXTURE_EXPRESSIONS`."""
    frowns = {n: v for n, v in beyond(done.before, threshold).items() if n in TEXTURE_EXPRESSIONS}
    if frowns:
        name, score = next(iter(frowns.items()))
        return f"{name} {score:.2f}: {TEXTURE_EXPRESSIONS[name]} cannot be undone credibly"
    over = {c: k for c, k in done.undone.items() if k > MAX_UNDO}
    if not over:
        return ""
    named = ", ".join(f"AU{c} {k:.1f} E" for c, k in sorted(over.items(), key=lambda kv: -kv[1]))
    return f"expression too strong to undo credibly ({named}; over {MAX_UNDO:.1f} E)"


# The band from the nose wing past the mouth corner into the lower cheek, per side: where a smile
# folds the skin (nasolabial fold) and dimples it; MediaPipe Face Mesh indices.
_FOLD_BAND = {
    "R": (129, 98, 64, 61, 146, 185, 205, 187, 207, 216, 212, 57, 186, 92),
    "L": (358, 327, 294, 291, 375, 409, 425, 411, 427, 436, 432, 287, 410, 322),
}
_FOLD_AUS = frozenset({6, 10, 12, 13, 14})  # AUs whose undo leaves a fold's shading behind
# band-pass sigmas, x IOD: a crease's width lies between. At a finer 0.02 a crease's 1-2 px
# line stayed (the demo astronaut read sad to an independent classifier); skin pores are finer.
_FOLD_FINE, _FOLD_COARSE = 0.01, 0.12


def _flatten_folds(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Remove the shading a fold leaves in the nasolabial band: the undo warp moves the cheek back
    but carries the crease's dark line and the dimple with it. Inside the band, shading darker
    than its surroundings at the middle spatial frequencies (a crease is a few pixels wide) is
    lifted to its surroundings' colour, while finer detail (skin texture) and highlights
    stay (a band-pass split as in frequency-separation retouching), feathered into the face
    around it; the lips are left alone."""
    pts = np.asarray(landmarks, np.float64)
    iod = float(np.linalg.norm(pts[33] - pts[263]))
    size = image.shape[0]
    mask = np.zeros(image.shape[:2], np.float32)
    for band in _FOLD_BAND.values():
        hull = cv2.convexHull(np.round(pts[list(band)]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0)
    lips = np.round(pts[list(regions.UPPER_LIP_OUTER + regions.LOWER_LIP_OUTER)]).astype(np.int32)
    cv2.fillConvexPoly(mask, cv2.convexHull(lips), 0.0)
    feather = max(_FOLD_FINE * iod * 2, 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), feather)[..., None]
    if size < 8 or mask.max() <= 0:
        return image
    img = image.astype(np.float32)
    fine = cv2.GaussianBlur(img, (0, 0), max(_FOLD_FINE * iod, 0.5))
    coarse = cv2.GaussianBlur(img, (0, 0), _FOLD_COARSE * iod)
    # creases and dimples are darker than around them (in brightness); a skin shadow is also
    # redder, so each channel is lifted by its own difference (one gain or one added constant
    # for all turns a lifted crease orange)
    shadow = (fine - coarse).mean(axis=-1, keepdims=True) < 0
    flattened = img + np.where(shadow, coarse - fine, 0.0)
    return np.clip(np.round(img * (1 - mask) + flattened * mask), 0, 255).astype(np.uint8)


def _undo(face: Face, steps: dict[str, float]) -> np.ndarray:
    """The face with each AU code moved backwards by its step (E units). Exact splats of the same
    control points are linear in the displacement, so their motions are summed and splatted once
    (the data source: every AU moves the same mesh vertices)."""
    size = face.size
    ex = regions.face_frame(face.landmarks).ex.astype(np.float32)
    groups: dict[tuple, list] = {}
    fields = []
    for code, k in steps.items():
        unit = _unit_motion(np.asarray(face.landmarks, np.float32), code, UNDO_SOURCE)
        if not unit.exact:
            fields.append(-np.float32(k) * au_field(face.landmarks, code, size, UNDO_SOURCE))
            continue
        disp = unit.disp
        if parse_code(code)[1] in _WIDENING:  # undo the lift, keep most of the width
            across = (disp @ ex)[:, None] * ex
            disp = disp - (1.0 - WIDTH_KEPT) * across
        key = (unit.moving.tobytes(), unit.held.tobytes(), unit.sigma)
        if key in groups:
            groups[key][1] = groups[key][1] + k * disp
        else:
            groups[key] = [unit, k * disp]
    for unit, disp in groups.values():
        fields.append(
            -splat_field(face.landmarks, unit.moving, disp, unit.held, unit.sigma, size, True)
        )
    total = _limit_folding(np.asarray(sum(fields), np.float32))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    grid = np.stack([xs + total[..., 0], ys + total[..., 1]], -1)
    return cv2.remap(face.image, grid, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _pursed(blendshapes: dict[str, float]) -> float:
    return float(blendshapes.get("mouthPucker", 0.0))


def _steps(
    codes: dict[str, float], active: dict[str, float], landmarks: np.ndarray
) -> dict[str, float]:
    """This round's undo per AU code: `STEP` x its weight, but never more than the mesh read-out
    still finds of that AU (the blendshapes say which expression; the geometry says how much is
    left), so the undo stops at neutral instead of pushing past it (a pout, pressed lips). AUs
    outside `_CAPPED` move only while a channel in `active` (those still beyond neutral) names
    them. Lip parting (AU25, AU26) is not warped back: `synth.lips` closes the gap once, before
    the rounds (in the real-data model AU25 also raises the lower lip, py-feat's regression
    having learnt lips parting together with the chin pushing up, so backwards it opens the
    mouth)."""
    shape = read_face_aus(landmarks)
    steps = {
        c: min(STEP * w, shape.get(parse_code(c)[1], 0.0)) if c in _CAPPED else BROW_STEP * w
        for c, w in codes.items()
        if (c in _CAPPED or c in active) and parse_code(c)[1] not in _PARTING
    }
    return {c: round(k, 3) for c, k in steps.items() if k >= MIN_STEP}


def _closed(face: Face, found: Detection, landmarker) -> tuple[Face, Detection, float]:
    """`face` with parted lips closed (`synth.lips`), the landmarker's reading of it (`found`:
    of `face` as given), and the gap closed in E units of AU26 (what `too_strong` weighs); the
    face unchanged when the lips meet."""
    closed = 0.0
    for _ in range(2):  # a second pass for what the first landmarks placed inside the teeth
        gap = lip_gap(face.landmarks)
        if gap <= CLOSED_GAP:
            break
        image = close_lips(face.image, face.landmarks)
        detected = landmarker.detect(image)
        if not detected:
            break
        found = detected[0]
        face = replace(face, image=image, landmarks=np.asarray(found.landmarks, np.float32))
        closed += gap / E_DISPLACEMENT[26]
    return face, found, closed


def neutralise(face: Face, landmarker, threshold: float = NEUTRAL_THRESHOLD) -> Neutralised:
    """Measure `face` and, if any channel is beyond `threshold`, undo it (see the module doc)."""
    found = landmarker.detect(face.image)
    before = measure(found[0].blendshapes) if found else {}
    first = found[0] if found else None
    over = beyond(before, threshold)
    if not over:
        return Neutralised(face, before, before, {}, first)
    codes = undo_codes(over)
    folds = any(parse_code(c)[1] in _FOLD_AUS for c in codes)
    current, after, undone, last = face, before, dict.fromkeys(codes, 0.0), first
    if any(parse_code(c)[1] in _PARTING for c in codes):
        current, last, undone["26"] = _closed(face, first, landmarker)
        after = measure(last.blendshapes)
    scale = 1.0  # halved once when a round overshoots into a pout
    for _ in range(ROUNDS):  # small steps, landmarks re-detected between them: no fold-over
        if newly := {n: v for n, v in beyond(after, threshold).items() if n not in over}:
            over = {**over, **newly}  # the undo raised another channel (brows, with the lips)
            codes = {**undo_codes(newly), **codes}
        active = undo_codes(
            {n: v for n, v in after.items() if n in over and v >= MARGIN * limit(n, threshold)}
        )
        steps = {c: k * scale for c, k in _steps(codes, active, current.landmarks).items()}
        calm = all(after[name] < MARGIN * limit(name, threshold) for name in over)
        if not steps or (calm and all(k < GEOMETRY_DONE for k in steps.values())):
            break
        image = _undo(current, steps)
        found = landmarker.detect(image)
        if not found:
            break
        if folds:  # the shading a fold leaves where the warp moved the cheek this round
            image = _flatten_folds(image, found[0].landmarks)
            found = landmarker.detect(image) or found
        if _pursed(found[0].blendshapes) > max(_pursed(last.blendshapes), PURSED):
            if scale < 1.0:  # pushed the lips past neutral into a pout: keep the round before
                break
            scale = 0.5  # and try half the step once
            continue
        current = replace(
            current,
            image=np.ascontiguousarray(image, np.uint8),
            landmarks=np.asarray(found[0].landmarks, np.float32),
        )
        after, last = measure(found[0].blendshapes), found[0]
        undone = {c: undone.get(c, 0.0) + steps.get(c, 0.0) for c in {*undone, *steps}}
    undone = {c: round(v, 3) for c, v in undone.items() if v > 0}
    if not undone:  # nothing left to move, or the face was lost at the first step
        return Neutralised(face, before, before, {}, first)
    now = {name: after[name] for name in over}
    note = f"neutralised: {describe(over, 0.0)} -> {describe(now, -1.0)}"
    new = replace(current, notes=(*face.notes, note))
    return Neutralised(new, before, after, undone, last)
