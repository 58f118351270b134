"""Per-AU timing (each AU its own onset, apex and offset inside the micro-expression range), the
appearance changes driven by the same curve, the seeded asymmetry and blinks: all measured from
rendered frames."""

from __future__ import annotations

import numpy as np
import pytest

from equime.faces import regions
from equime.faces.face import Face
from equime.synth.base import SynthSpec
from equime.synth.timeline import Timeline, TimingConfig, sample_au_timelines, sample_timeline
from equime.synth.warp import WarpGenerator

CLIP = Timeline(n_frames=24, fps=24.0, onset=6, apex=10, offset=16)


def quiet(**options: float | str) -> WarpGenerator:
    base = dict(
        head_motion_px=0.0, light_drift=0.0, sensor_noise=0.0, asymmetry=0.0, take_variation=0.0
    )
    return WarpGenerator(**{**base, **options})


def change(frames: np.ndarray, face: Face, mask: np.ndarray) -> np.ndarray:
    """Mean |frame - photo| inside `mask`, per frame."""
    diff = np.abs(frames.astype(np.int32) - face.image[None]).sum(-1)
    return diff[:, mask].mean(1)


def test_au_timelines_stay_inside_the_micro_range() -> None:
    rng = np.random.default_rng(0)
    timing = TimingConfig()
    codes = ["1", "2", "5", "26", "R12"]
    lags = []
    for _ in range(200):
        clip = sample_timeline(rng, 161, 25.0, timing)
        per_au = sample_au_timelines(rng, clip, codes, timing)
        assert set(per_au) == set(codes) and clip in per_au.values()  # the leading AU
        for t in per_au.values():
            assert clip.onset <= t.onset < t.apex < t.offset <= clip.offset
            assert (t.apex - t.onset) / t.fps <= 0.26 + 1e-9  # onset phase (Yan et al. 2013)
            assert t.duration_ms < 500
            assert t.curve().max() == pytest.approx(1.0)
            lags.append(t.onset - clip.onset)
    assert max(lags) >= 1  # AUs do not all start together


def test_plan_rows_carry_per_au_timing() -> None:
    from equime.generation.config import GenerateConfig
    from equime.generation.plan import build_plan

    cfg = GenerateConfig(emotions="all", per_face=2, progress=False)
    rows = build_plan(cfg, [("face-1", {})])
    for row in rows:
        assert set(row.au_timing) == set(row.aus)
        spec = row.spec()
        for code in row.aus:
            t = spec.timeline_of(code)
            assert row.onset <= t.onset and t.offset <= row.offset
        onsets = [v[0] for v in row.au_timing.values()]
        offsets = [v[2] for v in row.au_timing.values()]
        assert min(onsets) == row.onset and max(offsets) == row.offset  # the clip's envelope
    assert build_plan(cfg, [("face-1", {})]) == rows  # same seed, same timing


def test_each_au_moves_on_its_own_timeline(demo_faces: list[Face]) -> None:
    """AU1 early, AU26 late: the brows change only inside AU1's span, the jaw only inside AU26's.
    On the table's motion, whose AU1 and AU26 move disjoint regions (the real-data AU1 also moves
    the chin a little, so its regions would overlap)."""
    face = demo_faces[0]
    brow_t = Timeline(24, 24.0, onset=3, apex=6, offset=10)
    jaw_t = Timeline(24, 24.0, onset=9, apex=13, offset=18)
    spec = SynthSpec(
        {"1": 0.5, "26": 0.5}, "test", CLIP, 0, au_timelines={"1": brow_t, "26": jaw_t}
    )
    frames = quiet(motion="table")(face, spec)
    brows = change(frames, face, regions.region_mask(face.landmarks, "brows", face.size))
    jaw = change(frames, face, regions.region_mask(face.landmarks, "chin", face.size))
    assert int(np.argmax(brows)) == brow_t.apex and int(np.argmax(jaw)) == jaw_t.apex
    assert brows[: brow_t.onset + 1].max() == 0 and brows[brow_t.offset :].max() == 0
    assert jaw[: jaw_t.onset + 1].max() == 0 and jaw[jaw_t.offset :].max() == 0
    shared = quiet(motion="table")(face, SynthSpec({"1": 0.5, "26": 0.5}, "test", CLIP, 0))
    both = regions.union_mask(face.landmarks, ["1", "26"], face.size)
    assert int(np.argmax(change(shared, face, both))) == CLIP.apex


@pytest.mark.parametrize(
    ("code", "region"),
    [("4", "glabella"), ("6", "crow"), ("9", "nose"), ("12", "nasolabial"), ("26", "mouth")],
)
def test_appearance_darkens_its_skin_with_the_intensity(
    demo_faces: list[Face], code: str, region: str
) -> None:
    """The same apex with and without appearance: the furrow (or mouth interior) region gets
    darker, about twice as much at 0.8 as at 0.4 (the same intensity scale as the motion)."""
    pts = {
        "glabella": [9, 8, 55, 285, 107, 336, 168],
        "crow": [33, 130, 226, 263, 359, 446],
        "nose": [6, 197, 195, 122, 351],
        "nasolabial": [129, 358, 61, 291, 205, 425],
        "mouth": [13, 14, 78, 308, 82, 87, 312, 317],
    }[region]
    for face in demo_faces:
        mask = np.zeros((face.size, face.size), bool)
        for x, y in np.round(face.landmarks[pts]).astype(int):
            mask[max(y - 12, 0) : y + 12, max(x - 12, 0) : x + 12] = True
        darker = []
        for level in (0.4, 0.8):
            plain = quiet(appearance=0.0).apex_frame(face, {code: level}).astype(np.float64)
            shaded = quiet().apex_frame(face, {code: level}).astype(np.float64)
            darker.append(float((plain - shaded).sum(-1)[mask].mean()))
        assert darker[0] > 0.3, (face.face_id, code, darker)
        assert 1.5 < darker[1] / darker[0] < 2.6, (face.face_id, code, darker)


def test_asymmetry_is_seeded_eps_x(demo_faces: list[Face]) -> None:
    face = demo_faces[1]
    gen = quiet(asymmetry=0.1)
    aus = {"12": 0.4}
    right = regions.side_mask(face.landmarks, "R", face.size, overlap=0.0)
    left = regions.side_mask(face.landmarks, "L", face.size, overlap=0.0)
    ratios = []
    for seed in (1, 2, 3):
        frames = gen(face, SynthSpec(aus, "test", CLIP, seed))
        assert np.array_equal(frames, gen(face, SynthSpec(aus, "test", CLIP, seed)))
        apex = frames[CLIP.apex : CLIP.apex + 1]
        ratios.append(float(change(apex, face, right)[0] / change(apex, face, left)[0]))
    assert len({round(r, 3) for r in ratios}) == 3  # the seed changes the asymmetry ...
    assert all(0.6 < r < 1.6 for r in ratios), ratios  # ... and it stays small


def test_blinks_close_the_eyes_only_when_asked(demo_faces: list[Face]) -> None:
    face = demo_faces[0]
    eyes = regions.region_mask(face.landmarks, "eyes", face.size)
    mouth = regions.region_mask(face.landmarks, "mouth", face.size)
    long = Timeline(n_frames=96, fps=24.0, onset=40, apex=44, offset=50)
    blinking = quiet(blink_rate=1.0)(face, SynthSpec({}, "neutral", long, seed=4))
    assert change(blinking, face, eyes).max() > 10  # the lids close over the eyes
    assert change(blinking, face, mouth & ~eyes).max() < 1
    assert change(quiet()(face, SynthSpec({}, "neutral", long, seed=4)), face, eyes).max() == 0
