"""`equime train`: train a recogniser (a raw-frame baseline or a flow model) on a dataset folder."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 60


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train a micro-expression recogniser (ST-CNN, ResNet3D, ...)")
    p.add_argument("data", help="dataset folder")
    p.add_argument(
        "--model",
        required=True,
        help="frames: stcnn, resnet3d, mobilenet, simple3dcnn; flow: ststnet, htnet",
    )
    p.add_argument(
        "--input",
        choices=["frames", "flow"],
        help="frames (clips) or flow (onset->apex optical flow); default: the model's own",
    )
    p.add_argument("--align", action="store_true", help="frames: similarity-aligned face crops")
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        help="mirror, magnitude and alignment jitter while training (default: on for flow)",
    )
    p.add_argument(
        "--flow-scale",
        choices=["none", "p95"],
        help="flow: divide each clip by its robust maximum motion in the face (p95) or not "
        "(none, the default; docs/mer.md)",
    )
    p.add_argument(
        "--fps",
        type=float,
        help="frames: read clips at this rate in real time (time normalisation)",
    )
    p.add_argument(
        "--out", required=True, help="checkpoint folder (model.safetensors + config.json)"
    )
    p.add_argument(
        "--dataset",
        default="equime",
        help="dataset format: equime, samm, casme2, casme3, smic, miex, folder",
    )
    p.add_argument(
        "--scheme",
        default="equime5",
        choices=["equime5", "casme2-5class", "3class", "megc2019", "native", "5class"],
        help="label scheme (5class: old name of equime5)",
    )
    p.add_argument("--epochs", type=int, default=100, help="at most this many epochs (default 100)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument(
        "--frames", dest="n_frames", type=int, default=96, help="clip length (default 96)"
    )
    p.add_argument("--size", type=int, help="input width and height (default: frames 64, flow 28)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--val-split", type=float, default=0.2, help="fraction of subjects for validation"
    )
    p.add_argument(
        "--lr", type=float, help="Adam learning rate (default: the model's; baselines 1e-4)"
    )
    p.add_argument("--patience", type=int, default=15, help="early-stopping patience in epochs")
    p.add_argument(
        "--sampling",
        choices=["onset-offset", "apex", "first", "apex-frame"],
        help="clip sampling (default: the dataset's)",
    )
    p.add_argument(
        "--cache", help="clip cache folder (default $EQUIME_CACHE or ~/.cache/equime/clips)"
    )
    p.add_argument(
        "--weights", help="mobilenet: ImageNet MobileNetV2 weights file (torchvision names)"
    )
    p.add_argument("--workers", type=int, default=0, help="data-loading worker processes")
    p.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (default: torch's; flow: 1)"
    )
    p.add_argument("--sheet", help="annotation sheet of samm / casme2 / casme3 (default: found)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from equime.mer.train import TrainConfig, train

    fields = {k: v for k, v in vars(args).items() if k not in ("command", "run", "verbose")}
    result = train(TrainConfig(**fields))
    print(
        f"{result.out}: best epoch {result.best_epoch} of {result.epochs_run}, "
        f"val accuracy {result.val_accuracy:.3f}, val loss {result.val_loss:.3f} "
        f"({result.train_clips} training / {result.val_clips} validation clips, "
        f"{result.clips_per_second:.1f} clips/s)"
    )
    return 0
