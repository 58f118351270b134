"""`equime protect` end to end: load recognisers and videos, check everything before any work,
perturb each video against the attacked recogniser, write the protected videos, and score them
(the attacked recogniser, transfer recognisers, and after an ordinary H.264 re-encode).

The output folder is itself a `folder` dataset (videos/ + labels.csv), so the protected videos
can be fed straight back to `equime train`, `equime evaluate` or `equime protect`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from equime.errors import EquimeError
from equime.privacy.attacks import AttackSpec, perturb
from equime.privacy.measure import (
    DEFENCES,
    Recogniser,
    class_probabilities,
    clip_indices,
    psnr,
    ssim,
)

log = logging.getLogger(__name__)


def conditions(defences: dict[str, float]) -> list[str]:
    """original, protected, then for each defence d: protected_d and original_d (the defence
    applied to the original alone, the baseline its attack success is measured against)."""
    out = ["original", "protected"]
    for name in defences:
        out += [f"protected_{name}", f"original_{name}"]
    return out


@dataclass
class ProtectConfig:
    input: str
    model: str
    attack: str = "pgd"
    eps: float = 4 / 255
    steps: int = 10
    step_size: float | None = None
    target: str | None = None
    out: str | None = None
    transfer: list[str] = field(default_factory=list)
    lossless: bool = True
    lossy_crf: int = 18
    reencode_crf: int | None = 23  # None: no re-encode robustness check
    blur_sigma: float | None = 1.0  # None: no blur defence; sigma in the video's pixels
    dataset: str = "auto"
    batch: int = 8
    device: str = "cpu"
    random_start: bool = True
    restarts: int = 1
    seed: int = 0
    smooth: float = 0.0
    progress: bool = True

    def defences(self) -> dict[str, float]:
        """The defences to test, with their settings (privacy.measure.DEFENCES)."""
        out: dict[str, float] = {}
        if self.reencode_crf is not None:
            out["h264"] = self.reencode_crf
        if self.blur_sigma is not None:
            out["blur"] = self.blur_sigma
        return out

    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path(f"{Path(self.input).resolve()}-protected")


@dataclass
class ProtectResult:
    out: Path
    summary: pd.DataFrame
    report: dict[str, Any]


# ---- checks before any work ----------------------------------------------------------------


def load_recogniser(path: str | Path, role: str, device: torch.device) -> Recogniser:
    from equime.mer.checkpoint import load_checkpoint

    path = Path(path)
    model, config = load_checkpoint(path, device=str(device))
    classes = list(config["classes"])
    if len(classes) != int(config["n_classes"]):
        raise EquimeError(
            f"{path}: config names {len(classes)} classes but the model has {config['n_classes']}"
        )
    rec = Recogniser(f"{config['model']} ({path.name})", path, model, config, role)
    check_input(rec)
    return rec


def check_input(rec: Recogniser) -> None:
    """The gradient goes through plain grey frames; a flow recogniser (or aligned /
    time-normalised frames) is scored on the decoded videos as a transfer recogniser."""
    from equime.mer.inputs import preprocess_from_config

    prep = preprocess_from_config(rec.config)
    if rec.input not in ("frames", "flow"):
        raise EquimeError(f"{rec.path}: input {rec.input!r} is not one protect can score")
    if rec.input == "flow" and rec.role == "attacked":
        raise EquimeError(
            f"{rec.path}: a flow recogniser cannot be attacked through its input (optical flow "
            "is not differentiated here); attack a frames recogniser and pass this one with "
            "--transfer (a black-box test)"
        )
    if rec.input == "frames" and not prep.plain:
        raise EquimeError(
            f"{rec.path}: frames with alignment or time normalisation are not supported by "
            "protect yet (train it without --align / --fps)"
        )


def check_transfer(attacked: Recogniser, others: list[Recogniser]) -> None:
    names = {attacked.name}
    for rec in others:
        if rec.classes != attacked.classes:
            raise EquimeError(
                f"{rec.path}: its {len(rec.classes)} classes {rec.classes} differ from the "
                f"attacked recogniser's {len(attacked.classes)} {attacked.classes}; "
                "transfer needs recognisers trained on the same classes"
            )
        if rec.name in names:
            rec.name = f"{rec.name} #{len(names) + 1}"
        names.add(rec.name)


def load_input(path: str | Path, dataset: str) -> pd.DataFrame:
    """The clip table of an EquiME dataset folder (metadata) or a folder of labelled videos."""
    from equime.mer.datasets import load_dataset

    root = Path(path)
    if not root.is_dir():
        raise EquimeError(f"{root}: input folder not found")
    if dataset == "auto":
        equime = (root / "metadata.parquet").is_file() or (root / "metadata.csv").is_file()
        dataset = "equime" if equime else "folder"
    return load_dataset(dataset, root)


def label_table(table: pd.DataFrame, attacked: Recogniser) -> tuple[pd.DataFrame, int]:
    """Keep the clips whose label is one of the recogniser's classes; returns (table, dropped)."""
    from equime.mer.labels import label_rows

    scheme = str(attacked.config.get("scheme") or "native")
    table = table.copy()
    table["true"] = label_rows(table, scheme)  # the scheme's clip selection too (megc2019)
    keep = table["true"].isin(attacked.classes)
    if not keep.any():
        labels = ", ".join(sorted(set(table["emotion"]))[:8])
        raise EquimeError(
            f"{attacked.path}: none of the videos' labels ({labels}) is one of its classes "
            f"({', '.join(attacked.classes)})"
        )
    table = table[keep].reset_index(drop=True)
    table["y_true"] = [attacked.classes.index(c) for c in table["true"]]
    return table, int((~keep).sum())


def frame_size(source: str | Path) -> tuple[int, int]:
    """(width, height) of a video or frame folder, without decoding the whole thing."""
    from equime.mer.clips import read_frames
    from equime.video.frames import frame_files
    from equime.video.mp4 import video_info

    source = Path(source)
    if source.is_dir():
        first = read_frames(source, files=frame_files(source)[:1])
        return int(first.shape[2]), int(first.shape[1])
    width, height, _, _ = video_info(source)
    return width, height


def check_sizes(table: pd.DataFrame, recognisers: list[Recogniser], needs_even: bool) -> None:
    """One frame size per run, at least every recogniser's input, even for H.264 4:2:0."""
    first: tuple[int, int] | None = None
    for source in table["source"]:
        w, h = frame_size(source)
        if first is None:
            first = (w, h)
        elif (w, h) != first:
            raise EquimeError(
                f"{source}: frames are {w}x{h} but the other videos are {first[0]}x{first[1]} "
                "(videos of another size: protect one frame size at a time)"
            )
    assert first is not None
    w, h = first
    for rec in recognisers:
        if min(w, h) < rec.size:
            raise EquimeError(
                f"{table['source'].iloc[0]}: frames are {w}x{h}, smaller than recogniser "
                f"{rec.path}'s {rec.size}x{rec.size} input (videos of another size than it reads)"
            )
    if needs_even and (w % 2 or h % 2):
        raise EquimeError(
            f"{table['source'].iloc[0]}: frames are {w}x{h}; H.264 4:2:0 (lossy output and the "
            "re-encode check) needs even sizes: use --no-reencode with --lossless"
        )


def output_path(root: Path, source: str, clip: str) -> Path:
    """Where a protected video goes, relative to the output folder (mirrors the input)."""
    try:
        rel = Path(source).resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path(clip.replace("\\", "/"))
    parts = rel.parts[1:] if rel.parts and rel.parts[0] == "videos" else rel.parts
    path = Path("videos", *parts)
    # a frame folder 'clip.v2/' becomes 'clip.v2.mp4'; a video 'a.avi' becomes 'a.mp4'
    return path.with_name(path.name + ".mp4") if Path(source).is_dir() else path.with_suffix(".mp4")


def check_outputs(table: pd.DataFrame, root: Path) -> None:
    """Two inputs must not land on one output file (a.avi and a.mp4 side by side)."""
    seen: dict[Path, str] = {}
    for source, clip in zip(table["source"], table["clip"], strict=True):
        rel = output_path(root, source, clip)
        if rel in seen:
            raise EquimeError(f"{source}: would be written to {rel} like {seen[rel]}; rename one")
        seen[rel] = source


def video_fps(source: str | Path, default: float = 24.0) -> float:
    from equime.video.mp4 import video_info

    source = Path(source)
    if source.is_dir():
        return default
    try:
        rate = video_info(source)[2]
    except EquimeError:
        return default
    return rate or default


# ---- the run ----------------------------------------------------------------------------------


def protect(cfg: ProtectConfig) -> ProtectResult:
    """Protect every labelled video of `cfg.input` and write videos + report to `cfg.out_dir()`."""
    from tqdm import tqdm

    from equime.mer.clips import read_frames
    from equime.mer.train import resolve_device
    from equime.privacy.report import write_report

    started = time.perf_counter()
    spec = AttackSpec(
        method=cfg.attack,
        eps=cfg.eps,
        steps=cfg.steps,
        step_size=cfg.step_size,
        random_start=cfg.random_start,
        restarts=cfg.restarts,
        seed=cfg.seed,
        smooth=cfg.smooth,
    ).validate()
    if cfg.batch < 1:
        raise EquimeError(f"--batch {cfg.batch} must be >= 1")
    if cfg.reencode_crf is not None and not 0 <= cfg.reencode_crf <= 51:
        raise EquimeError(f"--reencode-crf {cfg.reencode_crf} out of range: must be 0 to 51")
    if cfg.blur_sigma is not None and not 0 < cfg.blur_sigma <= 10:
        raise EquimeError(f"--blur-sigma {cfg.blur_sigma:g} out of range: must be in (0, 10]")
    if not 0 <= cfg.lossy_crf <= 51:
        raise EquimeError(f"--crf {cfg.lossy_crf} out of range: must be 0 to 51")
    device = resolve_device(cfg.device)
    attacked = load_recogniser(cfg.model, "attacked", device)
    transfers = [load_recogniser(p, "transfer", device) for p in cfg.transfer]
    check_transfer(attacked, transfers)
    recognisers = [attacked, *transfers]
    if cfg.target is not None:
        from equime.mer.labels import normalize_emotion

        name = normalize_emotion(cfg.target)
        if name not in attacked.classes:
            raise EquimeError(
                f"--target {cfg.target!r}: not a class of {attacked.path} "
                f"({', '.join(attacked.classes)})"
            )
        spec = AttackSpec(**{**asdict(spec), "target": attacked.classes.index(name)})
    root = Path(cfg.input)
    out = cfg.out_dir()
    if out.resolve() == root.resolve() or root.resolve() in out.resolve().parents:
        raise EquimeError(f"{out}: the output folder must lie outside the input folder {root}")
    table, dropped = label_table(load_input(root, cfg.dataset), attacked)
    check_sizes(table, recognisers, needs_even=not cfg.lossless or cfg.reencode_crf is not None)
    check_outputs(table, root)

    defences = cfg.defences()
    names = conditions(defences)
    videos_rows: list[dict[str, Any]] = []
    score_rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(table), desc=f"protect ({spec.method})", disable=not cfg.progress)
    for start in range(0, len(table), cfg.batch):
        rows = [table.iloc[i] for i in range(start, min(start + cfg.batch, len(table)))]
        originals = [read_frames(r["source"]) for r in rows]
        protected = _attack_batch(spec, attacked, originals, rows, device)
        written, written_rows = _write_batch(cfg, root, out, attacked, rows, originals, protected)
        videos_rows += written_rows
        variants = {"original": originals, "protected": written}
        fps = [v["fps"] for v in written_rows]
        for defence, setting in defences.items():
            for name, frames in (("protected", written), ("original", originals)):
                variants[f"{name}_{defence}"] = [
                    DEFENCES[defence](v, f, setting) for v, f in zip(frames, fps, strict=True)
                ]
        for rec in recognisers:
            for condition in names:
                probs = class_probabilities(rec, variants[condition], rows, device)
                score_rows += _score_rows(rec, condition, rows, probs)
        bar.update(len(rows))
    bar.close()
    videos = pd.DataFrame(videos_rows)
    scores = pd.DataFrame(score_rows)
    _write_tables(out, videos, scores)
    report = write_report(
        out,
        cfg=cfg,
        spec=spec,
        recognisers=recognisers,
        videos=videos,
        scores=scores,
        dropped=dropped,
        seconds=time.perf_counter() - started,
    )
    return ProtectResult(out=out, summary=pd.DataFrame(report["summary"]), report=report)


def _attack_batch(
    spec: AttackSpec,
    rec: Recogniser,
    originals: list[np.ndarray],
    rows: list[pd.Series],
    device: torch.device,
) -> list[np.ndarray]:
    """Perturb the frames `rec` reads of each video (clips of one shape attacked together)."""
    picks = [clip_indices(rec, r, len(v)) for v, r in zip(originals, rows, strict=True)]
    protected = [v.copy() for v in originals]
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (video, picked) in enumerate(zip(originals, picks, strict=True)):
        groups.setdefault(video[picked].shape, []).append(i)
    for members in groups.values():
        clips = np.stack([originals[i][picks[i]] for i in members])
        labels = [int(rows[i]["y_true"]) for i in members]
        keys = [str(rows[i]["clip"]) for i in members]
        adv = perturb(spec, rec.model, clips, labels, rec.n_frames, rec.size, device, keys)
        for k, i in enumerate(members):
            protected[i][picks[i]] = adv[k]
    return protected


def _write_batch(
    cfg: ProtectConfig,
    root: Path,
    out: Path,
    attacked: Recogniser,
    rows: list[pd.Series],
    originals: list[np.ndarray],
    protected: list[np.ndarray],
) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """Write the protected videos; returns what a reader decodes from them and a row per video
    (where it went, PSNR / SSIM over the attacked frames, largest change, exact round trip)."""
    written, records = [], []
    for row, orig, prot in zip(rows, originals, protected, strict=True):
        rel = output_path(root, row["source"], row["clip"])
        fps = video_fps(row["source"])
        got = _write(out / rel, prot, fps, cfg)
        written.append(got)
        picked = clip_indices(attacked, row, len(orig))
        records.append(
            {
                "clip": row["clip"],
                "subject": row["subject"],
                "source": row["source"],
                "path": rel.as_posix(),
                "label": row["emotion"],
                "true": row["true"],
                "frames": len(orig),
                "frames_attacked": len(picked),
                "psnr": psnr(orig[picked], got[picked]),
                "ssim": ssim(orig[picked], got[picked]),
                "linf": int(np.abs(got.astype(int) - orig.astype(int)).max()),
                "exact": bool(np.array_equal(got, prot)),
                "fps": fps,
                **{k: row[k] for k in ("onset", "apex", "offset")},
            }
        )
    return written, records


def _score_rows(
    rec: Recogniser, condition: str, rows: list[pd.Series], probs: np.ndarray
) -> list[dict[str, Any]]:
    return [
        {
            "clip": row["clip"],
            "recogniser": rec.name,
            "role": rec.role,
            "condition": condition,
            "y_true": int(row["y_true"]),
            "y_pred": int(p.argmax()),
            "pred": rec.classes[int(p.argmax())],
            "confidence": float(p.max()),
            "p_true": float(p[int(row["y_true"])]),
        }
        for row, p in zip(rows, probs, strict=True)
    ]


def _write(path: Path, frames: np.ndarray, fps: float, cfg: ProtectConfig) -> np.ndarray:
    """Write one protected video and return what a reader decodes from it."""
    from equime.mer.clips import read_frames

    if cfg.lossless:
        from equime.video.lossless import write_lossless_mp4

        write_lossless_mp4(path, frames, fps)
    else:
        from equime.video.mp4 import write_mp4

        write_mp4(path, frames, fps, crf=cfg.lossy_crf)
    return read_frames(path)


def _write_tables(out: Path, videos: pd.DataFrame, scores: pd.DataFrame) -> None:
    """labels.csv (the output as a `folder` dataset), per_video.csv and scores.csv."""
    from equime.files import write_text_atomic

    labels = videos[["path", "label", "subject", "clip", "onset", "apex", "offset"]]
    write_text_atomic(out / "labels.csv", labels.to_csv(index=False))
    write_text_atomic(out / "per_video.csv", videos.to_csv(index=False))
    write_text_atomic(out / "scores.csv", scores.to_csv(index=False))
