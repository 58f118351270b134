"""The MEGC spotting score and the spot-then-recognise score (STRS).

Spotting (MEGC 2019-2025 on CAS(ME)^2, SAMM-LV, CAS(ME)^3; e.g. the MEGC 2020 baseline's
`result_helper.py`, github.com/HeyingGithub/Baseline-project-for-MEGC2020_spotting): a spotted
interval W is a true positive when IoU(W, G) = |W n G| / |W u G| >= 0.5 for a ground-truth
interval G of the same type (frames inclusive: [onset, offset] holds offset - onset + 1 frames).
Here each ground truth counts once: predictions, in onset order, take the first (by onset) not
yet matched ground truth they reach (MEAN's Evaluator.evaluate_spotting does the same, except
that it lets one prediction take several truths; with IoU >= 0.5 that needs two truths of
exactly half its length). Per type and video, then pooled over videos:
TP, FP = predictions - TP, FN = truths - TP; recall = TP / truths, precision = TP / predictions,
F1 = 2 P R / (P + R). "overall" pools the TP, FP and FN of both types (as MEGC reports it).

STRS (Liong, See and Chan 2023, "Spot-then-recognize: A micro-expression analysis network for
seamless evaluation of long videos", Signal Processing: Image Communication 110:116875; the
MEGC 2024 and 2025 STR challenge metric, megc2024.github.io/challenge.html and
megc2025.github.io/challenge.html; reference code github.com/genbing99/STRS-Metric): the
spotting F1 times the analysis F1, where analysis is scored on the true-positive pairs only: for
every emotion class c among the ground truths, TP_c = pairs with truth c and prediction c, FP_c
= prediction c but truth not c, FN_c = truth c but prediction not c; per-class precision and
recall (0 when undefined) are averaged over classes, and F1_analysis = 2 P R / (P + R). Two
departures from that reference code, both bugs there: a class whose pairs are all correct
counts (the reference's confusion_matrix unpacking fails on a single label and scores it 0),
and UAR is the mean per-class recall (the reference returns the mean precision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from equime.errors import EquimeError
from equime.spot.intervals import TYPES

IOU_THRESHOLD = 0.5


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """IoU of two inclusive frame intervals."""
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    if inter <= 0:
        return 0.0
    union = (a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter
    return inter / union


def iou_matrix(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(len(pred), len(truth)) IoUs of (n, 2) inclusive intervals, vectorised."""
    if len(pred) == 0 or len(truth) == 0:
        return np.zeros((len(pred), len(truth)))
    lo = np.maximum(pred[:, None, 0], truth[None, :, 0])
    hi = np.minimum(pred[:, None, 1], truth[None, :, 1])
    inter = np.clip(hi - lo + 1, 0, None)
    size_p = (pred[:, 1] - pred[:, 0] + 1)[:, None]
    size_t = (truth[:, 1] - truth[:, 0] + 1)[None, :]
    return inter / (size_p + size_t - inter)


def match(
    pred: pd.DataFrame, truth: pd.DataFrame, threshold: float = IOU_THRESHOLD
) -> pd.DataFrame:
    """True-positive pairs (pred index, truth index, iou) within one video and type: predictions
    in onset order each take the first not-yet-matched truth (onset order) with IoU >= threshold."""
    p = pred.sort_values(["onset", "offset"], kind="stable")
    t = truth.sort_values(["onset", "offset"], kind="stable")
    ious = iou_matrix(p[["onset", "offset"]].to_numpy(), t[["onset", "offset"]].to_numpy())
    taken = np.zeros(len(t), bool)
    pairs = []
    for i, pi in enumerate(p.index):
        hits = np.flatnonzero((ious[i] >= threshold) & ~taken)
        if len(hits):
            j = hits[0]
            taken[j] = True
            pairs.append((pi, t.index[j], float(ious[i, j])))
    return pd.DataFrame(pairs, columns=["pred", "truth", "iou"])


def _prf(tp: int, n_pred: int, n_truth: int) -> tuple[float, float, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_truth if n_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def analysis_scores(truth: pd.Series, pred: pd.Series) -> dict[str, float]:
    """Recognition on true-positive pairs (STRS's analysis part): macro P, R, their F1, UF1, UAR
    over the emotion classes present in `truth`."""
    truth, pred = truth.astype(str).str.lower(), pred.astype(str).str.lower()
    precisions, recalls, f1s = [], [], []
    for c in sorted(set(truth)):
        tp = int(((truth == c) & (pred == c)).sum())
        fp = int(((truth != c) & (pred == c)).sum())
        fn = int(((truth == c) & (pred != c)).sum())
        p, r, f = _prf(tp, tp + fp, tp + fn)
        precisions.append(p)
        recalls.append(r)
        f1s.append(f)
    if not precisions:
        return {
            "analysis_precision": 0.0,
            "analysis_recall": 0.0,
            "analysis_f1": 0.0,
            "uf1": 0.0,
            "uar": 0.0,
        }
    p, r = float(np.mean(precisions)), float(np.mean(recalls))
    return {
        "analysis_precision": p,
        "analysis_recall": r,
        "analysis_f1": 2 * p * r / (p + r) if p + r else 0.0,
        "uf1": float(np.mean(f1s)),
        "uar": r,
    }


@dataclass(frozen=True)
class SpotScore:
    table: pd.DataFrame  # index me, mae, overall: truth, pred, tp, fp, fn, precision, recall, f1
    # (+ analysis and strs where predictions carry an emotion)
    pairs: pd.DataFrame  # every true positive: video, type, truth and predicted interval, iou

    def f1(self, kind: str = "overall") -> float:
        return float(self.table.loc[kind, "f1"])


def truth_emotion(truth: pd.DataFrame) -> pd.Series | None:
    """The emotion a recogniser should name: EquiME's label Y where present, else `emotion`."""
    for col in ("label", "emotion"):
        if col in truth and truth[col].notna().any():
            return truth[col]
    return None


def score_spots(
    truth: pd.DataFrame, pred: pd.DataFrame, threshold: float = IOU_THRESHOLD
) -> SpotScore:
    """MEGC spotting scores per type and overall, pooled over videos, and STRS when `pred` has
    an `emotion` column (tables in `spot.intervals` shape, already checked)."""
    if not 0 < threshold <= 1:
        raise EquimeError(f"IoU threshold {threshold} must be in (0, 1]")
    truth, pred = truth.reset_index(drop=True), pred.reset_index(drop=True)
    pairs = []
    for (video, kind), t in truth.groupby(["video", "type"], sort=True):
        p = pred[(pred["video"] == video) & (pred["type"] == kind)]
        for _, m in match(p, t, threshold).iterrows():
            pairs.append(
                {
                    "video": video,
                    "type": kind,
                    "truth_onset": int(t.loc[m["truth"], "onset"]),
                    "truth_offset": int(t.loc[m["truth"], "offset"]),
                    "pred_onset": int(p.loc[m["pred"], "onset"]),
                    "pred_offset": int(p.loc[m["pred"], "offset"]),
                    "iou": m["iou"],
                    "truth_row": m["truth"],
                    "pred_row": m["pred"],
                }
            )
    pair_table = pd.DataFrame(
        pairs,
        columns=[
            "video",
            "type",
            "truth_onset",
            "truth_offset",
            "pred_onset",
            "pred_offset",
            "iou",
            "truth_row",
            "pred_row",
        ],
    )
    emotions = truth_emotion(truth)
    with_emotion = "emotion" in pred and emotions is not None
    if with_emotion:
        pair_table["truth_emotion"] = [emotions.loc[i] for i in pair_table["truth_row"]]
        pair_table["pred_emotion"] = [pred.loc[i, "emotion"] for i in pair_table["pred_row"]]
    rows = {}
    for kind in (*TYPES, "overall"):
        kinds = TYPES if kind == "overall" else (kind,)
        n_truth = int(truth["type"].isin(kinds).sum())
        n_pred = int(pred["type"].isin(kinds).sum())
        tp_pairs = pair_table[pair_table["type"].isin(kinds)]
        tp = len(tp_pairs)
        precision, recall, f1 = _prf(tp, n_pred, n_truth)
        row = {
            "truth": n_truth,
            "pred": n_pred,
            "tp": tp,
            "fp": n_pred - tp,
            "fn": n_truth - tp,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
        if with_emotion:
            analysis = analysis_scores(tp_pairs["truth_emotion"], tp_pairs["pred_emotion"])
            row.update(analysis)
            row["strs"] = f1 * analysis["analysis_f1"]
        rows[kind] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "type"
    return SpotScore(table, pair_table.drop(columns=["truth_row", "pred_row"]))
