"""`equime predict CHECKPOINT VIDEO|FOLDER`: ask a trained recogniser what a clip shows.

One video is one clip (onset / apex as given, else the first frame and the flow's largest
frame), or with --spot every interval the spotter finds in it; a folder is one clip per video.
Writes a CSV (class probabilities after the checkpoint's temperature, the energy score and the
`unsure` flag), a JSON beside it (checkpoint, calibration, versions, videos left out) and, for
flow models, the flow image each answer was read from.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

ORDER = 62


def add_parser(sub: Any) -> None:
    p = sub.add_parser("predict", help="name the expression of a clip, a folder or a long video")
    p.add_argument("checkpoint", help="checkpoint folder from equime train / evaluate")
    p.add_argument("target", help="a video (or frame folder), or a folder of them")
    p.add_argument("--onset", type=int, help="onset frame (0-based; default: the first frame)")
    p.add_argument("--apex", type=int, help="apex frame (default: found from the flow)")
    p.add_argument("--offset", type=int, help="offset frame (default: the end of the video)")
    p.add_argument(
        "--spot", action="store_true", help="long video: every interval the spotter finds"
    )
    p.add_argument("--out", help="predictions CSV (default: TARGET's name + _predict.csv)")
    p.add_argument("--flow-dir", help="folder for the flow images (default: beside the CSV)")
    p.add_argument("--cache", help="clip cache folder (default: equime's)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def spot_intervals(video: Path, progress: bool) -> list[tuple[int, int, int]]:
    """(onset, apex, offset) of every expression the spotter finds in `video`: the one call into
    spot/ (its public entry, equime.spot.run), kept here so a change there changes one place."""
    from equime.errors import EquimeError
    from equime.spot.run import SpotItem, spot_items
    from equime.spot.spotter import SpotConfig

    item = SpotItem(video.name, str(video))
    results, errors = spot_items([item], SpotConfig(), None, 1, progress)
    if errors:
        raise EquimeError(errors[0]["error"])
    return [(s["onset"], s["apex"], s["offset"]) for r in results for s in r["spots"]]


def _rows(args: argparse.Namespace, target: Path) -> tuple[list[dict], list[str]]:
    """Clip rows to predict and one line per video left out (no face)."""
    from equime.errors import EquimeError
    from equime.mer.ask import check_timing, clip_row, is_clip, require_face, videos_in
    from equime.mer.clips import count_frames

    if not target.exists():
        raise EquimeError(f"{target}: not found")
    timed = any(v is not None for v in (args.onset, args.apex, args.offset))
    one = target.is_file() or is_clip(target)  # a frame folder is one video
    videos = [target] if one else videos_in(target)
    if len(videos) > 1 and (timed or args.spot):
        raise EquimeError(f"{target}: --onset/--apex/--offset/--spot are for one video")
    rows, left_out = [], []
    for video in videos:
        try:
            total = count_frames(video)
            check_timing(video, total, args.onset, args.apex)
            require_face(video, args.onset or 0, args.offset)
        except EquimeError as exc:
            if len(videos) == 1:
                raise
            left_out.append(str(exc))
            continue
        if args.spot:
            found = spot_intervals(video, args.progress)
            if not found:
                raise EquimeError(f"{video}: the spotter found no expression in it")
            rows += [clip_row(video, video.name, on, None, off) for on, _apex, off in found]
        else:
            rows.append(clip_row(video, video.name, args.onset, args.apex, args.offset))
    if not rows:
        raise EquimeError(f"{target}: no video with a face ({'; '.join(left_out)})")
    return rows, left_out


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    import cv2
    import numpy as np

    from equime.files import write_text_atomic
    from equime.mer.ask import clip_table
    from equime.mer.cache import ClipCache
    from equime.mer.checkpoint import load_checkpoint
    from equime.mer.flow import flow_picture
    from equime.mer.predict import predict_table
    from equime.versions import versions

    target = Path(args.target)
    model, config = load_checkpoint(args.checkpoint)
    rows, left_out = _rows(args, target)
    pred = predict_table(
        model,
        config,
        clip_table(rows),
        config.get("sampling", "onset-offset"),
        ClipCache(args.cache),
        progress=args.progress,
        labelled=False,
    )
    out = Path(args.out) if args.out else target.parent / f"{target.stem}_predict.csv"
    flows = Path(args.flow_dir) if args.flow_dir else out.parent / f"{out.stem}_flow"
    pred["video"] = [Path(s).name for s in pred["source"]]
    pred["flow_png"] = ""
    if config.get("input") == "flow":
        flows.mkdir(parents=True, exist_ok=True)
        for i, row in pred.iterrows():
            png = flows / f"{i:03d}_{Path(row['video']).stem}.png"
            picture = flow_picture(np.load(row["input_path"]))
            cv2.imwrite(str(png), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
            pred.loc[i, "flow_png"] = str(png)
    classes = [f"p_{c}" for c in config["classes"]]
    timing = ["onset", "apex_used", "offset"] if "apex_used" in pred else ["onset", "offset"]
    size = ["flow_size"] if "flow_size" in pred else []
    columns = ["video", "clip", *timing, "answer", "pred", "confidence", "unsure", "unsure_why"]
    table = pred[[*columns, "energy", *size, *classes, "flow_png"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, table.to_csv(index=False))
    record = {  # what answered, beside the answers
        "checkpoint": str(Path(args.checkpoint).resolve()),
        "target": str(target.resolve()),
        "model": config["model"],
        "classes": config["classes"],
        "flow_scale": config.get("flow_scale", "none"),
        "calibration": config.get("calibration") or {},
        "left_out": left_out,
        "versions": versions("torch", "numpy"),
    }
    write_text_atomic(out.with_suffix(".json"), json.dumps(record, indent=2, default=str))
    for row in table.itertuples():
        if row.unsure:
            why = f"{row.unsure_why} outside the training clips' range"
            print(f"{row.clip}: unsure ({why}; top guess {row.pred} {row.confidence:.2f})")
        else:
            print(f"{row.clip}: {row.pred} {row.confidence:.2f}")
    for line in left_out:
        print(f"left out: {line}", file=sys.stderr)
    print(f"{out}: {len(table)} clips")
    return 0
