"""The must-shows on `equime generate --demo --long` (both demo faces, the easy preset; 12 s
here, 3 micro- and 1 macro-expression each, to keep the suite short; BENCHMARKS.md has the
default 20 s): `equime spot` scores itself against intervals.csv with overall F1 >= 0.5 at
IoU 0.5, and every micro-expression's onset, apex and offset in intervals.csv agree with what
verify's read-out measures on that event within 2 frames. Also `equime spot` on a plain video
file."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pandas as pd
import pytest
import yaml
from mer_fixtures import write_samm_lv_sheet

from equime.cli import main
from equime.verify.config import VerifyConfig
from equime.verify.fidelity import Truth
from equime.verify.run import requested_aus, verify_video
from equime.video.mp4 import read_mp4

LEAD, TAIL = 12, 14  # frames of the long video around a micro-expression cut out for verify


@pytest.fixture(scope="module")
def long_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("longdemo")
    config = folder / "long.yaml"
    config.write_text(
        # the easy preset (no talking, turns or occlusion): these tests check the toolchain's
        # exactness; the realistic default is measured in benchmarks/bench_spot_presets.py
        yaml.safe_dump(
            {"long": {"preset": "easy", "duration_s": 12, "micro": [3, 3], "macro": [1, 1]}}
        )
    )
    out = folder / "ds"
    flags = ["--config", str(config), "--out", str(out), "--workers", "2", "--no-progress"]
    assert main(["generate", "--demo", "--long", *flags]) == 0
    return out


def test_spot_on_the_demo_scores_overall_f1_at_least_half(long_demo: Path, capsys) -> None:
    assert main(["spot", str(long_demo), "--workers", "2", "--recognise", "--no-progress"]) == 0
    shown = capsys.readouterr().out
    assert "2 videos spotted" in shown
    score = pd.read_csv(long_demo / "spot" / "score.csv", index_col=0)
    assert score.loc["overall", "f1"] >= 0.5
    assert score.loc["me", "truth"] >= 6 and score.loc["mae", "truth"] >= 2  # both types present
    assert score.loc["me", "f1"] >= 0.5 and score.loc["mae", "f1"] >= 0.5
    # spot-then-recognise: each interval named by f_Z of the AUs the mesh read-out (the real-data
    # model inverted: nothing of the generator) reads from its onset to its apex; STRS = F1 x
    # analysis F1 (measured 0.659 = 0.933 x 0.706 on warp 3.0)
    assert score.loc["overall", "strs"] == pytest.approx(
        score.loc["overall", "f1"] * score.loc["overall", "analysis_f1"]
    )
    assert score.loc["overall", "strs"] >= 0.5
    spots = pd.read_csv(long_demo / "spot" / "spots.csv")
    assert list(spots.columns) == [
        "video",
        "type",
        "onset",
        "apex",
        "offset",
        "score",
        "emotion",
        "aus",
    ]
    assert len(list((long_demo / "spot" / "plots").glob("*.png"))) == 2
    signal = pd.read_parquet(long_demo / "spot" / "signal.parquet")
    assert signal.groupby("video").size().tolist() == [288, 288]


def test_micro_expression_timing_agrees_with_verify_readout(
    long_demo: Path, tmp_path: Path
) -> None:
    """Each ME cut out of the long video (with a neutral lead-in) as a frame folder, read by
    verify (flow read-out, spotting): onset, apex and offset within 2 frames of intervals.csv.
    One face's three MEs keep the test short (verify renders 26 AU templates per clip); the
    benchmark checks every ME of the default demo."""
    from equime.faces.landmarker import Landmarker

    intervals = pd.read_csv(long_demo / "intervals.csv", keep_default_na=False)
    micro = intervals[intervals["type"] == "me"].astype({"apex": int})
    micro = micro[micro["video"] == micro["video"].iloc[0]]  # one face here; both: bench_spot.py
    assert len(micro) == 3
    errors = []
    with Landmarker(max_faces=1) as landmarker:
        for video, events in micro.groupby("video"):
            frames = read_mp4(long_demo / events["file_name"].iloc[0])
            for e in events.itertuples():
                start = e.onset - LEAD
                folder = tmp_path / f"{video}-{e.onset}"
                folder.mkdir()
                for k, frame in enumerate(frames[start : e.offset + TAIL]):
                    cv2.imwrite(
                        str(folder / f"img{k + 1}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
                    )
                truth = Truth(e.onset - start, e.apex - start, e.offset - start)
                res = verify_video(
                    folder,
                    landmarker,
                    requested_aus(pd.Series({"aus": e.aus})),
                    VerifyConfig(),
                    truth,
                )
                found = (res.spot.onset, res.spot.apex, res.spot.offset)
                errors.append(
                    [
                        f - t
                        for f, t in zip(found, (truth.onset, truth.apex, truth.offset), strict=True)
                    ]
                )
                shutil.rmtree(folder)
    worst = max(abs(x) for row in errors for x in row)
    assert worst <= 2, errors


def test_spot_a_plain_video_file(long_demo: Path, tmp_path: Path) -> None:
    video = next((long_demo / "videos").rglob("*.mp4"))
    copy = tmp_path / "clip.mp4"
    shutil.copy(video, copy)
    truth = pd.read_csv(long_demo / "intervals.csv")
    truth = truth[truth["video"] == video.stem].assign(video="clip")
    truth.to_csv(tmp_path / "truth.csv", index=False)
    out = tmp_path / "out"
    args = [
        "spot",
        str(copy),
        "--truth",
        str(tmp_path / "truth.csv"),
        "--out",
        str(out),
        "--no-plots",
        "--no-progress",
    ]
    assert main(args) == 0
    assert set(pd.read_csv(out / "spots.csv")["video"]) == {"clip"}
    assert pd.read_csv(out / "score.csv", index_col=0).loc["overall", "f1"] >= 0.5
    assert main(["spot", str(tmp_path / "nothing.mp4")]) == 2


def test_spot_a_real_dataset_layout_through_its_loader(long_demo: Path, tmp_path: Path) -> None:
    """One long video laid out as SAMM-LV (frame files 006_1_0001.jpg..., a release sheet with
    1-based frame numbers and `Micro - 1/2` / `Macro` types): the loader's positions meet the
    spotter's, so `equime spot --format samm-lv` scores as on the MP4."""
    intervals = pd.read_csv(long_demo / "intervals.csv")
    intervals = intervals[intervals["type"] != "distractor"].astype({"apex": int})
    first = intervals[intervals["video"] == intervals["video"].iloc[0]]
    frames = read_mp4(long_demo / first["file_name"].iloc[0])
    folder = tmp_path / "SAMM_longvideos" / "006_1"
    folder.mkdir(parents=True)
    for k, frame in enumerate(frames, start=1):
        cv2.imwrite(str(folder / f"006_1_{k:04d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    rows = [
        [
            "006",
            f"006_1_{i + 1}",
            1,
            e.onset + 1,
            e.apex + 1,
            e.offset + 1,
            e.offset - e.onset,
            "Micro - 1/2" if e.type == "me" else "Macro",
            "",
            "",
        ]
        for i, e in enumerate(first.itertuples())
    ]
    notes = [["SAMM Long Videos", *[""] * 9]] * 9
    write_samm_lv_sheet(tmp_path, notes, rows)
    out = tmp_path / "out"
    args = [
        "spot",
        str(tmp_path),
        "--format",
        "samm-lv",
        "--fps",
        "24",
        "--out",
        str(out),
        "--no-plots",
        "--no-progress",
    ]
    assert main(args) == 0
    score = pd.read_csv(out / "score.csv", index_col=0)
    assert score.loc["overall", "truth"] == len(first) and score.loc["overall", "f1"] >= 0.5
    assert set(pd.read_csv(out / "spots.csv")["video"]) == {"006_1"}
