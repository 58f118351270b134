"""`equime evaluate`: the cross-dataset / per-group benchmark from one experiment file."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 61


def add_parser(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="cross-dataset and per-group recognition benchmark")
    p.add_argument("config", help="experiment file (YAML): datasets, train_on, test_on, models")
    p.add_argument("--out", help="results folder (default: the file's 'out')")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from equime.mer.evaluate import load_experiment, run_experiment

    experiment = load_experiment(args.config, args.out)
    experiment.progress = args.progress
    summary = run_experiment(experiment)
    table = summary["results"]
    for row in table.itertuples():
        print(
            f"{row.train} -> {row.test} {row.model} ({row.protocol}): accuracy {row.accuracy:.3f}, "
            f"weighted F1 {row.weighted_f1:.3f}, UF1 {row.uf1:.3f}, UAR {row.uar:.3f}, "
            f"ECE {row.ece:.3f}, unsure {row.unsure} of {row.n}"
        )
    print(f"{summary['out']}: report.md, results.csv, plots")
    return 0
