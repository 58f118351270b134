"""equime verify on real warp videos read by the real MediaPipe landmarker (tracked): the flow
read-out (default: head motion out, AU flow templates, NNLS) and the landmark read-out (alignment,
AU templates), the blendshape->AU mapping, curves and spotting, fidelity, pass/fail reasons,
--readout, --reject, --plots and plain folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from equime.cli import main
from equime.errors import EquimeError
from equime.facs.aus import AUS
from equime.facs.blendshapes import (
    BLENDSHAPE_NAMES,
    au_blendshapes,
    blendshapes_for,
    check_mapping,
    share_blendshapes,
)
from equime.synth.au_motion import MOTIONS
from equime.synth.timeline import Timeline
from equime.verify.config import VerifyConfig
from equime.verify.curves import au_curves
from equime.verify.readout import Readout
from equime.verify.spotting import spot
from equime.video.frames import frame_files

FRAMES = [
    "--fps",
    "25",
    "--workers",
    "1",
    "--no-progress",
]  # default 161 frames: a 40-frame lead-in
SPOT_TOLERANCE = 2  # frames at 25 fps (80 ms): estimated onset and offset vs the warp ground truth


def _generate(out: Path, *flags: str) -> Path:
    assert main(["generate", "--demo", "--out", str(out), *FRAMES, *flags]) == 0
    return out


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both demo faces, surprise and happiness, 161 frames at 25 fps, default size and eps_X."""
    root = _generate(tmp_path_factory.mktemp("verify") / "ds", "--emotions", "surprise,happiness")
    assert main(["verify", str(root), "--no-progress", "--plots"]) == 0
    return root


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One video with nothing requested: only eps_X moves."""
    flags = ("--limit", "1", "--emotions", "surprise", "--do-only")
    return _generate(tmp_path_factory.mktemp("blank") / "ds", *flags)


# --- the mapping, as data ------------------------------------------------------------------------


def test_mapping_covers_the_catalogue_with_real_live_blendshapes() -> None:
    table = au_blendshapes()
    assert set(table) == set(AUS) == set(MOTIONS)  # one entry per AU the warp can move
    assert all(set(names) <= set(BLENDSHAPE_NAMES) for names in table.values())
    assert len(BLENDSHAPE_NAMES) == 52
    assert blendshapes_for("R12") == blendshapes_for("12") == ("mouthSmileLeft", "mouthSmileRight")
    assert share_blendshapes(25, 26) and share_blendshapes(23, 24) and not share_blendshapes(1, 2)
    with pytest.raises(EquimeError, match="not mapped"):
        check_mapping({n: v for n, v in table.items() if n != 12})
    with pytest.raises(EquimeError, match="unknown blendshape 'smile'"):
        check_mapping({**table, 12: ("smile",)})
    with pytest.raises(EquimeError, match="silent"):
        check_mapping({**table, 6: ("cheekSquintLeft",)}, silent=("cheekSquintLeft",))


def test_silent_blendshapes_stay_silent_on_a_real_face(demo_faces) -> None:
    """The mapping avoids cheekSquint/noseSneer because MediaPipe's model never raises them."""
    from equime.faces.landmarker import Landmarker

    with Landmarker(max_faces=1) as landmarker:
        shapes = landmarker.detect(demo_faces[0].image)[0].blendshapes
    assert set(shapes) == set(BLENDSHAPE_NAMES)
    assert max(shapes[n] for n in ("cheekSquintLeft", "noseSneerLeft")) < 1e-4


# --- curves and spotting on a known signal -------------------------------------------------------


def _readout(timeline: Timeline, au: int, peak: float, seed: int = 0) -> Readout:
    rng = np.random.default_rng(seed)
    n = timeline.n_frames
    table = pd.DataFrame(
        rng.normal(0.05, 0.003, (n, len(BLENDSHAPE_NAMES))), columns=list(BLENDSHAPE_NAMES)
    )
    for name in au_blendshapes()[au]:
        table[name] += peak * timeline.curve()
    frames = np.arange(n)
    table.index = pd.Index(frames, name="frame")
    return Readout(frames, table, np.zeros((n, 478, 2), np.float32), n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curves_are_baseline_subtracted_and_spotting_finds_the_timeline(seed: int) -> None:
    cfg = VerifyConfig(readout="blendshapes")
    timeline = Timeline(n_frames=60, fps=25.0, onset=24, apex=28, offset=34)
    curves = au_curves(_readout(timeline, 12, 0.08, seed), cfg)
    assert curves.lead_in == 15
    assert abs(curves.values[12].iloc[:15].mean()) < 1e-3  # baseline removed
    assert 0.001 < curves.noise[12] < 0.004  # the per-frame noise, lowered by smoothing
    found = spot(curves, cfg)
    assert found.found and found.rising == (12,)
    assert abs(found.apex - timeline.apex) <= 1
    assert abs(found.onset - timeline.onset) <= SPOT_TOLERANCE
    assert abs(found.offset - timeline.offset) <= SPOT_TOLERANCE


def test_noise_alone_is_no_expression() -> None:
    timeline = Timeline(n_frames=60, fps=25.0, onset=24, apex=28, offset=34)
    cfg = VerifyConfig(readout="blendshapes")
    found = spot(au_curves(_readout(timeline, 12, 0.0), cfg), cfg)
    assert not found.found and found.rising == ()


def test_bad_config_is_one_line() -> None:
    with pytest.raises(EquimeError, match="--every 0"):
        VerifyConfig(every=0)
    with pytest.raises(EquimeError, match="--readout faces: use flow, landmarks, mesh or blend"):
        VerifyConfig(readout="faces")


# --- the landmark read-out -----------------------------------------------------------------------


def test_alignment_removes_head_motion(demo_faces) -> None:
    """A shifted, turned and scaled head is no displacement; a moved lip corner is."""
    from equime.verify.geometry import displacements

    ref = demo_faces[0].landmarks.astype(np.float64)
    a = 0.05
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    moved = (ref - 128) @ rot.T * 1.1 + 128 + [5.0, -3.0]
    smile = ref.copy()
    smile[61] += [-3.0, -3.0]  # the subject's right lip corner, up and out
    disp = displacements(np.stack([ref, moved, smile]).astype(np.float32), ref)
    assert np.abs(disp[:2]).max() < 1e-3
    assert disp[2, 61, 1] < -0.02 and np.abs(np.delete(disp[2], 61, axis=0)).max() < 2e-3


def test_templates_read_single_aus_back(demo_faces) -> None:
    """Each of three AUs rendered alone on a real face comes back as the strongest NNLS activation,
    near the requested intensity once mapped back through the response curve. Templates and video
    from the same motion source (the table: its AU12 and AU14 are apart; the real-data patterns of
    AU12 and AU14 overlap at the table's rows, and the mesh read-out is tested in
    tests/test_motion_data.py)."""
    from equime.faces.landmarker import Landmarker
    from equime.synth.warp import WarpGenerator
    from equime.verify.geometry import (
        by_number,
        displacements,
        fit_activations,
        intensity,
        template_basis,
    )

    face = demo_faces[0]
    gen = WarpGenerator(motion="table")
    with Landmarker(max_faces=1) as landmarker:
        basis = template_basis(face.image, landmarker, motion="table")
        assert basis is not None and basis.matrix.shape == (2 * len(basis.rows), len(basis.codes))
        assert {"1", "R12", "L12", "26"} <= set(basis.codes)
        ref = np.asarray(landmarker.detect(face.image)[0].landmarks)
        for code, number in (("1", 1), ("12", 12), ("26", 26)):
            pts = landmarker.detect(gen.apex_frame(face, {code: 0.35}))[0].landmarks
            numbers, act = by_number(fit_activations(displacements(pts[None], ref), basis), basis)
            assert numbers[int(np.argmax(act[0]))] == number
            assert 0.2 < float(intensity(number, act[0, numbers.index(number)])) < 0.55


# --- tracking ------------------------------------------------------------------------------------


def test_tracking_steadies_a_still_face(demo_faces) -> None:
    """eps_X alone (head motion, light, sensor noise): the tracked landmarks of the still face move
    less, non-rigidly, than landmarks detected afresh in every frame (what made still clips read as
    expressions before)."""
    from equime.faces.landmarker import Landmarker
    from equime.synth.base import SynthSpec
    from equime.synth.warp import WarpGenerator
    from equime.verify.geometry import displacements

    timeline = Timeline(n_frames=60, fps=25.0, onset=30, apex=33, offset=37)
    frames = WarpGenerator()(demo_faces[1], SynthSpec({}, "neutral", timeline, seed=3))
    with Landmarker(max_faces=1) as landmarker:
        tracked = [found[0].landmarks for _, found in landmarker.track(iter(frames))]
        detected = [landmarker.detect(rgb)[0].landmarks for rgb in frames]

    def wobble(points: list) -> float:  # non-rigid landmark motion (head motion aligned out), IOD
        pts = np.stack(points)
        disp = displacements(pts, pts.mean(0))
        return float(np.median(disp.std(axis=0)))

    assert len(tracked) == len(frames)
    assert wobble(tracked) < 0.8 * wobble(detected), (wobble(tracked), wobble(detected))


# --- the flow read-out ---------------------------------------------------------------------------


def _face_flow(face):
    from equime.verify.flow import FaceFlow

    return FaceFlow(face.image, face.landmarks, VerifyConfig().grid_spacing)


def test_flow_removes_head_motion_and_keeps_an_au(demo_faces) -> None:
    """A shifted and turned head reads as (almost) no motion; a smile moves the mouth points."""
    import cv2

    from equime.synth.warp import WarpGenerator

    face = demo_faces[0]
    flow = _face_flow(face)
    turn = cv2.getRotationMatrix2D((128.0, 128.0), 1.0, 1.0)
    turn[:, 2] += (1.5, -1.0)
    head = cv2.warpAffine(face.image, turn, (256, 256), borderMode=cv2.BORDER_REPLICATE)
    assert np.median(np.linalg.norm(flow(head), axis=1)) < 0.005  # IOD
    smile = np.linalg.norm(flow(WarpGenerator().apex_frame(face, {"12": 0.35})), axis=1)
    # the mouth moves, the rest hardly: the real-data motion spreads a little over the cheeks, as
    # real smiles do (median 0.0051 IOD on the neutralised astronaut, max 0.041)
    assert smile.max() > 0.035 and np.median(smile) < 0.15 * smile.max()


@pytest.mark.parametrize(
    "aus",
    [
        {"1": 0.32, "2": 0.35, "5": 0.36, "26": 0.43},  # the demo astronaut's surprise
        {"6": 0.3, "12": 0.3},
        {"R12": 0.3, "R14": 0.35},
    ],
)
def test_flow_templates_read_an_au_combination_back(demo_faces, aus: dict) -> None:
    """Flow adds up: an AU set rendered on a real face is read back as that set (every AU above the
    least activation, near the share of its motion that was shown, no other AU above it)."""
    from equime.facs.aus import parse_code
    from equime.synth.au_motion import response
    from equime.synth.warp import WarpGenerator
    from equime.verify.flow import flow_templates
    from equime.verify.geometry import by_number, fit_activations

    cfg = VerifyConfig()
    for face in demo_faces:
        flow = _face_flow(face)
        basis = flow_templates(
            face.image, face.landmarks, flow, cfg.template_intensity, cfg.min_motion
        )
        shown = flow(WarpGenerator().apex_frame(face, aus))
        numbers, act = by_number(fit_activations(shown[None], basis, cfg.robust), basis)
        wanted = {parse_code(c)[1] for c in aus}
        read = dict(zip(numbers, act[0], strict=True))
        measured = {n for n, v in read.items() if v >= cfg.min_activation}
        assert measured == wanted, (face.face_id, act.round(2))
        for code, value in aus.items():  # the share of the AU's unit motion, within 40 %
            shown = response(code, value)
            assert abs(read[parse_code(code)[1]] - shown) < 0.4 * shown, (code, act.round(2))


def _shadow(image: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """A soft black spot (Gaussian, sigma `radius` pixels) laid on the image: it darkens, moves
    nothing."""
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    spot = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * radius**2))
    return (image * (1 - spot[..., None])).round().astype(np.uint8)


def test_robust_fit_is_needed_where_the_image_changes_without_moving(demo_faces) -> None:
    """A shadow falls on the left brow at the apex of a smile: the image changes there but nothing
    moves, so flow is wrong at a few points (as at the dark gap of parting lips, or a glint). A
    plain NNLS fit bends other AUs to explain those points and reads one above the least
    activation; the robust fit (`VerifyConfig.robust`) reads the smile alone, at its share. (The
    surprise renders above no longer show this on the current warp: their plain fits' strays
    stay below the least activation.)"""
    from equime.synth.au_motion import response
    from equime.synth.warp import WarpGenerator
    from equime.verify.flow import flow_templates
    from equime.verify.geometry import by_number, fit_activations

    cfg = VerifyConfig()
    for face in demo_faces:
        flow = _face_flow(face)
        basis = flow_templates(
            face.image, face.landmarks, flow, cfg.template_intensity, cfg.min_motion
        )
        apex = WarpGenerator().apex_frame(face, {"12": 0.5})
        shown = flow(_shadow(apex, face.landmarks[107, :2], 6.0))  # 107: a left-brow point
        numbers, robust = by_number(fit_activations(shown[None], basis, cfg.robust), basis)
        _, plain = by_number(fit_activations(shown[None], basis), basis)
        smile = numbers.index(12)
        strays = [i for i, n in enumerate(numbers) if n != 12]
        plain_stray, robust_stray = plain[0, strays].max(), robust[0, strays].max()
        print(
            f"\n{face.face_id}: AU12 robust {robust[0, smile]:.3f} (shown {response('12', 0.5)}); "
            f"largest other AU: plain {plain_stray:.3f}, robust {robust_stray:.3f}"
        )
        # measured at a0b5f1f (data motion source): plain 0.285 (astronaut) and 0.187 (Grace
        # Hopper) against the least activation 0.12; robust 0.037 and 0.036 against 0.06
        assert plain_stray >= cfg.min_activation, (face.face_id, plain.round(2))
        assert robust_stray < cfg.min_activation / 2, (face.face_id, robust.round(2))
        shown_share = response("12", 0.5)
        assert abs(robust[0, smile] - shown_share) < 0.4 * shown_share, robust.round(2)


# --- a real dataset ------------------------------------------------------------------------------


def test_verify_writes_columns_and_times_the_expression(verified: Path) -> None:
    meta = pd.read_parquet(verified / "metadata.parquet")
    for col in ("verified", "verify_reasons", "au_precision", "au_recall", "au_f1",
                "au_intensity_r", "apex_error_frames", "est_onset", "est_apex", "est_offset",
                "identity_drift", "pose_drift", "measured_aus"):  # fmt: skip
        assert col in meta.columns, col
    assert len(meta) == 4 and meta["verify_timing"].eq("estimated").all()
    # The bar: AU F1 >= 0.8 for every emotion, apex within 2 frames (25 fps).
    assert (meta.groupby("target_emotion")["au_f1"].mean() >= 0.8).all(), meta["au_f1"].tolist()
    # Every required AU is seen; an optional one at low intensity may not be (grace_hopper's AU25 at
    # 0.26 moves her lower lip by about a pixel).
    from equime.facs.aus import parse_code
    from equime.facs.emotions import PROTOTYPES

    for emotion, missing in zip(meta["target_emotion"], meta["verify_missing_aus"], strict=True):
        required = {str(parse_code(c)[1]) for c in PROTOTYPES[emotion].required}
        assert not required & set(filter(None, missing.split("+"))), (emotion, missing)
    assert meta["apex_error_frames"].abs().max() <= 2
    assert meta["au_intensity_r"].median() > 0.9, meta["au_intensity_r"].tolist()
    surprise = meta[meta["target_emotion"] == "surprise"]
    assert surprise["apex_error_frames"].abs().max() <= 2
    assert (surprise["identity_drift"] < 0.04).all() and (surprise["pose_drift"] < 0.25).all()
    assert (meta.loc[~meta["verified"].astype(bool), "verify_reasons"] != "").all()
    assert (meta.loc[meta["verified"].astype(bool), "verify_reasons"] == "").all()
    curves = pd.read_parquet(verified / "verify" / "au_curves.parquet")
    assert set(curves["video"]) == set(meta["id"]) and set(curves["au"]) == set(AUS)
    record = json.loads((verified / "verify" / "verify.json").read_text())
    assert record["config"]["every"] == 1 and record["mediapipe"]
    assert record["config"]["readout"] == "flow" and meta["verify_readout"].eq("flow").all()


def test_blendshape_readout_stays_available(verified: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ds"
    shutil.copytree(verified, copy)
    assert main(["verify", str(copy), "--no-progress", "--readout", "blendshapes"]) == 0
    meta = pd.read_parquet(copy / "metadata.parquet")
    assert meta["verify_readout"].eq("blendshapes").all()
    surprise = meta[meta["target_emotion"] == "surprise"]
    assert (surprise["au_recall"] > 0).all() and surprise["apex_error_frames"].abs().max() <= 2
    record = json.loads((copy / "verify" / "verify.json").read_text())
    assert record["config"]["readout"] == "blendshapes"


def test_spotting_reproduces_warp_onset_and_offset(verified: Path) -> None:
    meta = pd.read_parquet(verified / "metadata.parquet")
    shown = meta[meta["measured_aus"] != ""]
    assert len(shown) >= 3
    for col in ("onset_error_frames", "offset_error_frames", "apex_error_frames"):
        assert shown[col].abs().max() <= SPOT_TOLERANCE, (col, shown[col].tolist())


def test_plots_one_png_per_emotion(verified: Path) -> None:
    pngs = sorted(p.name for p in (verified / "verify" / "plots").glob("*.png"))
    assert pngs == ["happiness.png", "surprise.png"]
    with Image.open(verified / "verify" / "plots" / "surprise.png") as image:
        assert image.size[0] >= 600


def test_columns_survive_a_resumed_generate(verified: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ds"
    shutil.copytree(verified, copy)
    gone = pd.read_parquet(copy / "metadata.parquet").iloc[0]
    (copy / gone["file_name"]).unlink()
    assert main(["verify", str(copy), "--no-progress", "--every", "4"]) == 0
    meta = pd.read_parquet(copy / "metadata.parquet").set_index("id")
    assert "missing" in meta.loc[gone["id"], "verify_reasons"]
    assert not meta.loc[gone["id"], "verified"] and meta["est_apex"].notna().sum() == 3
    _generate(copy, "--emotions", "surprise,happiness")  # resume: remakes the missing video
    meta = pd.read_parquet(copy / "metadata.parquet")
    assert (copy / gone["file_name"]).is_file() and "au_f1" in meta.columns
    assert meta["verify_reasons"].notna().all()  # verify's columns survive the rebuild


def test_no_expression_fails_and_reject_keeps_the_video(blank: Path, capsys) -> None:
    assert main(["verify", str(blank), "--no-progress", "--every", "2", "--reject"]) == 0
    meta = pd.read_parquet(blank / "metadata.parquet")
    row = meta.iloc[0]
    assert row["aus"] == "" and not row["verified"] and row["verify_reasons"] == "no expression"
    assert row["measured_aus"] == "" and not row["usable"]
    assert (blank / row["file_name"]).is_file()  # finished work is never deleted
    rejected = pd.read_csv(blank / "rejected.csv", keep_default_na=False)
    assert rejected[["id", "stage", "reason"]].values.tolist() == [
        [row["id"], "verify", "no expression"]
    ]
    assert "0 of 1 videos verified" in capsys.readouterr().out
    _generate(blank, "--limit", "1", "--emotions", "surprise", "--do-only")  # resume
    again = pd.read_csv(blank / "rejected.csv", keep_default_na=False)
    assert again["stage"].tolist() == ["verify"]
    assert not pd.read_parquet(blank / "metadata.parquet")["usable"].iloc[0]


def test_video_whose_aus_differ_from_the_request_fails_with_the_reason(
    verified: Path, tmp_path: Path
) -> None:
    """do(Z): the same face and seed with AU1/2/5 removed; checked against the original request."""
    from equime.faces.landmarker import Landmarker
    from equime.verify.run import requested_aus, truth_of, verify_video

    meta = pd.read_parquet(verified / "metadata.parquet").set_index("id")
    original = meta.loc["astronaut-88431cd9-surprise-0"]
    cut = _generate(
        tmp_path / "cut", "--limit", "1", "--emotions", "surprise", "--do", "1=0,2=0,5=0"
    )
    row = pd.read_parquet(cut / "metadata.parquet").iloc[0]
    assert row["aus"].startswith("26:") and row["onset"] == original["onset"]
    cfg = VerifyConfig(every=2)
    with Landmarker(max_faces=1) as landmarker:
        res = verify_video(cut / row["file_name"], landmarker, requested_aus(original), cfg,
                           truth_of(original))  # fmt: skip
        own = verify_video(cut / row["file_name"], landmarker, requested_aus(row), cfg)
    assert not res.row["verified"]
    assert "missing AU 1+2+5" in res.row["verify_reasons"]
    assert res.row["au_recall"] <= 0.25
    assert "missing" not in own.row["verify_reasons"]  # against its own request, AU26 is there


def test_plain_folder_of_videos_and_frame_folders(verified: Path, tmp_path: Path, capsys) -> None:
    from equime.video.mp4 import read_mp4

    meta = pd.read_parquet(verified / "metadata.parquet")
    row = meta[meta["target_emotion"] == "surprise"].iloc[0]
    real = tmp_path / "real"
    (real / "sub01" / "clip1").mkdir(parents=True)
    shutil.copy(verified / row["file_name"], real / "sub01" / "clip0.mp4")
    for i, frame in enumerate(read_mp4(verified / row["file_name"]), start=1):
        Image.fromarray(frame).save(real / "sub01" / "clip1" / f"img{i}.png")
    assert [p.name for p in frame_files(real / "sub01" / "clip1")][8:11] == [
        "img9.png", "img10.png", "img11.png"
    ]  # fmt: skip
    (real / "broken.mp4").write_bytes(b"not a video")
    out = tmp_path / "out"
    assert (
        main(["verify", str(real), "--out", str(out), "--no-progress", "--plots", "--workers", "2"])
        == 0
    )
    table = pd.read_csv(out / "spotting.csv", keep_default_na=False)
    assert table["video"].tolist() == ["broken.mp4", "sub01/clip0.mp4", "sub01/clip1"]
    assert "cannot read video" in table["error"].iloc[0] and not table["expression"].iloc[0]
    table = table.iloc[1:].astype({"est_apex": float})
    assert table["expression"].all() and table["verify_timing"].eq("estimated").all()
    assert (table["est_apex"] - row["apex"]).abs().max() <= 2
    assert table["measured_aus"].iloc[0] == table["measured_aus"].iloc[1] != ""
    assert (out / "au_curves.parquet").is_file() and (out / "plots" / "sub01.png").is_file()
    assert "3 videos read, 2 with an expression" in capsys.readouterr().out


def test_user_errors_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["verify", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["verify", str(tmp_path / "empty"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "not a folder" in err and "no videos" in err and "Traceback" not in err


def test_drift_separates_identity_from_pose(demo_faces) -> None:
    from equime.verify.drift import STABLE, drift

    base = demo_faces[0].landmarks.astype(np.float32)
    still = np.repeat(base[None], 30, axis=0)
    assert drift(still, 10) == (0.0, 0.0)
    moved = still.copy()
    moved[20:] += np.float32([6.0, -3.0])  # the whole head shifts: pose, not identity
    identity, pose = drift(moved, 10)
    assert identity < 1e-3 and pose > 0.08
    warped = still.copy()
    stable = list(STABLE)
    centre = base[stable].mean(0)
    warped[20:, stable, 0] = centre[0] + (base[stable, 0] - centre[0]) * 1.15  # face widens
    identity, _ = drift(warped, 10)
    assert identity > 0.04  # fails the default limit


# --- the second opinion: FACS region directions (no part of the generator) ----------------------


def test_second_opinion_reads_facs_directions_and_flags_disagreement(demo_faces) -> None:
    """A flow field that lifts the inner brows reads as AU1, one that lowers them and draws them in
    as AU4; where the template read-out said AU4 and the flow lifts the brows, AU4 is flagged."""
    from equime.verify.directions import compare, direction_basis, facs_curves
    from equime.verify.readout import Readout

    face = demo_faces[0]
    flow = _face_flow(face)
    origin = np.array([flow.box[2], flow.box[0]], np.float64)
    basis = direction_basis(face.landmarks, flow.points, origin, flow.iod)
    cfg = VerifyConfig()
    n, apex = 40, 30
    rng = np.random.default_rng(0)
    for number, other in ((1, 4), (4, 1)):
        pattern = basis.matrix[:, basis.numbers.index(number)].reshape(-1, 2)
        disp = rng.normal(0, 2e-4, (n, len(flow.points), 2))
        curve = np.clip(1 - np.abs(np.arange(n) - apex) / 5, 0, 1)
        disp[:, basis.rows] += 0.02 * curve[:, None, None] * pattern[None]
        readout = Readout(
            np.arange(n), pd.DataFrame(index=range(n)), np.repeat(face.landmarks[None], n, 0), n
        )
        curves = facs_curves(readout, disp, basis, cfg)
        row = compare(curves, apex, {other: 0.3}, [other], {}, cfg)
        assert row["facs_measured_aus"] == str(number), row
        assert row["verify_disagree_aus"] == str(other)
        assert row["verify_disagreement"] == f"AU{other}: template yes, FACS no"
        agree = compare(curves, apex, {number: 0.3}, [number], {}, cfg)
        assert agree["verify_disagree_aus"] == "" and agree["facs_au_f1"] == 1.0


def test_second_opinion_beside_the_template_readout(verified: Path) -> None:
    """Every verified video gets the FACS read-out's columns; on the demo's surprise and happiness
    it sees the required AUs too, and any disagreement names a requested AU."""
    meta = pd.read_parquet(verified / "metadata.parquet")
    for col in ("facs_measured_aus", "facs_au_f1", "facs_au_recall", "verify_disagree_aus"):
        assert col in meta.columns, col
    # the FACS region directions are hand-written; the motion is now fitted on real faces, which
    # move the required AUs' regions less along those directions: measured 0.79 (0.5, 1, 0.67, 1)
    # on warp 3.0 (0.8 and above on the table's motion)
    assert meta["facs_au_recall"].mean() >= 0.75, meta["facs_au_recall"].tolist()
    from equime.verify.run import requested_aus

    for _, row in meta.iterrows():
        asked = {c.lstrip("RL") for c in requested_aus(row)}
        assert set(filter(None, str(row["verify_disagree_aus"]).split("+"))) <= asked
