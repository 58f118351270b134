"""The MEGC spotting scorer and STRS: a hand-made table (partial overlaps, one prediction over
two truths, duplicates, empty predictions, types kept apart) and a brute-force reference on
random interval sets; the CLI `equime score-spots`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equime.cli import main
from equime.errors import EquimeError
from equime.spot.intervals import check_table, read_intervals
from equime.spot.score import analysis_scores, iou, score_spots


def _table(rows: list[tuple], emotion: bool = False) -> pd.DataFrame:
    cols = ["video", "type", "onset", "offset"] + (["emotion"] if emotion else [])
    return check_table(pd.DataFrame(rows, columns=cols), "test")


def test_iou_counts_frames_inclusively() -> None:
    assert iou((0, 9), (0, 9)) == 1.0
    assert iou((0, 9), (5, 14)) == pytest.approx(5 / 15)
    assert iou((0, 9), (10, 19)) == 0.0
    assert iou((3, 3), (3, 3)) == 1.0


TRUTH = [
    ("v1", "me", 10, 19),  # matched by (12, 21): IoU 8/12
    ("v1", "me", 40, 49),  # only a partial overlap (45, 60): IoU 5/21 -> FN
    ("v1", "mae", 100, 159),  # a prediction covering it and the next: IoU 60/130 -> FN
    ("v1", "mae", 170, 199),
    ("v2", "me", 5, 12),  # two duplicate predictions: one TP, one FP
    ("v3", "mae", 0, 30),  # no prediction in v3 at all -> FN
]
PRED = [
    ("v1", "me", 12, 21),
    ("v1", "me", 45, 60),
    ("v1", "mae", 100, 229),
    ("v2", "me", 5, 12),
    ("v2", "me", 5, 12),
    ("v2", "mae", 5, 12),  # right place, wrong type: a macro FP (types are scored apart)
    ("v4", "me", 0, 5),  # a video without truth: FP
]


def test_hand_made_table() -> None:
    score = score_spots(_table(TRUTH), _table(PRED))
    t = score.table
    assert t.loc["me", ["truth", "pred", "tp", "fp", "fn"]].tolist() == [3, 5, 2, 3, 1]
    assert t.loc["mae", ["truth", "pred", "tp", "fp", "fn"]].tolist() == [3, 2, 0, 2, 3]
    assert t.loc["overall", ["truth", "pred", "tp", "fp", "fn"]].tolist() == [6, 7, 2, 5, 4]
    assert t.loc["me", "precision"] == pytest.approx(2 / 5)
    assert t.loc["me", "recall"] == pytest.approx(2 / 3)
    assert t.loc["overall", "f1"] == pytest.approx(2 * 2 / (6 + 7))
    assert sorted(score.pairs["iou"].round(4)) == [round(8 / 12, 4), 1.0]


def test_one_prediction_covering_two_equal_truths_matches_one() -> None:
    """IoU exactly 0.5 with both: the first truth is taken, the second stays a miss."""
    score = score_spots(_table([("v", "me", 0, 4), ("v", "me", 5, 9)]), _table([("v", "me", 0, 9)]))
    assert score.table.loc["me", ["tp", "fp", "fn"]].tolist() == [1, 0, 1]
    assert score.pairs["truth_onset"].tolist() == [0]


def test_empty_predictions_and_empty_truth() -> None:
    empty = _table([])
    score = score_spots(_table(TRUTH), empty)
    assert score.table.loc["overall", ["tp", "fp", "fn", "f1"]].tolist() == [0, 0, 6, 0.0]
    score = score_spots(empty, _table(PRED))
    assert score.table.loc["overall", ["tp", "fp", "fn", "precision"]].tolist() == [0, 7, 0, 0.0]


def _brute_force(truth: list[tuple], pred: list[tuple], threshold: float) -> dict[str, tuple]:
    """The definition written plainly: frame sets, predictions in onset order, first unmatched."""
    out = {}
    for kinds, name in ((("me",), "me"), (("mae",), "mae"), (("me", "mae"), "overall")):
        tp = 0
        for video in {r[0] for r in truth + pred}:
            for kind in kinds:
                ts = sorted(
                    [r for r in truth if r[0] == video and r[1] == kind], key=lambda r: (r[2], r[3])
                )
                ps = sorted(
                    [r for r in pred if r[0] == video and r[1] == kind], key=lambda r: (r[2], r[3])
                )
                used = set()
                for p in ps:
                    fp = set(range(p[2], p[3] + 1))
                    for j, t in enumerate(ts):
                        ft = set(range(t[2], t[3] + 1))
                        if j not in used and len(fp & ft) / len(fp | ft) >= threshold:
                            used.add(j)
                            tp += 1
                            break
        n_t = sum(r[1] in kinds for r in truth)
        n_p = sum(r[1] in kinds for r in pred)
        out[name] = (n_t, n_p, tp)
    return out


def _random_intervals(rng: np.random.Generator, n: int) -> list[tuple]:
    rows = []
    for _ in range(n):
        onset = int(rng.integers(0, 120))
        rows.append(
            (
                f"v{rng.integers(0, 3)}",
                ["me", "mae"][rng.integers(0, 2)],
                onset,
                onset + int(rng.integers(0, 25)),
            )
        )
    return rows


@pytest.mark.parametrize("seed", range(25))
def test_equals_brute_force_on_random_sets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth, pred = (
        _random_intervals(rng, int(rng.integers(0, 15))),
        _random_intervals(rng, int(rng.integers(0, 20))),
    )
    threshold = [0.5, 0.3, 0.7][seed % 3]
    score = score_spots(_table(truth), _table(pred), threshold)
    for name, (n_t, n_p, tp) in _brute_force(truth, pred, threshold).items():
        assert score.table.loc[name, ["truth", "pred", "tp"]].tolist() == [n_t, n_p, tp], name


def test_strs_is_spotting_f1_times_analysis_f1() -> None:
    truth = _table(
        [
            ("a", "me", 0, 9, "happiness"),
            ("a", "me", 20, 29, "surprise"),
            ("b", "me", 0, 9, "surprise"),
            ("b", "me", 40, 49, "disgust"),
        ],
        emotion=True,
    )
    pred = _table(
        [
            ("a", "me", 0, 9, "happiness"),
            ("a", "me", 20, 29, "happiness"),
            ("b", "me", 1, 9, "surprise"),
            ("b", "me", 60, 69, "surprise"),
        ],
        emotion=True,
    )
    t = score_spots(truth, pred).table
    assert t.loc["me", "f1"] == pytest.approx(0.75)  # 3 TP of 4 truths and 4 predictions
    # TP pairs: happiness->happiness, surprise->happiness, surprise->surprise
    # happiness P 1/2 R 1; surprise P 1 R 1/2 -> macro P = R = 0.75
    assert t.loc["me", "analysis_f1"] == pytest.approx(0.75)
    assert t.loc["me", "strs"] == pytest.approx(0.75 * 0.75)
    assert t.loc["me", "uar"] == pytest.approx(0.75)


def test_a_class_recognised_perfectly_counts() -> None:
    """The reference code scores 0 when every pair is one correct class; that is its bug."""
    scores = analysis_scores(pd.Series(["happiness"] * 3), pd.Series(["happiness"] * 3))
    assert scores["analysis_f1"] == 1.0


def test_bad_tables_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "spots.csv"
    path.write_text("video,type,onset,offset\nv,me,10,5\n")
    with pytest.raises(EquimeError, match=r"spots.csv: line 2: offset 5 is before onset 10"):
        read_intervals(path)
    path.write_text("video,type,onset,offset\nv,blink,1,5\n")
    with pytest.raises(EquimeError, match=r"spots.csv: unknown expression type 'blink'"):
        read_intervals(path)
    path.write_text("video,onset,offset\nv,1,5\n")
    with pytest.raises(EquimeError, match=r"spots.csv: missing column type"):
        read_intervals(path)


def test_score_spots_command(tmp_path: Path, capsys) -> None:
    truth, pred = tmp_path / "intervals.csv", tmp_path / "spots.csv"
    _table(TRUTH).to_csv(truth, index=False)
    pd.DataFrame(PRED, columns=["video", "type", "onset", "offset"]).assign(
        type=lambda d: d["type"].map({"me": "Micro", "mae": "macro-expression"})
    ).to_csv(pred, index=False)
    assert main(["score-spots", str(truth), str(pred), "--out", str(tmp_path / "score")]) == 0
    shown = capsys.readouterr().out
    assert "overall" in shown and "0.308" in shown  # 2 * 2 / 13
    saved = pd.read_csv(tmp_path / "score" / "score.csv", index_col=0)
    assert saved.loc["overall", "tp"] == 2
    assert main(["score-spots", str(truth), str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
