"""Dataset bias metrics of the paper's reference [4] (Dominguez-Catena, Paternain and Galar,
"Metrics for dataset demographic bias: a case study on facial expression recognition", IEEE
TPAMI 2024), computed at run time by that paper's own package, `dataset-bias-metrics`
(PyPI; install `equime[demographics]`).

Representational (how evenly the groups of one attribute are represented): the package's
richness R, Shannon entropy H, Shannon evenness SEI = H / ln(groups present), effective number
of groups ENS = exp(H), Simpson's reciprocal 1/D, imbalance ratio IR, Berger-Parker BP and
normalised standard deviation NSD. Stereotypical (how much an attribute and the emotion label go
together): its Cramer's V (scipy's, with Yates' continuity correction on 2 x 2 tables), NMI, and
NPMI per group x emotion cell. The package's conventions hold: one group present makes SEI, NSD
and Cramer's V undefined (NaN), not "perfectly even".

One EquiME variant, labelled as such wherever it is shown: `vocabulary_evenness` divides H by
ln(size of the attribute's vocabulary), so groups that are absent count against evenness (two of
six races, equally present: SEI 1.0, vocabulary evenness 0.387).

The numpy functions below are independent implementations of the same formulas; the tests
compare them with the package on random tables, so a change of the package shows up.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd

from equime.errors import EquimeError

PACKAGE = "dataset-bias-metrics"
# our name -> the package's symbol (its `metrics` dictionaries), representational
REPRESENTATIONAL = {
    "richness": "R",
    "entropy": "H",
    "evenness": "SEI",
    "effective_groups": "ENS",
    "simpson_reciprocal": "1/D",
    "imbalance_ratio": "IR",
    "berger_parker": "BP",
    "nsd": "NSD",
}
# our name -> the package's symbol, attribute against emotion
STEREOTYPICAL = {"cramers_v": "ϕ_C", "nmi": "NMI"}


def package() -> ModuleType:
    """The reference package, or one line saying how to get it."""
    try:
        import dataset_bias_metrics
    except ImportError as exc:
        raise EquimeError(
            f"bias metrics need the '{PACKAGE}' package: pip install 'equime[demographics]' ({exc})"
        ) from exc
    return dataset_bias_metrics


def representational(values: pd.Series) -> dict[str, float]:
    """The package's representational metrics of one attribute's known values (one per row)."""
    if len(values) == 0:
        return dict.fromkeys(REPRESENTATIONAL, float("nan"))
    table = package().representational.metrics
    frame = pd.DataFrame({"group": values.astype(str).to_numpy()})
    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, symbol in REPRESENTATIONAL.items():
            out[name] = float(table[symbol](frame, "group")) + 0.0  # never print -0.000
    return out


def stereotypical(values: pd.Series, emotions: pd.Series) -> dict[str, float]:
    """The package's attribute x emotion association metrics (rows with both known)."""
    if len(values) == 0 or values.nunique() < 2 or emotions.nunique() < 2:
        return dict.fromkeys(STEREOTYPICAL, float("nan"))
    table = package().stereotypical.metrics
    frame = pd.DataFrame({"group": values.astype(str).to_numpy(), "emotion": emotions.to_numpy()})
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            name: float(table[symbol](frame, "group", "emotion")) + 0.0
            for name, symbol in STEREOTYPICAL.items()
        }


def npmi_table(values: pd.Series, emotions: pd.Series) -> pd.DataFrame:
    """The package's NPMI per group x emotion (-1 never together, 0 independent, +1 always)."""
    if len(values) == 0:
        return pd.DataFrame(dtype=float)
    frame = pd.DataFrame({"group": values.astype(str).to_numpy(), "emotion": emotions.to_numpy()})
    result = package().local_stereotypical.npmi(frame, "group", "emotion")
    result.index.name, result.columns.name = None, None
    return result.astype(float)


def vocabulary_evenness(counts: pd.Series | np.ndarray, vocabulary_size: int) -> float:
    """EquiME variant: H / ln(vocabulary size), so absent groups lower it; 0 with one group."""
    k = max(vocabulary_size, int((np.asarray(counts) > 0).sum()))
    if k < 2:
        return float("nan")
    return entropy(counts) / float(np.log(k))


# ------------------------------------------------------ independent numpy implementations


def entropy(counts: pd.Series | np.ndarray) -> float:
    """Shannon entropy in nats of a count vector (empty groups contribute nothing): H."""
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    if c.sum() == 0:
        return float("nan")
    p = c / c.sum()
    return float(-(p * np.log(p)).sum()) + 0.0


def evenness(counts: pd.Series | np.ndarray) -> float:
    """SEI: H / ln(groups present); NaN with fewer than two groups (undefined, not even)."""
    k = int((np.asarray(counts) > 0).sum())
    return entropy(counts) / float(np.log(k)) if k >= 2 else float("nan")


def effective_groups(counts: pd.Series | np.ndarray) -> float:
    """ENS = exp(H): the number of equally common groups that would give the same entropy."""
    return float(np.exp(entropy(counts)))


def cramers_v(table: pd.DataFrame | np.ndarray, correction: bool = True) -> float:
    """Cramer's V, sqrt(chi2 / (n (min(r, c) - 1))); with `correction`, Yates' continuity
    correction on tables with one degree of freedom (2 x 2), as scipy and the package do."""
    obs = np.asarray(table, dtype=float)
    obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0]
    if min(obs.shape) < 2:
        return float("nan")
    n = obs.sum()
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / n
    diff = np.abs(obs - expected)
    if correction and obs.shape == (2, 2):
        diff = np.maximum(diff - 0.5, 0.0)
    chi2 = float((diff**2 / expected).sum())
    return float(np.sqrt(chi2 / (n * (min(obs.shape) - 1))))


def npmi(table: pd.DataFrame) -> pd.DataFrame:
    """NPMI per cell, log(p(x,y) / p(x)p(y)) / -log p(x,y); -1 for an empty cell."""
    counts = table.astype(float)
    pxy = counts.to_numpy() / counts.to_numpy().sum()
    px = pxy.sum(axis=1)[:, None]
    py = pxy.sum(axis=0)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(pxy / (px * py)) / -np.log(pxy)
    value = np.where(pxy == 0, -1.0, value)
    return pd.DataFrame(value, index=table.index, columns=table.columns)
