"""`equime generate --long`: the plan (events from the SCM, typed durations, no overlaps, blinks
between events), the rendered frames (motion exactly where intervals.csv says), settings errors,
and a real kill mid-run followed by a re-run giving the uninterrupted run's files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from equime.cli import main
from equime.errors import EquimeError
from equime.generation.config import GenerateConfig
from equime.generation.long import plan_long
from equime.video.mp4 import read_mp4

CLEAN = {
    "duration_s": 8,
    "micro": [2, 2],
    "macro": [1, 1],
    "head_motion_px": 0,
    "blinks_per_min": 20,
}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo face, 8 s, no head drift, lighting drift or sensor noise: every frame outside
    events and blinks should be the photo."""
    folder = tmp_path_factory.mktemp("long")
    config = folder / "long.yaml"
    config.write_text(yaml.safe_dump({"long": CLEAN}))
    out = folder / "ds"
    flags = [
        "--difficulty",
        "easy",  # no talking, turns or occlusions: motion only in events and blinks
        "--limit",
        "1",
        "--light-drift",
        "0",
        "--sensor-noise",
        "0",
        "--no-progress",
        "--workers",
        "1",
    ]
    assert main(["generate", "--demo", "--config", str(config), "--out", str(out), *flags]) == 0
    return out


def test_intervals_csv_lists_every_event_of_the_metadata(clean_run: Path) -> None:
    meta = pd.read_csv(clean_run / "metadata.csv")
    intervals = pd.read_csv(clean_run / "intervals.csv")
    assert len(meta) == 1 and meta.loc[0, "label"] == "long" and meta.loc[0, "n_frames"] == 192
    assert meta.loc[0, "file_name"].startswith("videos/long/")
    assert (clean_run / "contact_sheet.png").stat().st_size > 10_000  # a row per event
    assert list(intervals.columns[:8]) == [
        "video",
        "file_name",
        "type",
        "onset",
        "apex",
        "offset",
        "emotion",
        "label",
    ]
    blinks = json.loads(meta.loc[0, "blinks"])
    listed = intervals[intervals["type"] == "distractor"]
    assert listed[["onset", "offset"]].values.tolist() == blinks  # never a truth
    assert set(listed["label"]) == {"blink"}
    intervals = intervals[intervals["type"] != "distractor"].reset_index(drop=True)
    assert sorted(intervals["type"]) == ["mae", "me", "me"]
    events = json.loads(meta.loc[0, "events"])
    assert [e["onset"] for e in events] == intervals["onset"].tolist()
    duration_ms = (intervals["offset"] - intervals["onset"]) * 1000 / 24
    assert (duration_ms[intervals["type"] == "me"] < 500).all()
    assert (duration_ms[intervals["type"] == "mae"] >= 500).all()
    assert (intervals["onset"].iloc[1:].to_numpy() > intervals["offset"].iloc[:-1].to_numpy()).all()
    assert all(a.strip() for a in intervals["aus"]) and set(intervals["emotion"]) <= {
        "happiness",
        "sadness",
        "surprise",
        "disgust",
        "anger",
    }


def test_frames_move_exactly_inside_events_and_blinks(clean_run: Path) -> None:
    """Frame-to-frame change is nil wherever intervals.csv and the blinks say nothing happens (at
    most H.264's residue: the encoder's look-ahead and rate control shift a few hundredths of a
    grey level around events), at least ten times below every event's and blink's own change, and
    every event's apex differs from its onset frame."""
    meta = pd.read_csv(clean_run / "metadata.csv")
    frames = read_mp4(clean_run / meta.loc[0, "file_name"]).astype(np.float32)
    intervals = pd.read_csv(clean_run / "intervals.csv")
    intervals = intervals[intervals["type"] != "distractor"].astype({"apex": int})
    blinks = json.loads(meta.loc[0, "blinks"])
    assert blinks, "20 blinks a minute over 8 s: expected at least one"
    step = np.r_[0.0, np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))]
    busy = np.zeros(len(frames), bool)
    inside = {}  # each event's and blink's largest frame-to-frame change
    for r in intervals.itertuples():
        busy[r.onset : r.offset + 2] = True
        assert np.abs(frames[r.apex] - frames[r.onset]).mean() > 0.3, f"{r.type} at {r.apex}"
        inside[f"{r.type} at {r.onset}"] = step[r.onset + 1 : r.apex + 1].max()
    for start, end in blinks:
        busy[start : end + 2] = True
        inside[f"blink at {start}"] = step[start + 1 : end + 1].max()
    outside = step[~busy].max()
    print(
        f"\nlong: outside {outside:.4f}; inside", {k: round(float(v), 3) for k, v in inside.items()}
    )
    # measured at a0b5f1f (data motion source): outside 0.014; inside 0.34-0.74, so the weakest
    # event (0.343, a macro-expression) is 24x the largest change outside (16x at 3ac36bb)
    assert outside < 0.04
    for name, change in inside.items():
        assert change > 0.2, f"{name}: does not move ({change:.3f})"
        assert change > 10 * outside, f"{name}: {change:.3f} not ten times {outside:.3f}"


def test_plan_is_deterministic_and_events_differ(tmp_path: Path) -> None:
    cfg = GenerateConfig(out=str(tmp_path), long={"duration_s": 30})
    a, b = plan_long(cfg, "face", 0, {}), plan_long(cfg, "face", 0, {})
    assert a == b
    other = plan_long(cfg, "face", 1, {})
    assert [e.onset for e in other.events] != [e.onset for e in a.events]
    assert len({e.seed for e in a.events}) == len(a.events)
    mae = [e for e in a.events if e.kind == "mae"]
    me = [e for e in a.events if e.kind == "me"]
    assert min(max(e.aus.values()) for e in mae) > max(max(e.aus.values()) for e in me)  # stronger


def test_settings_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(EquimeError, match="long: unknown setting durations"):
        GenerateConfig(out=str(tmp_path), long={"durations": 3})
    with pytest.raises(EquimeError, match="cannot hold"):
        plan_long(
            GenerateConfig(out=str(tmp_path), long={"duration_s": 2, "micro": [5, 5]}), "f", 0, {}
        )
    with pytest.raises(EquimeError, match=r"long\.macro_ms"):
        GenerateConfig(out=str(tmp_path), long={"macro_ms": [200, 400]})
    short = GenerateConfig(out=str(tmp_path))
    assert "long" not in short.dataset_fields()  # clip datasets keep their fingerprint


def _rows(root: Path) -> int:
    rows = root / ".equime" / "rows"
    return len(list(rows.glob("*.json"))) if rows.exists() else 0


def test_kill_during_long_generation_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump({"long": {"duration_s": 5, "micro": [1, 2], "macro": [0, 1]}}))
    args = ["generate", "--demo", "--limit", "1", "--per-face", "3", "--config", str(config)]
    args += ["--workers", "1", "--no-progress"]
    reference = tmp_path / "reference"
    assert main([*args, "--out", str(reference)]) == 0
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "equime.cli", *args, "--out", str(killed)]
    proc = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while _rows(killed) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < _rows(killed) < 3, "the kill must land after the first video and before the last"
    assert main([*args, "--out", str(killed)]) == 0
    for name in ("intervals.csv", "metadata.csv"):
        assert (killed / name).read_text() == (reference / name).read_text(), name
    for video in (reference / "videos").rglob("*.mp4"):
        assert (killed / video.relative_to(reference)).read_bytes() == video.read_bytes()


def test_long_videos_compose_the_same_in_a_memory_map(
    demo_faces, tmp_path: Path, monkeypatch
) -> None:
    """Minutes of video are composed in a memory-mapped file: same frames as in memory."""
    from equime.generation import long_render

    cfg = GenerateConfig(
        out=str(tmp_path), size=256, long={"duration_s": 4, "micro": [1, 1], "macro": [0, 0]}
    )
    row = plan_long(cfg, demo_faces[0].face_id, 0, {})
    generator = long_render.event_generator("warp", ())
    direct = long_render.compose(demo_faces[0], row, generator, {})
    monkeypatch.setattr(long_render, "IN_MEMORY_BYTES", 0)
    with long_render.frame_buffer(tmp_path, direct.shape) as frames:
        assert isinstance(frames, np.memmap)
        long_render.compose(demo_faces[0], row, generator, {}, frames)
        assert np.array_equal(frames, direct)
    assert list(tmp_path.glob(".frames-*")) == []  # the map is removed afterwards


def test_realistic_preset_distractors_are_listed_and_show_in_the_frames(tmp_path: Path) -> None:
    """The realistic preset's talking, fast turns and occlusions (rates raised so a short video
    holds each) are intervals.csv rows of type `distractor`, apart from every expression, and are
    measured in the rendered frames: the mouth moves while talking, the landmarker sees the head
    turn, and the spotter's own cover check marks the occluded frames."""
    from equime.faces import regions
    from equime.faces.landmarker import Landmarker
    from equime.spot.track import TrackConfig, track_face

    config = tmp_path / "long.yaml"
    busy = {"talk_per_min": 12, "fast_turns_per_min": 12, "occlusions_per_min": 12}
    config.write_text(
        yaml.safe_dump({"long": {"duration_s": 20, "micro": [1, 1], "macro": [0, 0], **busy}})
    )
    out = tmp_path / "ds"
    flags = ["--limit", "1", "--no-progress", "--workers", "1", "--config", str(config)]
    assert main(["generate", "--demo", "--out", str(out), *flags]) == 0
    intervals = pd.read_csv(out / "intervals.csv")
    kinds = intervals[intervals["type"] == "distractor"]
    assert {"talk", "turn", "occlusion"} <= set(kinds["label"]), kinds
    for e in intervals[intervals["type"] != "distractor"].itertuples():
        others = kinds[kinds["label"] != "blink"]
        assert ((others["offset"] < e.onset) | (others["onset"] > e.offset)).all()
    frames = read_mp4(out / intervals["file_name"].iloc[0])
    with Landmarker(max_faces=1) as landmarker:
        marks = [landmarker.detect(f)[0].landmarks for f in frames[::2]]
        track = track_face(iter(frames), 24.0, landmarker, TrackConfig(), "long")
    for d in kinds[kinds["label"] == "talk"].itertuples():
        jaw = [  # chin to nose bridge: the jaw drops and comes back at syllable rate
            np.linalg.norm(marks[t // 2][152] - marks[t // 2][168])
            / regions.face_frame(marks[t // 2]).iod
            for t in range(d.onset, d.offset + 1, 2)
        ]
        # measured at the warp's full AU25 + AU26: 0.07-0.1 IOD (real speech opens more; the
        # warp shows no mouth interior)
        assert np.ptp(jaw) > 0.04, f"talk at {d.onset}: the jaw moves {np.ptp(jaw):.3f} IOD"
    for d in kinds[kinds["label"] == "turn"].itertuples():
        nose = [marks[t // 2][1, 0] for t in range(d.onset, d.offset + 1, 2)]
        iod = regions.face_frame(marks[d.onset // 2]).iod
        assert np.ptp(nose) > 0.1 * iod, f"turn at {d.onset}: the nose moved {np.ptp(nose):.1f} px"
    for d in kinds[kinds["label"] == "occlusion"].itertuples():
        inside = ~track.usable[d.onset + 8 : d.offset - 7]  # past the 0.3 s slide in and out
        assert inside.mean() > 0.9, f"occlusion at {d.onset}: {inside.mean():.2f} marked"
