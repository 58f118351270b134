"""`equime evaluate`: the cross-dataset matrix (training sets x test sets x models) from one
experiment file, with per-group results, consistency across models, plots and a report.

Protocols: a model trained on dataset A is tested on all of dataset B (B != A). Within one
dataset (B == A) real datasets use leave-one-subject-out (predictions pooled over folds) and
synthetic ones a held-out-identities split; `within` in the experiment file overrides this.
Finished work is kept: checkpoints and fold predictions are reused when their settings match.

A dataset entry `{combine: [smic, casme2, samm]}` pools other entries into one (subjects and clips
prefixed by their dataset): the MEGC 2019 composite is that pool, leave-one-subject-out, with UF1
and UAR over the predictions pooled across folds (docs/mer.md has the ready experiment).
`input: frames | flow` (default: each model's own) is recorded in every checkpoint; a given
checkpoint trained on another input is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from equime.errors import EquimeError
from equime.settings_file import read_settings

log = logging.getLogger(__name__)

WITHIN = ("auto", "loso", "holdout", "skip")
GENERATED_KEYS = ("pretrain_on", "mix_with", "adversarial_with")
# the synthetic-to-real protocols by their name in reports, and the experiment key naming the
# generated entry each uses (generated-only: the pre-training model itself, tested on the folds)
TRAININGS = {
    "generated-only": "pretrain_on",
    "pretrain + fine-tune": "pretrain_on",
    "mixed": "mix_with",
    "adversarial": "adversarial_with",
}
TRAIN_KEYS = (
    "epochs",
    "batch",
    "lr",
    "patience",
    "lr_patience",
    "lr_factor",
    "min_lr",
    "val_split",
    "device",
    "workers",
    "threads",
    "augment",
)


@dataclass
class DatasetEntry:
    name: str
    format: str
    path: str
    sampling: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # loader options (e.g. sheet)
    parts: list[str] = field(default_factory=list)  # a pooled dataset: the entries it combines


@dataclass
class Experiment:
    datasets: dict[str, DatasetEntry]
    train_on: list[str]
    test_on: list[str]
    models: list[str]
    name: str = "experiment"
    out: str = "runs/evaluate"
    scheme: str = "3class"
    within: str = "auto"
    test_split: float = 0.25
    n_frames: int = 96
    size: int | None = None  # default: the input's (frames 64, flow 28)
    seed: int = 0
    train: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkpoints: dict[str, dict[str, str]] = field(default_factory=dict)
    cache: str | None = None
    progress: bool = True
    input: str | None = None  # frames | flow (None: each model's own)
    align: bool = False  # frames: aligned face crops
    fps: float | None = None  # frames: time normalisation (mer.preprocess)
    flow_scale: str | None = None  # mer.inputs FLOW_SCALES (None: DEFAULT_FLOW_SCALE)
    # synthetic-to-real protocols on the within-dataset folds of each real training set
    pretrain_on: str | None = None  # generated entry: train on it, fine-tune on each fold
    mix_with: str | None = None  # generated entry added to each fold's training clips
    mix_weight: float = 0.5  # loss weight of a generated clip in the mixed set
    adversarial_with: str | None = None  # generated entry for domain-adversarial training
    adversarial_weight: float = 0.1  # gradient-reversal weight (mer.domain)


def load_experiment(path: str | Path, out: str | None = None) -> Experiment:
    """Read and check the YAML/JSON experiment file; dataset paths are relative to it."""
    path = Path(path)
    raw = read_settings(path, [f.name for f in fields(Experiment)], "experiment", "keys")
    base = path.parent
    datasets = {}
    for name, entry in (raw.get("datasets") or {}).items():
        if isinstance(entry, str):
            entry = {"path": entry}
        if isinstance(entry, dict) and "combine" in entry:
            parts = entry["combine"]
            parts = [parts] if isinstance(parts, str) else list(parts or [])
            if not parts:
                raise EquimeError(f"{path}: dataset {name} combines nothing")
            datasets[name] = DatasetEntry(name, "composite", "", entry.get("sampling"), {}, parts)
            continue
        if not isinstance(entry, dict) or "path" not in entry:
            raise EquimeError(f"{path}: dataset {name} needs a path")
        extra = {k: v for k, v in entry.items() if k not in ("format", "path", "sampling")}
        where = Path(entry["path"]).expanduser()
        datasets[name] = DatasetEntry(
            name=name,
            format=entry.get("format", name),
            path=str(where if where.is_absolute() else base / where),
            sampling=entry.get("sampling"),
            options=extra,
        )
    raw["datasets"] = datasets
    for key in ("train_on", "test_on", "models"):
        value = raw.get(key)
        raw[key] = [value] if isinstance(value, str) else list(value or [])
        if not raw[key]:
            raise EquimeError(f"{path}: '{key}' lists nothing")
    for name in {*raw["train_on"], *raw["test_on"]} - set(datasets):
        raise EquimeError(f"{path}: '{name}' is not under datasets")
    for key in GENERATED_KEYS:
        if raw.get(key) is not None and raw[key] not in datasets:
            raise EquimeError(f"{path}: {key} '{raw[key]}' is not under datasets")
    for entry in datasets.values():
        for part in entry.parts:
            if part not in datasets or datasets[part].parts:
                raise EquimeError(f"{path}: {entry.name} combines {part!r}, not a dataset entry")

    def here(value: str) -> str:  # paths in the file are relative to the file
        where = Path(value).expanduser()
        return str(where if where.is_absolute() else base / where)

    if raw.get("cache"):
        raw["cache"] = here(raw["cache"])
    raw["checkpoints"] = {
        train: {model: here(folder) for model, folder in (models or {}).items()}
        for train, models in (raw.get("checkpoints") or {}).items()
    }
    raw["model_options"] = {
        model: {k: here(v) if k == "weights" and v else v for k, v in (opts or {}).items()}
        for model, opts in (raw.get("model_options") or {}).items()
    }
    if out:
        raw["out"] = out
    elif not Path(raw.get("out", "runs/evaluate")).is_absolute():
        raw["out"] = str(base / raw.get("out", "runs/evaluate"))
    experiment = Experiment(**raw)
    if experiment.within not in WITHIN:
        raise EquimeError(f"{path}: within {experiment.within!r}; use one of {', '.join(WITHIN)}")
    bad = sorted(set(experiment.train) - set(TRAIN_KEYS))
    if bad:
        raise EquimeError(
            f"{path}: unknown train settings {', '.join(bad)}; known: {', '.join(TRAIN_KEYS)}"
        )
    from equime.mer.datasets import get_dataset
    from equime.mer.inputs import make_preprocess, resolve_input
    from equime.mer.labels import get_scheme, scheme_names
    from equime.mer.models import model_names

    for entry in datasets.values():
        if not entry.parts:
            get_dataset(entry.format)
    if experiment.scheme not in scheme_names():
        raise EquimeError(
            f"{path}: scheme {experiment.scheme!r}; use one of {', '.join(scheme_names())}"
        )
    get_scheme(experiment.scheme)
    for model in experiment.models:
        if model.lower() not in model_names():
            raise EquimeError(f"{path}: unknown model {model!r}; known: {', '.join(model_names())}")
        try:
            resolve_input(model, experiment.input)
        except EquimeError as exc:
            raise EquimeError(f"{path}: {exc}") from exc
    if experiment.input:
        make_preprocess(experiment.input, experiment.align, experiment.fps)
    return experiment


# ---- running ---------------------------------------------------------------------------------


@dataclass
class Loaded:
    entry: DatasetEntry
    table: pd.DataFrame  # with `target`
    classes: list[str]
    sampling: str | dict[str, str]  # per dataset name for a pooled entry
    real: bool


def _load(entry: DatasetEntry, scheme: str, entries: dict[str, DatasetEntry]) -> Loaded:
    from equime.mer.datasets import get_dataset, load_dataset
    from equime.mer.train import apply_scheme

    if entry.parts:
        return _pool(entry, [_load(entries[p], scheme, entries) for p in entry.parts])
    spec = get_dataset(entry.format)
    table, classes = apply_scheme(load_dataset(spec.name, entry.path, **entry.options), scheme)
    if table.empty:
        raise EquimeError(f"{entry.path}: no clip of {entry.name} has a class under {scheme}")
    return Loaded(entry, table, classes, entry.sampling or spec.sampling, spec.real)


def _pool(entry: DatasetEntry, parts: list[Loaded]) -> Loaded:
    """One table from several datasets: subjects and clips prefixed by the entry's name, each
    part keeping its own sampling (by the rows' `dataset`)."""
    tables, sampling = [], {}
    for part in parts:
        name = part.entry.name
        table = part.table.copy()
        table["subject"] = name + "/" + table["subject"]
        table["clip"] = name + "/" + table["clip"]
        tables.append(table)
        for fmt in table["dataset"].unique():
            if isinstance(part.sampling, str):
                sampling[fmt] = entry.sampling or part.sampling
    if len({p.entry.format for p in parts}) < len(parts):
        raise EquimeError(f"{entry.name}: combines two entries of one format")
    classes = parts[0].classes
    if any(p.classes != classes for p in parts):
        raise EquimeError(f"{entry.name}: its datasets have different classes under the scheme")
    table = pd.concat(tables, ignore_index=True)
    return Loaded(entry, table, classes, sampling, all(p.real for p in parts))


def _train_config(exp: Experiment, loaded: Loaded, model: str, out: Path) -> Any:
    from equime.mer.train import TrainConfig

    options = dict(exp.model_options.get(model, {}))
    weights = options.pop("weights", None)
    cfg = TrainConfig(
        data=loaded.entry.path,
        model=model,
        out=str(out),
        dataset=loaded.entry.format,
        scheme=exp.scheme,
        n_frames=exp.n_frames,
        size=exp.size,
        seed=exp.seed,
        sampling=loaded.sampling,  # type: ignore[arg-type]
        cache=exp.cache,
        input=exp.input,
        align=exp.align,
        fps=exp.fps,
        flow_scale=exp.flow_scale,
        weights=weights,
        progress=False,
        options=options,
        **exp.train,
    )
    cfg.validate()  # resolves input and size once, so every key of this job is the same
    return cfg


def _key(cfg: Any, table: pd.DataFrame) -> str:
    """What a trained model depends on: settings and the exact clips (so stale results rerun)."""
    settings = {
        k: v for k, v in asdict(cfg).items() if k not in ("out", "progress", "workers", "cache")
    }
    clips = "|".join(table["clip"] + ":" + table["target"])
    return hashlib.sha256(
        (json.dumps(settings, sort_keys=True, default=str) + clips).encode()
    ).hexdigest()[:16]


def _trained(
    cfg: Any,
    table: pd.DataFrame,
    classes: list[str],
    folder: Path,
    cache: Any,
    init: Any = None,
    salt: str = "",
) -> tuple[Any, dict]:
    """A model trained on `table` (from `init`'s weights when given): the one in `folder` if its
    key matches, else trained now. `salt` names what else it depends on (the pre-trained
    model's key)."""
    from equime.mer.checkpoint import load_checkpoint, read_config
    from equime.mer.train import fit, save_fit

    key = _key(cfg, table) + salt
    if (folder / "config.json").is_file():
        try:
            if read_config(folder).get("experiment_key") == key:
                return load_checkpoint(folder)
        except EquimeError:
            pass
    fitted = fit(table, classes, cfg.sampling, cfg, cache, init)
    save_fit(folder, cfg, fitted, table, classes, cfg.sampling)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["experiment_key"] = key
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
    return fitted.model, config


def _check_input(cfg: Any, config: dict, folder: str) -> None:
    """A given checkpoint must have been trained on the experiment's input."""
    from equime.mer.inputs import resolve_input

    wanted = resolve_input(cfg.model, cfg.input)
    have = config.get("input", "frames")
    if have != wanted:
        raise EquimeError(
            f"{folder}: checkpoint was trained on input {have}, experiment uses {wanted}"
        )


def _split_subjects(table: pd.DataFrame, fraction: float, seed: int) -> list[np.ndarray]:
    """Held-out identities: one fold testing `fraction` of the subjects (clips if < 3 subjects)."""
    from equime.mer.train import split_by_subject

    return [split_by_subject(table, fraction, seed + 1)[1]]


def _loso_folds(table: pd.DataFrame) -> list[np.ndarray]:
    return [
        np.flatnonzero(table["subject"].to_numpy() == s) for s in sorted(table["subject"].unique())
    ]


def run_experiment(exp: Experiment) -> dict[str, Any]:
    """Run the whole matrix; write predictions, tables, plots and report.md under exp.out."""
    from tqdm import tqdm

    from equime.mer.cache import ClipCache
    from equime.mer.checkpoint import load_checkpoint
    from equime.mer.predict import predict_table

    out = Path(exp.out)
    (out / "predictions").mkdir(parents=True, exist_ok=True)
    cache = ClipCache(exp.cache)
    extra = [getattr(exp, k) for k in GENERATED_KEYS if getattr(exp, k)]
    names = list(dict.fromkeys([*exp.train_on, *exp.test_on, *extra]))
    data = {n: _load(exp.datasets[n], exp.scheme, exp.datasets) for n in names}
    jobs = [(t, m) for t in exp.train_on for m in exp.models]
    results, predictions = [], {}
    for train_name, model_name in tqdm(jobs, desc="evaluate", disable=not exp.progress):
        source = data[train_name]
        ckpt = out / "checkpoints" / train_name / model_name
        given = exp.checkpoints.get(train_name, {}).get(model_name)
        cfg = _train_config(exp, source, model_name, ckpt)
        tests = [t for t in exp.test_on if t != train_name]
        if tests:
            if given:
                model, config = load_checkpoint(given)
                _check_input(cfg, config, given)
            else:
                model, config = _trained(cfg, source.table, source.classes, ckpt, cache)
            for test_name in tests:
                target = data[test_name]
                pred = predict_table(
                    model, config, target.table, target.sampling, cache, device=cfg.device
                ).assign(weights_source=config.get("weights_source", "scratch"))
                predictions[(train_name, model_name, test_name)] = (
                    pred,
                    config["classes"],
                    "cross-dataset",
                )
        if train_name in exp.test_on:
            protocol = exp.within
            if protocol == "auto":
                protocol = "loso" if source.real else "holdout"
            if protocol == "skip":
                continue
            folds = (
                _loso_folds(source.table)
                if protocol == "loso"
                else _split_subjects(source.table, exp.test_split, exp.seed)
            )
            parts = []
            for k, rows in enumerate(folds):
                test_rows = source.table.iloc[rows]
                train_rows = source.table.drop(index=source.table.index[rows]).reset_index(
                    drop=True
                )
                folder = out / "folds" / train_name / model_name / f"fold{k:03d}"
                model, config = _trained(cfg, train_rows, source.classes, folder, cache)
                parts.append(
                    predict_table(
                        model, config, test_rows, source.sampling, cache, device=cfg.device
                    ).assign(fold=k, weights_source=config.get("weights_source", "scratch"))
                )
            predictions[(train_name, model_name, train_name)] = (
                pd.concat(parts, ignore_index=True),
                source.classes,
                protocol,
            )
            if source.real:
                runs = _synthetic_to_real(exp, data, source, model_name, folds, protocol, cache)
                predictions.update(runs)
    for (train_name, model_name, test_name), (pred, classes, protocol) in predictions.items():
        pred.to_csv(
            out / "predictions" / f"{train_name}__{model_name}__{test_name}.csv", index=False
        )
        results.append(_result_row(train_name, model_name, test_name, protocol, pred, classes))
    return _write_outputs(exp, out, results, predictions)


def _sampling_of(loaded: Loaded) -> dict[str, str]:
    """Sampling per dataset format of a loaded entry's rows."""
    if isinstance(loaded.sampling, dict):
        return dict(loaded.sampling)
    return dict.fromkeys(loaded.table["dataset"].unique(), loaded.sampling)


def _with_generated(real: pd.DataFrame, generated: Loaded, weight: float) -> pd.DataFrame:
    """A fold's real training clips (weight 1, domain 0) and every generated clip (`weight`,
    domain 1), the generated subjects and clips prefixed by their entry's name."""
    gen = generated.table.copy()
    name = generated.entry.name
    gen["subject"] = name + "/" + gen["subject"]
    gen["clip"] = name + "/" + gen["clip"]
    both = [real.assign(weight=1.0, domain=0.0), gen.assign(weight=weight, domain=1.0)]
    return pd.concat(both, ignore_index=True)


def _synthetic_to_real(
    exp: Experiment,
    data: dict[str, Loaded],
    source: Loaded,
    model_name: str,
    folds: list[np.ndarray],
    protocol: str,
    cache: Any,
) -> dict[tuple[str, str, str], tuple[pd.DataFrame, list[str], str]]:
    """The synthetic-to-real protocols on the same folds as the real-only run: the generated
    model tested on each fold (generated-only), pre-trained on generated data and fine-tuned on
    each fold's training clips (`pretrain_on`; MiE-X, Liu et al. 2022, and AU-ICGAN, Xie et al.
    2020, pre-train then fine-tune), generated and real clips in one training set with a loss
    weight (`mix_with`), and domain-adversarial training on both (`adversarial_with`: DANN,
    mer.domain). Each is a row `<real>.<protocol>` tested on `<real>`."""
    from equime.mer.predict import predict_table

    out = Path(exp.out)
    wanted = {t: getattr(exp, key) for t, key in TRAININGS.items()}
    wanted = {t: g for t, g in wanted.items() if g and g != source.entry.name}
    runs = {}
    for training, gen_name in wanted.items():
        generated = data[gen_name]
        if generated.classes != source.classes:
            raise EquimeError(
                f"{exp.name}: {gen_name} and {source.entry.name} have different classes under "
                f"{exp.scheme}"
            )
        base_cfg = _train_config(exp, generated, model_name, out)
        gen_folder = out / "checkpoints" / gen_name / model_name
        pre_model, pre_config = (None, None)
        if training in ("generated-only", "pretrain + fine-tune"):
            pre_model, pre_config = _trained(
                base_cfg, generated.table, generated.classes, gen_folder, cache
            )
        slug = training.split(" ")[0]
        parts = []
        for k, rows in enumerate(folds):
            test_rows = source.table.iloc[rows]
            train_rows = source.table.drop(index=source.table.index[rows]).reset_index(drop=True)
            folder = out / "folds" / f"{source.entry.name}.{slug}" / model_name / f"fold{k:03d}"
            cfg = _train_config(exp, source, model_name, folder)
            if training == "generated-only":
                model, config = pre_model, pre_config
            elif training == "pretrain + fine-tune":
                init = {name: v.clone() for name, v in pre_model.state_dict().items()}
                salt = "|pretrain:" + str(pre_config.get("experiment_key", ""))
                model, config = _trained(cfg, train_rows, source.classes, folder, cache, init, salt)
            else:
                weight = exp.mix_weight if training == "mixed" else 1.0
                table = _with_generated(train_rows, generated, weight)
                cfg.sampling = {**_sampling_of(source), **_sampling_of(generated)}
                if training == "adversarial":
                    cfg.adversarial = exp.adversarial_weight
                salt = f"|{training}:{weight}:{cfg.adversarial}"
                model, config = _trained(cfg, table, source.classes, folder, cache, None, salt)
            parts.append(
                predict_table(
                    model, config, test_rows, source.sampling, cache, device=cfg.device
                ).assign(fold=k, weights_source=config.get("weights_source", "scratch"))
            )
        key = (f"{source.entry.name}.{slug}", model_name, source.entry.name)
        runs[key] = (pd.concat(parts, ignore_index=True), source.classes, f"{protocol}: {training}")
    return runs


def _result_row(
    train: str, model: str, test: str, protocol: str, pred: pd.DataFrame, classes: list[str]
) -> dict[str, Any]:
    from equime.mer.calibration import expected_calibration_error
    from equime.mer.metrics import classification_metrics

    metrics = classification_metrics(
        pred["y_true"], pred["y_pred"], len(classes), pred["confidence"]
    )
    correct = (pred["y_true"] == pred["y_pred"]).to_numpy()
    sure = ~pred["unsure"].astype(bool).to_numpy() if len(pred) else np.zeros(0, bool)
    metrics.update(
        ece_before=expected_calibration_error(pred["raw_confidence"], correct),
        ece=expected_calibration_error(pred["confidence"], correct),
        unsure=int((~sure).sum()),
        accuracy_sure=float(correct[sure].mean()) if sure.any() else float("nan"),
    )
    training = protocol.split(": ", 1)[1] if ": " in protocol else ""
    if not training:
        training = "cross-dataset" if train != test else "within"
    return {
        "train": train,
        "test": test,
        "model": model,
        "protocol": protocol,
        "training": training,
        **metrics,
        "weights": pred["weights_source"].iloc[0] if len(pred) else "",
        "classes": classes,
    }


def _write_outputs(
    exp: Experiment, out: Path, results: list[dict[str, Any]], predictions: dict
) -> dict[str, Any]:
    from equime.mer.fairness import per_group
    from equime.mer.report import write_report
    from equime.versions import versions

    table = pd.DataFrame(results)
    if table.empty:
        raise EquimeError(f"{exp.name}: nothing to evaluate (train_on and test_on give no pair)")
    table.drop(columns=["confusion", "classes"]).to_csv(out / "results.csv", index=False)
    groups, gaps = [], []
    for (train_name, model_name, test_name), (pred, _classes, _protocol) in predictions.items():
        by_group, gap = per_group(pred)
        keys = {"train": train_name, "model": model_name, "test": test_name}
        if not by_group.empty:
            groups.append(by_group.assign(**keys))
            gaps.append(gap.assign(**keys))
    group_table = pd.concat(groups, ignore_index=True) if groups else pd.DataFrame()
    gap_table = pd.concat(gaps, ignore_index=True) if gaps else pd.DataFrame()
    if not group_table.empty:
        group_table.to_csv(out / "groups.csv", index=False)
        gap_table.to_csv(out / "group_gaps.csv", index=False)
    consistency = table.groupby(["train", "test"])[["weighted_f1", "accuracy", "uf1", "uar"]].agg(
        ["mean", "std"]
    )
    consistency.columns = [f"{m}_{s}" for m, s in consistency.columns]
    consistency = consistency.reset_index()
    consistency.to_csv(out / "consistency.csv", index=False)
    summary = {
        "experiment": {k: v for k, v in asdict(exp).items() if k != "progress"},
        "versions": versions("torch", "numpy", "safetensors"),
        "results": results,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    write_report(out, exp, table, consistency, group_table, gap_table, predictions)
    return {
        "out": out,
        "results": table,
        "consistency": consistency,
        "groups": group_table,
        "gaps": gap_table,
    }
