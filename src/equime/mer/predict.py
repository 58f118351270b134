"""Predictions of a trained recogniser on a dataset table: one row per clip with the true class,
the predicted class, the confidence (top softmax probability) and every class's probability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from equime.mer.labels import map_label


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
) -> pd.DataFrame:
    """Classify every clip of `table` whose label maps to one of the model's classes (under the
    model's scheme); clips it cannot score are left out. Columns: the table's, plus y_true,
    y_pred (class indices), true, pred (names), confidence and p_<class>."""
    from equime.mer.cache import ClipCache, cache_clips
    from equime.mer.train import CachedClips, batches_to_input

    classes = list(config["classes"])
    index = {c: i for i, c in enumerate(classes)}
    table = table.copy()
    table["true"] = [map_label(e, config["scheme"]) for e in table["emotion"]]
    table = table[table["true"].isin(classes)].reset_index(drop=True)
    if table.empty:
        return table.assign(y_true=[], y_pred=[], pred=[], confidence=[])
    cache = cache or ClipCache()
    paths = cache_clips(table, sampling, config["n_frames"], config["size"], cache, progress)
    y_true = [index[c] for c in table["true"]]
    data = CachedClips(paths, y_true, config["n_frames"])
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=False)
    model = model.to(device).eval()
    probs = []
    for gray, lengths, _ in loader:
        x = batches_to_input(gray.to(device), lengths.to(device), config["n_frames"])
        probs.append(torch.softmax(model(x), 1).cpu().numpy())
    p = np.concatenate(probs)
    table["y_true"] = y_true
    table["y_pred"] = p.argmax(1)
    table["pred"] = [classes[i] for i in table["y_pred"]]
    table["confidence"] = p.max(1)
    for i, name in enumerate(classes):
        table[f"p_{name}"] = p[:, i]
    return table
