"""Dataset bias metrics (the family of the paper's reference [4], Dominguez-Catena et al.).

Representational: how evenly the groups of one attribute are represented (Shannon entropy,
normalised by the number of groups, and the effective number of groups exp(H)). Stereotypical:
how much an attribute and the emotion label go together (Cramer's V over the whole table, NPMI per
group x emotion cell).

Written here in a few lines of numpy rather than called from `dataset-bias-metrics` (that paper's
own package, which the tests use as a cross-check): its Cramer's V applies Yates' continuity
correction, which changes 2 x 2 tables (gender x a two-emotion set) away from the textbook value a
reader will recompute, and its evenness divides by the groups present, so a dataset with one race
would score as perfectly even. Here the normaliser is the full vocabulary when one is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def entropy(counts: pd.Series | np.ndarray) -> float:
    """Shannon entropy in nats of a count vector (empty groups contribute nothing)."""
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    if c.sum() == 0:
        return float("nan")
    p = c / c.sum()
    return float(-(p * np.log(p)).sum()) + 0.0  # never print -0.000


def normalised_entropy(counts: pd.Series | np.ndarray, n_groups: int | None = None) -> float:
    """H / ln(k): 1 when all k groups are equally represented, 0 when only one is. k defaults to
    the number of entries in `counts` (pass the vocabulary size to count absent groups)."""
    k = len(np.asarray(counts)) if n_groups is None else n_groups
    if k < 2:
        return float("nan")
    return entropy(counts) / float(np.log(k))


def effective_groups(counts: pd.Series | np.ndarray) -> float:
    """exp(H): the number of equally common groups that would give the same entropy."""
    return float(np.exp(entropy(counts)))


def cramers_v(table: pd.DataFrame | np.ndarray) -> float:
    """Cramer's V of a contingency table, sqrt(chi2 / (n (min(r, c) - 1))), no continuity
    correction; NaN when either side has a single category."""
    obs = np.asarray(table, dtype=float)
    obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0]
    if min(obs.shape) < 2:
        return float("nan")
    n = obs.sum()
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / n
    chi2 = float(((obs - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / (n * (min(obs.shape) - 1))))


def npmi(table: pd.DataFrame) -> pd.DataFrame:
    """Normalised pointwise mutual information per cell, log(p(x,y) / p(x)p(y)) / -log p(x,y):
    +1 the group only ever shows that emotion, 0 independent, -1 never together."""
    counts = table.astype(float)
    n = counts.to_numpy().sum()
    pxy = counts / n
    px = pxy.sum(axis=1).to_numpy()[:, None]
    py = pxy.sum(axis=0).to_numpy()[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(pxy.to_numpy() / (px * py)) / -np.log(pxy.to_numpy())
    value = np.where(pxy.to_numpy() == 0, -1.0, value)
    value = np.where(pxy.to_numpy() == 1, 1.0, value)  # one cell holds everything
    return pd.DataFrame(value, index=table.index, columns=table.columns)
