"""Stratified, deterministic balancing: which rows (videos) or faces fill each group cell.

Used by `equime balance` (a subset of an existing dataset, written as a new split) and by
`equime generate --balance-by` (which source faces to use). A cell is one combination of values of
the `by` columns; rows with an unknown value in any of them cannot be placed and are left out
(counted). A cell with fewer rows than its target is filled as far as it goes and named: the
shortfall is not moved to other cells, because that would undo the balance being asked for.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from equime.attributes.labels import is_missing
from equime.errors import EquimeError
from equime.facs.scm import derive_seed

# Names people use for the columns the metadata calls otherwise.
ALIASES = {"emotion": "label", "age": "age_group"}
TARGET_KINDS = ("uniform", "proportional")
COUNT_COLUMNS = ("count", "target", "n")
SHARE_COLUMNS = ("share", "weight", "proportion", "fraction")


@dataclass
class BalanceResult:
    selected: pd.DataFrame  # the chosen rows, sorted by their key
    cells: pd.DataFrame  # by columns..., available, target, achieved, status
    left_out_unknown: int  # rows with an unknown value in a `by` column

    @property
    def unfillable(self) -> list[str]:
        short = self.cells[self.cells["achieved"] < self.cells["target"]]
        return [cell_name(row, self.by) for _, row in short.iterrows()]

    @property
    def by(self) -> list[str]:
        return [
            c for c in self.cells.columns if c not in ("available", "target", "achieved", "status")
        ]


def cell_name(row: pd.Series, by: list[str]) -> str:
    return " x ".join(f"{col}={row[col]}" for col in by)


def resolve_columns(frame: pd.DataFrame, by: list[str]) -> list[str]:
    """`emotion` -> `label`, `age` -> `age_group` where the table has no such column itself."""
    cols = []
    for name in by:
        col = name if name in frame.columns else ALIASES.get(name, name)
        if col not in frame.columns:
            raise EquimeError(f"--by {name}: no such column (have: {', '.join(frame.columns)})")
        cols.append(col)
    if len(set(cols)) != len(cols):
        raise EquimeError(f"--by {','.join(by)}: a column is named twice")
    return cols


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to `total`, proportional to `weights` (ties to the earlier cell)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=int)
    exact = weights / weights.sum() * total
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def _read_target_file(path: Path, by: list[str], size: int | None) -> pd.DataFrame:
    """A CSV with the `by` columns and a count (absolute) or share (scaled to --size) column."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise EquimeError(f"{path}: cannot read target table ({exc})") from None
    table = table.rename(columns={k: v for k, v in ALIASES.items() if v in by and k in table})
    missing = [c for c in by if c not in table.columns]
    if missing:
        raise EquimeError(f"{path}: missing column(s) {', '.join(missing)}")
    count_col = next((c for c in COUNT_COLUMNS if c in table.columns), None)
    share_col = next((c for c in SHARE_COLUMNS if c in table.columns), None)
    if count_col is None and share_col is None:
        names = ", ".join((*COUNT_COLUMNS, *SHARE_COLUMNS))
        raise EquimeError(f"{path}: no count or share column (one of {names})")
    col = count_col or share_col
    values = pd.to_numeric(table[col], errors="coerce")
    bad = [f"line {i + 2}" for i in np.flatnonzero(values.isna() | (values < 0))]
    if bad:
        raise EquimeError(f"{path}: {col} must be a number >= 0 ({'; '.join(bad[:5])})")
    dup = table.duplicated(by, keep=False)
    if dup.any():
        lines = ", ".join(f"line {i + 2}" for i in np.flatnonzero(dup)[:5])
        raise EquimeError(f"{path}: the same cell is listed twice ({lines})")
    if count_col is not None:
        if (values != values.round()).any():
            raise EquimeError(f"{path}: {col} must be whole numbers")
        targets = values.astype(int).to_numpy()
    else:
        if size is None:
            raise EquimeError(f"{path}: a {col} column needs --size")
        targets = largest_remainder(values.to_numpy(), size)
    return table[by].assign(target=targets)


def cell_targets(
    counts: pd.DataFrame, by: list[str], target: str, size: int | None
) -> pd.DataFrame:
    """Every cell (the product of each column's known values, plus any a file names) with its
    available count and target."""
    levels = [sorted(counts[c].unique()) for c in by]
    cells = pd.DataFrame(list(itertools.product(*levels)), columns=by)
    cells = cells.merge(counts, on=by, how="left").fillna({"available": 0})
    cells["available"] = cells["available"].astype(int)
    total = int(cells["available"].sum())
    if target == "uniform":
        if size is None:  # the largest equal share that every non-empty cell can give
            cells["target"] = int(cells.loc[cells["available"] > 0, "available"].min())
            return cells.sort_values(by, kind="stable").reset_index(drop=True)
        base, extra = divmod(size, len(cells))
        if extra:
            raise EquimeError(
                f"--size {size} does not split evenly over {len(cells)} cells; "
                f"use a multiple of {len(cells)} "
                f"(e.g. {size - extra} or {size - extra + len(cells)})"
            )
        cells["target"] = base
    elif target == "proportional":
        size = total if size is None else size
        if size > total:
            raise EquimeError(f"--size {size} is more than the {total} rows that can be placed")
        cells["target"] = largest_remainder(cells["available"].to_numpy(), size)
    else:
        path = Path(target)
        if not path.is_file():
            raise EquimeError(f"--target {target}: not uniform, proportional, or a CSV file")
        wanted = _read_target_file(path, by, size)
        cells = cells.astype({c: str for c in by}).merge(wanted, on=by, how="outer")
        cells["available"] = cells["available"].fillna(0).astype(int)
        cells["target"] = cells["target"].fillna(0).astype(int)
    return cells.sort_values(by, kind="stable").reset_index(drop=True)


def balance(
    frame: pd.DataFrame,
    by: list[str],
    target: str = "uniform",
    size: int | None = None,
    seed: int = 0,
    key: str = "id",
) -> BalanceResult:
    """Choose rows so each cell of `by` meets its target; same inputs and seed -> same rows."""
    if size is not None and size < 1:
        raise EquimeError(f"--size {size} must be at least 1")
    cols = resolve_columns(frame, by)
    if key not in frame.columns:
        raise EquimeError(f"the table has no {key!r} column")
    known = ~frame[cols].map(is_missing).any(axis=1)
    usable = frame[known].astype({c: str for c in cols}).sort_values(key, kind="stable")
    if usable.empty:
        raise EquimeError(f"no row has known {', '.join(cols)}; annotate the dataset first")
    counts = usable.groupby(cols).size().rename("available").reset_index()
    cells = cell_targets(counts, cols, target, size)
    chosen = []
    groups = {(k if isinstance(k, tuple) else (k,)): g for k, g in usable.groupby(cols, sort=True)}
    achieved = []
    for _, cell in cells.iterrows():
        values = tuple(cell[c] for c in cols)
        rows = groups.get(values)
        want = int(cell["target"])
        if rows is None or want == 0:
            achieved.append(0)
            continue
        rng = np.random.default_rng(derive_seed(seed, "balance", *values))
        take = min(want, len(rows))
        picks = np.sort(rng.choice(len(rows), size=take, replace=False))
        chosen.append(rows.iloc[picks])
        achieved.append(take)
    cells["achieved"] = achieved
    cells["status"] = np.where(cells["achieved"] >= cells["target"], "filled", "short")
    selected = pd.concat(chosen) if chosen else usable.iloc[:0]
    selected = selected.sort_values(key, kind="stable").reset_index(drop=True)
    cells = cells.rename(columns=dict(zip(cols, by, strict=True)))
    return BalanceResult(selected, cells, int((~known).sum()))


# ---------------------------------------------------------------------------- choosing source faces

FACE_ATTRIBUTES = ("gender", "race", "age_group")


@dataclass
class FaceSelection:
    """Which source faces `generate --balance-by` uses, and how each group fared."""

    chosen: list  # the chosen sources, in their original order
    groups: pd.DataFrame  # by..., available, target, chosen, status
    left_out_unknown: int

    @property
    def short(self) -> pd.DataFrame:
        return self.groups[self.groups["status"] == "short"]

    def notes(self, emotions: int, per_face: int) -> list[str]:
        """One line per shortfall, in videos per emotion x group cell, for the run report."""
        by = [c for c in self.groups.columns if c in FACE_ATTRIBUTES]
        target = int(self.groups["target"].max()) * per_face
        lines = [
            f"balance by {', '.join(by)}: {len(self.chosen)} faces, {target} videos per "
            f"emotion x group cell ({emotions} emotions x {len(self.groups)} groups)"
        ]
        for _, row in self.short.iterrows():
            lines.append(
                f"  short: {cell_name(row, by)}: {int(row['chosen']) * per_face} of {target} "
                "videos per emotion"
            )
        if self.left_out_unknown:
            lines.append(f"  {self.left_out_unknown} face(s) with unknown {', '.join(by)} not used")
        return lines


def parse_face_attributes(by: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    names = [b.strip() for b in by.split(",")] if isinstance(by, str) else list(by)
    names = [ALIASES.get(n, n) if n == "age" else n for n in names if n]
    bad = [n for n in names if n not in FACE_ATTRIBUTES]
    if bad:
        raise EquimeError(
            f"--balance-by {', '.join(bad)}: choose from gender, race, age (emotion is balanced "
            "already: every face gets every emotion)"
        )
    return tuple(dict.fromkeys(names))


def choose_faces(sources: list, by: tuple[str, ...], limit: int | None, seed: int) -> FaceSelection:
    """Equal numbers of faces per group (the product of each attribute's vocabulary), so every
    emotion x group cell gets equal counts. Target: --limit split evenly over the groups, or without
    a limit the size of the smallest group that has any face. Groups below it are named short."""
    from equime.attributes.vocabulary import AGE_GROUPS, GENDERS, RACES, age_group

    vocab = {"gender": GENDERS, "race": RACES, "age_group": AGE_GROUPS}

    def value(source: object, attr: str) -> str:
        attrs = getattr(source, "attributes", {})
        raw = age_group(attrs.get("age")) if attr == "age_group" else attrs.get(attr, "")
        return "" if is_missing(raw) else str(raw)

    groups: dict[tuple[str, ...], list[int]] = {
        key: [] for key in itertools.product(*(vocab[a] for a in by))
    }
    unknown = 0
    for index, source in enumerate(sources):
        key = tuple(value(source, a) for a in by)
        if key in groups:
            groups[key].append(index)
        else:
            unknown += 1
    sizes = [len(v) for v in groups.values()]
    if not any(sizes):
        raise EquimeError(
            f"--balance-by {','.join(by)}: no face has known {', '.join(by)}; label the photos "
            "first (equime annotate PHOTOS --with table --table FILE) and generate from that CSV"
        )
    if limit is not None:
        target = limit // len(groups)
        if target < 1:
            raise EquimeError(
                f"--limit {limit} gives less than one face to each of {len(groups)} groups"
            )
    else:
        target = min(s for s in sizes if s)
    picked: list[int] = []
    rows = []
    for key, members in groups.items():
        rng = np.random.default_rng(derive_seed(seed, "balance-faces", *key))
        take = min(target, len(members))
        picked += [members[i] for i in np.sort(rng.choice(len(members), take, replace=False))]
        status = "filled" if take >= target else "short"
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "available": len(members),
                "target": target,
                "chosen": take,
                "status": status,
            }
        )
    chosen = [sources[i] for i in sorted(picked)]
    return FaceSelection(chosen, pd.DataFrame(rows), unknown)
