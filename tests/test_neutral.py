"""Neutral start faces: the source face's expression is measured and recorded; beyond the threshold
it is neutralised by the warp (default) or rejected with the reason in rejected.csv. Measured with
the real landmarker on the real demo photos (the astronaut smiles; Grace Hopper does not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equime.cli import main
from equime.faces.expression import NEUTRAL_THRESHOLD, beyond, describe, measure, undo_codes
from equime.faces.face import Face

FLAGS = ["--demo", "--emotions", "happiness", "--frames", "21", "--workers", "1", "--no-progress"]


def test_measure_names_the_expression() -> None:
    scores = measure({"mouthSmileLeft": 0.9, "mouthSmileRight": 0.7, "jawOpen": 0.1})
    assert scores["smile"] == 0.9 and scores["open mouth"] == 0.1 and scores["frown"] == 0.0
    assert beyond(scores) == {"smile": 0.9}
    assert describe(scores) == "smile 0.90"
    assert undo_codes({"smile": 0.9}) == {"12": 1.0, "25": 1.0, "6": 0.5}


def test_the_astronaut_is_neutralised_and_grace_hopper_is_left_alone(
    demo_faces: list[Face],
) -> None:
    from equime.faces.landmarker import Landmarker
    from equime.synth.neutral import neutralise

    astronaut, hopper = demo_faces
    with Landmarker(max_faces=1) as landmarker:
        done = neutralise(astronaut, landmarker)
        assert done.before["smile"] > NEUTRAL_THRESHOLD  # she smiles in the photo
        assert done.changed and "12" in done.undone
        again = measure(landmarker.detect(done.face.image)[0].blendshapes)
        assert not beyond(again), again  # the toolkit's own measure reads her as neutral
        assert done.face.face_id == astronaut.face_id
        assert not np.array_equal(done.face.landmarks, astronaut.landmarks)  # re-detected
        kept = neutralise(hopper, landmarker)
        assert not kept.changed and kept.face is hopper


def test_generate_starts_from_neutral_faces_and_records_why(tmp_path: Path) -> None:
    from equime.faces.landmarker import Landmarker
    from equime.video.mp4 import iter_video

    root = tmp_path / "ds"
    assert main(["generate", "--out", str(root), *FLAGS]) == 0
    meta = pd.read_csv(root / "metadata.csv", keep_default_na=False).set_index("face_id")
    astronaut = meta[meta.index.str.startswith("astronaut")].iloc[0]
    hopper = meta[meta.index.str.startswith("grace-hopper")].iloc[0]
    assert astronaut["face_expression"].startswith("smile 0.9")
    assert "12:" in astronaut["face_neutralised"] and "neutralised" in astronaut["face_notes"]
    assert hopper["face_neutralised"] == "" and hopper["face_expression"] == ""
    with Landmarker(max_faces=1) as landmarker:  # the video's first frame, decoded
        first = next(iter(iter_video(root / astronaut["file_name"])))
        assert not beyond(measure(landmarker.detect(first)[0].blendshapes))
    from equime.dataset.metadata import parse_au_timing

    for _, row in meta.iterrows():  # per-AU timing, inside the clip's
        timing = parse_au_timing(row["au_timing"])
        assert set(timing) == {item.split(":")[0] for item in row["aus"].split("+")}
        assert all(row["onset"] <= t[0] < t[1] < t[2] <= row["offset"] for t in timing.values())


@pytest.mark.parametrize(("mode", "rejected"), [("reject", True), ("keep", False)])
def test_a_smiling_photo_is_rejected_with_the_reason(
    tmp_path: Path, mode: str, rejected: bool
) -> None:
    root = tmp_path / mode
    assert main(["generate", "--out", str(root), "--neutral", mode, *FLAGS]) == 0
    table = pd.read_csv(root / "rejected.csv", keep_default_na=False)
    reasons = table.loc[table["face_id"].str.startswith("astronaut"), "reason"].tolist()
    if rejected:
        assert len(reasons) == 1 and reasons[0].startswith("not neutral: smile 0.9"), reasons
        assert len(pd.read_csv(root / "metadata.csv")) == 1  # Grace Hopper only
    else:
        assert reasons == [] and len(pd.read_csv(root / "metadata.csv")) == 2
