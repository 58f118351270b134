"""Predictions of a trained recogniser on a dataset table: one row per clip with the true class,
the predicted class, the confidence (top probability after the checkpoint's temperature), every
class's probability, the energy score and the `unsure` flag (mer.calibration)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from equime.mer.labels import label_rows


@torch.no_grad()
def predict_table(
    model: torch.nn.Module,
    config: dict[str, Any],
    table: pd.DataFrame,
    sampling: str,
    cache: Any = None,
    batch: int = 16,
    device: str = "cpu",
    progress: bool = False,
    labelled: bool = True,
) -> pd.DataFrame:
    """Classify every clip of `table` whose label maps to one of the model's classes (under the
    model's scheme); clips it cannot score are left out (`labelled=False`: every clip, y_true
    -1). Columns: the table's, plus y_true, y_pred (class indices), true, pred (names),
    confidence (calibrated), raw_confidence, p_<class>, energy, unsure, unsure_why and answer
    (pred, or 'unsure'); flow inputs add flow_size (mer.inputs) and
    apex_used and apex_estimated (the apex the flow was taken at, and whether it was estimated).
    The input and its preprocessing are the checkpoint's, so a model only sees what it learnt on;
    a single-frame model reads the frame its sampler gives (MobileNet: the apex)."""
    from equime.mer.cache import ClipCache, cache_clips, clip_info
    from equime.mer.calibration import read_out
    from equime.mer.inputs import flow_size, get_input, preprocess_from_config
    from equime.mer.models import model_sampling
    from equime.mer.train import CachedClips, batches_to_input

    prep = preprocess_from_config(config)
    sampling = model_sampling(config["model"]) or sampling

    classes = list(config["classes"])
    index = {c: i for i, c in enumerate(classes)}
    table = table.copy()
    table["true"] = label_rows(table, config["scheme"]) if labelled else ""
    if labelled:
        table = table[table["true"].isin(classes)].reset_index(drop=True)
    if table.empty:
        return table.assign(y_true=[], y_pred=[], pred=[], confidence=[], unsure=[])
    cache = cache or ClipCache()
    paths = cache_clips(table, sampling, config["n_frames"], config["size"], cache, progress, prep)
    y_true = [index.get(c, -1) for c in table["true"]]
    data = CachedClips(paths, y_true, config["n_frames"], get_input(prep.input).padded)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=False)
    model = model.to(device).eval()
    scale = config.get("flow_scale", "none")
    logits, sizes = [], []
    for gray, lengths, *_ in loader:
        if prep.input == "flow":
            sizes.append(flow_size(gray).numpy())
        x = batches_to_input(
            gray.to(device), lengths.to(device), config["n_frames"], prep.input, scale
        )
        logits.append(model(x).cpu().numpy())
    flow_sizes = np.concatenate(sizes) if sizes else None
    read = read_out(np.concatenate(logits), config.get("calibration") or {}, flow_sizes)
    p = read["probs"]
    table["y_true"] = y_true
    table["y_pred"] = p.argmax(1)
    table["pred"] = [classes[i] for i in table["y_pred"]]
    table["confidence"] = p.max(1)
    table["raw_confidence"] = read["raw_confidence"]
    for i, name in enumerate(classes):
        table[f"p_{name}"] = p[:, i]
    table["energy"] = read["energy"]
    table["unsure"] = read["unsure"]
    table["unsure_why"] = read["unsure_why"]
    table["answer"] = np.where(read["unsure"], "unsure", table["pred"])
    if flow_sizes is not None:
        table["flow_size"] = flow_sizes
    table["input_path"] = [str(path) for path in paths]  # the cached input the model read
    if prep.input == "flow":
        infos = [clip_info(path) for path in paths]
        table["apex_used"] = [i.get("apex_used", -1) for i in infos]
        table["apex_estimated"] = [bool(i.get("apex_estimated", False)) for i in infos]
    return table
