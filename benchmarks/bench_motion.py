"""Motion agreement with real faces: single-AU videos at E, landmarks read back from the MP4 by
MediaPipe, cosine with the real-data pattern (`equime.verify.agreement`), per AU and motion source,
mean over both demo faces.

    PYTHONPATH=src python benchmarks/bench_motion.py [--sources data,table] [--work DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from equime.faces.landmarker import Landmarker
from equime.faces.prepare import prepare_face
from equime.faces.sources import demo_sources
from equime.verify.agreement import measure, model_numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default="data,table")
    parser.add_argument("--work", default=None, help="keep the single-AU MP4s here")
    args = parser.parse_args()
    numbers = model_numbers()
    rows = {}
    with Landmarker() as landmarker:
        faces = [prepare_face(src, landmarker, size=256) for src in demo_sources()]
        for source in args.sources.split(","):
            start = time.perf_counter()
            per: dict[int, list[float]] = {n: [] for n in numbers}
            for face in faces:
                for a in measure(face, numbers, landmarker, motion=source, work=args.work):
                    per[a.number].append(a.cosine)
            rows[source] = {n: float(np.mean(v)) for n, v in per.items()}
            print(f"{source}: {time.perf_counter() - start:.1f} s", flush=True)
    print("| source | " + " | ".join(f"AU{n}" for n in numbers) + " | median | min |")
    print("|---" * (len(numbers) + 3) + "|")
    for source, cos in rows.items():
        cells = " | ".join(f"{cos[n]:.2f}" for n in numbers)
        values = list(cos.values())
        print(f"| {source} | {cells} | {np.median(values):.2f} | {min(values):.2f} |")


if __name__ == "__main__":
    main()
