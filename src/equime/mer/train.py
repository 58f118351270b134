"""Training a recogniser the way the authors did (EquiME supplementary material and their
Keras code), reproducibly.

Adam (lr 1e-4), cross-entropy, batch 16, up to 100 epochs; early stopping on the validation loss
(patience 15) restoring the best weights; reduce-LR-on-plateau (x0.2, patience 5, min 1e-5).
Flow inputs are augmented (mer.augment: mirror, magnitude, similarity jitter); frames are not,
as the authors trained them, unless asked.
Validation holds out whole subjects (identities), so a model is never validated on a face it
trained on. Clips come from the on-disk cache (mer.cache); batches are z-scored on the fly.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from equime.errors import EquimeError
from equime.mer.clips import finish

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: str
    model: str
    out: str
    dataset: str = "equime"
    scheme: str = "equime5"
    epochs: int = 100
    batch: int = 16
    n_frames: int = 96
    size: int | None = None  # default: the input's (frames 64, flow 28)
    seed: int = 0
    device: str = "cpu"
    val_split: float = 0.2
    lr: float | None = None  # default: the model's (paper baselines 1e-4, STSTNet 1e-3, HTNet 3e-4)
    patience: int = 15
    lr_patience: int = 5
    lr_factor: float = 0.2
    min_lr: float = 1e-5
    sampling: str | None = None  # default: the dataset's (mer.datasets DatasetSpec.sampling)
    cache: str | None = None
    weights: str | None = None  # MobileNetV2 ImageNet weights file
    sheet: str | None = None  # annotation sheet of a real dataset (default: found by name)
    workers: int = 0
    threads: int = 0  # torch CPU threads (0: torch's default; flow inputs: 1)
    progress: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    input: str | None = None  # frames | flow (default: the model's own)
    align: bool = False  # frames: similarity-aligned face crop (flow is always aligned)
    fps: float | None = None  # frames: time normalisation to this rate (mer.preprocess)
    augment: bool | None = None  # mer.augment (default: the input's: flow on, frames off)
    flow_scale: str | None = None  # mer.inputs FLOW_SCALES (default: DEFAULT_FLOW_SCALE)
    calibrate: bool = True  # temperature + energy threshold on the validation split
    adversarial: float = 0.0  # gradient-reversal weight of the domain head (mer.domain); 0: off

    def validate(self) -> None:
        from equime.mer.inputs import (
            DEFAULT_FLOW_SCALE,
            get_input,
            make_preprocess,
            resolve_input,
            scale_flow,
        )
        from equime.mer.labels import get_scheme
        from equime.mer.models import model_lr

        get_scheme(self.scheme)
        self.input = resolve_input(self.model, self.input)
        if self.lr is None:
            self.lr = model_lr(self.model)
        make_preprocess(self.input, self.align, self.fps)
        if self.size is None:
            self.size = get_input(self.input).default_size
        if self.augment is None:
            self.augment = get_input(self.input).augmented
        if self.flow_scale is None:
            self.flow_scale = DEFAULT_FLOW_SCALE
        scale_flow(torch.zeros(1, 3, 8, 8), self.flow_scale)  # a known name
        if self.input != "flow" and self.flow_scale != "none":
            raise EquimeError(f"flow_scale {self.flow_scale} needs input flow")
        checks = [
            (self.epochs >= 1, f"epochs {self.epochs} must be >= 1"),
            (self.batch >= 1, f"batch {self.batch} must be >= 1"),
            (self.n_frames >= 1, f"frames {self.n_frames} must be >= 1"),
            (self.size >= 8, f"size {self.size} must be >= 8"),
            (0.0 < self.val_split < 1.0, f"val split {self.val_split} must be in (0, 1)"),
            (self.lr > 0, f"lr {self.lr} must be positive"),
        ]
        for ok, message in checks:
            if not ok:
                raise EquimeError(message)


class CachedClips(Dataset):
    """(gray clip (n_frames, S, S) float32 zero-padded, real length, label index, (weight,
    domain)) per item; flow inputs (3, S, S) come as stored (`padded=False`). Weight scales a
    clip's loss (mixed training) and domain says where it comes from (0 real, 1 generated: the
    adversarial protocol); both default to 1 and 0."""

    def __init__(
        self,
        paths: list[Path],
        labels: list[int],
        n_frames: int,
        padded: bool = True,
        extras: list[tuple[float, float]] | None = None,
    ) -> None:
        self.paths, self.labels, self.n_frames, self.padded = paths, labels, n_frames, padded
        self.extras = torch.tensor(extras or [(1.0, 0.0)] * len(paths), dtype=torch.float32)
        # fixed-size inputs (flow: 3 x 28 x 28, ~9 kB) are small: held in memory, read once
        self.held = (
            None if padded else [torch.from_numpy(np.load(p).astype(np.float32)) for p in paths]
        )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int, torch.Tensor]:
        if self.held is not None:
            return self.held[i], 0, self.labels[i], self.extras[i]
        clip = np.load(self.paths[i])[: self.n_frames].astype(np.float32)
        length = clip.shape[0]
        if length < self.n_frames:
            clip = np.concatenate(
                [clip, np.zeros((self.n_frames - length, *clip.shape[1:]), np.float32)]
            )
        return torch.from_numpy(clip), length, self.labels[i], self.extras[i]


def batches_to_input(
    gray: torch.Tensor,
    lengths: torch.Tensor,
    n_frames: int,
    input: str = "frames",
    flow_scale: str = "none",
) -> torch.Tensor:
    """A batch from CachedClips -> the model's input (frames: trim / pad / z-score; flow: scaled
    per clip as the checkpoint says, mer.inputs)."""
    if input == "frames":
        return finish(gray, n_frames, lengths)
    from equime.mer.inputs import get_input, scale_flow

    return scale_flow(get_input(input).to_model(gray, lengths, n_frames), flow_scale)


def resolve_device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise EquimeError(f"--device {name}: CUDA is not available on this machine")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise EquimeError(f"--device {name}: use cpu or cuda")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def split_by_subject(
    table: pd.DataFrame, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train / validation row indices holding out whole subjects (clips when < 3 subjects)."""
    rng = np.random.default_rng(seed)
    subjects = np.array(sorted(table["subject"].unique()))
    if len(subjects) >= 3:
        rng.shuffle(subjects)
        n_val = min(len(subjects) - 1, max(1, round(fraction * len(subjects))))
        held = set(subjects[:n_val])
        val_mask = table["subject"].isin(held).to_numpy()
    else:
        log.warning("fewer than 3 subjects: validation holds out clips, not identities")
        order = rng.permutation(len(table))
        val_mask = np.zeros(len(table), bool)
        val_mask[order[: max(1, round(fraction * len(table)))]] = True
    return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)


def apply_scheme(table: pd.DataFrame, scheme: str) -> tuple[pd.DataFrame, list[str]]:
    """Add `target` (class name under `scheme`), drop clips without one; classes in index order."""
    from equime.mer.labels import label_rows, scheme_classes

    table = table.copy()
    table["target"] = label_rows(table, scheme)
    dropped = int(table["target"].isna().sum())
    if dropped:
        log.info("%d clips have no class under %s and are left out", dropped, scheme)
    table = table[table["target"].notna()].reset_index(drop=True)
    return table, scheme_classes(scheme, table["target"])


def prepare_table(cfg: TrainConfig) -> tuple[pd.DataFrame, list[str], str]:
    """Load the dataset and map labels by scheme; returns (table, classes, sampling)."""
    from equime.mer.datasets import get_dataset, load_dataset

    spec = get_dataset(cfg.dataset)
    options = {"sheet": cfg.sheet} if cfg.sheet else {}
    table, classes = apply_scheme(load_dataset(spec.name, cfg.data, **options), cfg.scheme)
    if table.empty:
        raise EquimeError(f"{cfg.data}: no clip has a class under scheme {cfg.scheme}")
    return table, classes, cfg.sampling or spec.sampling


@torch.no_grad()
def predict_loader(
    model: torch.nn.Module,
    loader: DataLoader,
    n_frames: int,
    device: torch.device,
    input: str = "frames",
    flow_scale: str = "none",
) -> tuple[np.ndarray, np.ndarray, float]:
    """Logits, true labels and mean cross-entropy over a loader."""
    model.eval()
    outputs, labels, loss_sum = [], [], 0.0
    for gray, lengths, y, _ in loader:
        x = batches_to_input(gray.to(device), lengths.to(device), n_frames, input, flow_scale)
        logits = model(x)
        loss_sum += torch.nn.functional.cross_entropy(logits, y.to(device), reduction="sum").item()
        outputs.append(logits.cpu().numpy())
        labels.append(y.numpy())
    return np.concatenate(outputs), np.concatenate(labels), loss_sum / max(1, len(loader.dataset))


@dataclass
class FitResult:
    model: torch.nn.Module
    history: list[dict[str, float]]
    best_epoch: int
    val_loss: float
    val_accuracy: float
    train_rows: np.ndarray
    val_rows: np.ndarray
    seconds: float
    clips_per_second: float
    weights_source: str
    options: dict[str, Any]
    sampling: str = ""  # the sampler used (a single-frame model's own, e.g. apex-frame)
    threads: int = 0  # torch threads the fit ran on
    calibration: dict[str, Any] = field(default_factory=dict)  # mer.calibration.calibrate


@dataclass
class TrainResult:
    out: Path
    best_epoch: int
    epochs_run: int
    val_loss: float
    val_accuracy: float
    train_clips: int
    val_clips: int
    seconds: float
    clips_per_second: float


def target_indices(table: pd.DataFrame, classes: list[str]) -> list[int]:
    index = {c: i for i, c in enumerate(classes)}
    return [index[t] for t in table["target"]]


def fit(
    table: pd.DataFrame,
    classes: list[str],
    sampling: str | dict[str, str],
    cfg: TrainConfig,
    cache: Any = None,
    init: dict[str, torch.Tensor] | None = None,
) -> FitResult:
    """Train a model on `table` (with a `target` column of class names): the loop itself,
    shared by `equime train` and `equime evaluate` (cross-dataset and leave-one-subject-out).
    `init`: weights to start from (pre-train then fine-tune); optional `weight` and `domain`
    columns scale each clip's loss and mark generated clips (1) for `cfg.adversarial`
    (mer.domain)."""
    from tqdm import tqdm

    from equime.mer.cache import ClipCache, cache_clips
    from equime.mer.inputs import get_input, make_preprocess
    from equime.mer.models import create_model, model_sampling

    cfg.validate()
    device = resolve_device(cfg.device)
    own = model_sampling(cfg.model)
    if own and own != sampling:
        log.info("%s reads one frame: sampling %s instead of %s", cfg.model, own, sampling)
        sampling = own
    prep = make_preprocess(cfg.input, cfg.align, cfg.fps)
    input_spec = get_input(cfg.input)
    threads = cfg.threads or (1 if cfg.input == "flow" else 0)
    restore = torch.get_num_threads() if threads and not cfg.threads else 0
    if threads:
        # results are bit-stable for a fixed thread count. Flow models are tiny (STSTNet: 1.7 k
        # parameters): intra-op threads cost more than they give, badly on a busy machine
        # (BENCHMARKS.md: 15.8 s with one thread, 176 s with two), so flow trains on one
        torch.set_num_threads(threads)
    seed_everything(cfg.seed)
    labels = target_indices(table, classes)
    train_idx, val_idx = split_by_subject(table, cfg.val_split, cfg.seed)
    if len(train_idx) < 2 or len(val_idx) == 0:
        raise EquimeError(
            f"{cfg.data}: {len(table)} clips are too few to split into training and validation"
        )
    cache = cache or ClipCache(cfg.cache)
    paths = cache_clips(table, sampling, cfg.n_frames, cfg.size, cache, cfg.progress, prep)
    log.info("clip cache %s: %d hits, %d decoded", cache.folder, cache.hits, cache.misses)

    weights = table["weight"] if "weight" in table else pd.Series(1.0, index=table.index)
    domains = table["domain"] if "domain" in table else pd.Series(0.0, index=table.index)
    extras = list(zip(weights.astype(float), domains.astype(float), strict=True))

    def loader(rows: np.ndarray, shuffle: bool) -> DataLoader:
        data = CachedClips(
            [paths[i] for i in rows],
            [labels[i] for i in rows],
            cfg.n_frames,
            input_spec.padded,
            [extras[i] for i in rows],
        )
        generator = torch.Generator().manual_seed(cfg.seed)
        # a last training batch of one clip breaks batch norm (ResNet3D): drop it (it is
        # reshuffled into other batches on the next epoch)
        lone = shuffle and len(rows) % cfg.batch == 1 and len(rows) > 1
        return DataLoader(
            data,
            batch_size=cfg.batch,
            shuffle=shuffle,
            generator=generator,
            num_workers=cfg.workers,
            drop_last=lone,
        )

    train_loader, val_loader = loader(train_idx, True), loader(val_idx, False)
    options = dict(cfg.options)
    if cfg.weights:
        options["weights"] = cfg.weights
    model = create_model(cfg.model, len(classes), n_frames=cfg.n_frames, size=cfg.size, **options)
    if init is not None:
        model.load_state_dict(init)
    model = model.to(device)
    weights_source = getattr(model, "weights_source", "scratch")
    head = None
    if cfg.adversarial > 0:
        from equime.mer.domain import DomainHead

        head = DomainHead(model, cfg.adversarial).to(device)
    if cfg.model.lower().startswith("mobilenet"):
        log.warning("MobileNetV2 hybrid: weights from %s", weights_source)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(trained + (list(head.parameters()) if head else []), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimiser, mode="min", factor=cfg.lr_factor, patience=cfg.lr_patience, min_lr=cfg.min_lr
    )
    best = (math.inf, -1, copy.deepcopy(model.state_dict()), 0.0)
    history, waited, seen, start = [], 0, 0, time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc=f"train {cfg.model}", disable=not cfg.progress)
    jitter = torch.Generator().manual_seed(cfg.seed + 1)  # augmentation's own stream
    for epoch in bar:
        model.train()
        total, correct, count = 0.0, 0, 0
        for gray, lengths, y, extra in train_loader:
            x = batches_to_input(
                gray.to(device), lengths.to(device), cfg.n_frames, cfg.input, cfg.flow_scale
            )
            if cfg.augment:
                x = input_spec.augment(x, jitter)
            y = y.to(device)
            logits = model(x)
            weight, domain = extra[:, 0].to(device), extra[:, 1].to(device)
            if bool((weight == 1).all()):  # the plain mean: bit-identical to unweighted runs
                loss = torch.nn.functional.cross_entropy(logits, y)
            else:
                each = torch.nn.functional.cross_entropy(logits, y, reduction="none")
                loss = (each * weight).sum() / weight.sum()
            if head is not None:
                loss = loss + head.loss(domain)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            count += len(y)
        seen += count
        logits, truth, val_loss = predict_loader(
            model, val_loader, cfg.n_frames, device, cfg.input, cfg.flow_scale
        )
        val_acc = float((logits.argmax(1) == truth).mean())
        scheduler.step(val_loss)
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / count,
                "train_accuracy": correct / count,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "lr": optimiser.param_groups[0]["lr"],
            }
        )
        bar.set_postfix(
            loss=f"{total / count:.3f}", val_loss=f"{val_loss:.3f}", val_acc=f"{val_acc:.2f}"
        )
        if val_loss < best[0] - 1e-6:
            best, waited = (val_loss, epoch, copy.deepcopy(model.state_dict()), val_acc), 0
        else:
            waited += 1
            if waited >= cfg.patience:
                log.info("early stop at epoch %d (best %d)", epoch, best[1])
                break
    seconds = time.perf_counter() - start
    used_threads = torch.get_num_threads()
    if restore:  # the flow default is this fit's own, not the process's
        torch.set_num_threads(restore)
    model.load_state_dict(best[2])  # restore the best epoch's weights
    if head is not None:
        head.remove()
    calibration = {}
    if cfg.calibrate:
        from equime.mer.calibration import calibrate

        logits, truth, _ = predict_loader(
            model, val_loader, cfg.n_frames, device, cfg.input, cfg.flow_scale
        )
        sizes = None
        if cfg.input == "flow":
            from equime.mer.inputs import flow_size

            held = train_loader.dataset.held  # flow clips are held in memory, raw
            sizes = flow_size(torch.stack(held)).numpy() if held else None
        calibration = calibrate(logits, truth, sizes)
    return FitResult(
        model=model.eval(),
        history=history,
        best_epoch=best[1],
        val_loss=best[0],
        val_accuracy=best[3],
        train_rows=train_idx,
        val_rows=val_idx,
        seconds=seconds,
        clips_per_second=seen / seconds if seconds > 0 else 0.0,
        weights_source=weights_source,
        options={k: v for k, v in options.items() if k != "weights"},
        sampling=sampling,
        threads=used_threads,
        calibration=calibration,
    )


def checkpoint_config(
    cfg: TrainConfig, fitted: FitResult, table: pd.DataFrame, classes: list[str], sampling: str
) -> dict[str, Any]:
    from dataclasses import asdict as as_dict

    from equime.mer.inputs import make_preprocess
    from equime.mer.labels import get_scheme
    from equime.mer.models import count_parameters

    sampling = fitted.sampling or sampling
    return {
        "model": cfg.model.lower(),
        "n_classes": len(classes),
        "classes": classes,
        "n_frames": cfg.n_frames,
        "size": cfg.size,
        "scheme": get_scheme(cfg.scheme).name,
        "sampling": sampling,
        "input": cfg.input,
        "flow_scale": cfg.flow_scale,
        "calibration": fitted.calibration,
        "preprocess": as_dict(make_preprocess(cfg.input, cfg.align, cfg.fps)),
        "trained_on": {
            "dataset": cfg.dataset,
            "path": str(cfg.data),
            "clips": len(table),
            "subjects": int(table["subject"].nunique()),
            "val_subjects": sorted(table.iloc[fitted.val_rows]["subject"].unique().tolist()),
        },
        "seed": cfg.seed,
        "options": fitted.options,
        "weights_source": fitted.weights_source,
        "parameters": count_parameters(fitted.model),
        "metrics": {
            "best_epoch": fitted.best_epoch,
            "epochs_run": len(fitted.history),
            "val_loss": fitted.val_loss,
            "val_accuracy": fitted.val_accuracy,
            "train_clips": len(fitted.train_rows),
            "val_clips": len(fitted.val_rows),
            "seconds": fitted.seconds,
            "clips_per_second": fitted.clips_per_second,
        },
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "progress"},
        "torch_threads": fitted.threads or torch.get_num_threads(),
        "device": cfg.device,
    }


def save_fit(
    folder: str | Path,
    cfg: TrainConfig,
    fitted: FitResult,
    table: pd.DataFrame,
    classes: list[str],
    sampling: str,
) -> None:
    from equime.mer.checkpoint import save_checkpoint

    config = checkpoint_config(cfg, fitted, table, classes, sampling)
    save_checkpoint(folder, fitted.model.cpu(), config)
    pd.DataFrame(fitted.history).to_csv(Path(folder) / "history.csv", index=False)


def train(cfg: TrainConfig) -> TrainResult:
    """Train `cfg.model` on `cfg.data`, write the checkpoint to `cfg.out`, return a summary."""
    cfg.validate()
    resolve_device(cfg.device)
    table, classes, sampling = prepare_table(cfg)
    fitted = fit(table, classes, sampling, cfg)
    save_fit(cfg.out, cfg, fitted, table, classes, sampling)
    return TrainResult(
        out=Path(cfg.out),
        best_epoch=fitted.best_epoch,
        epochs_run=len(fitted.history),
        val_loss=fitted.val_loss,
        val_accuracy=fitted.val_accuracy,
        train_clips=len(fitted.train_rows),
        val_clips=len(fitted.val_rows),
        seconds=fitted.seconds,
        clips_per_second=fitted.clips_per_second,
    )
