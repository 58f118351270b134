"""Where source photos come from: a folder, a CSV list, a CelebA-HQ folder, or the demo photos.

Each kind yields SourceImage records with a stable id (slug + hash prefix) and any known demographic
attributes with where each came from, so later reports can tell known labels from estimates.
"""

from __future__ import annotations

import contextlib
import csv
import inspect
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from equime.errors import EquimeError
from equime.faces.images import file_sha256

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
CSV_ATTRIBUTES = ("gender", "race", "age")
CELEBA_ATTRIBUTE_FILE = "CelebAMask-HQ-attribute-anno.txt"
CELEBA_IMAGE_DIR = "CelebA-HQ-img"
CELEBA_LICENCE = "CelebA / CelebA-HQ: non-commercial research use only (CelebA dataset agreement)"
_SLUG_MAX = 24


@dataclass(frozen=True)
class SourceImage:
    """One source photo: where it is, its stable id, and what is known about the person in it."""

    path: Path
    face_id: str
    sha256: str
    attributes: dict[str, str] = field(default_factory=dict)
    licence: str = ""
    # what the card and metadata show: the path relative to the input root (never the user's
    # home folder); set by find_sources, the file name when the photo lies outside that root
    recorded_path: str = ""

    @property
    def shown_path(self) -> str:
        return self.recorded_path or self.path.name


def slugify(text: str) -> str:
    """ASCII [a-z0-9-] slug of at most 24 characters, "face" when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:_SLUG_MAX].strip("-") or "face"


def source_image(
    path: str | Path, attributes: dict[str, str] | None = None, licence: str = ""
) -> SourceImage:
    """Hash a file and build its SourceImage; the id depends only on the file name and bytes."""
    path = Path(path)
    digest = file_sha256(path)
    return SourceImage(
        path=path,
        face_id=f"{slugify(path.stem)}-{digest[:8]}",
        sha256=digest,
        attributes=dict(attributes or {}),
        licence=licence,
    )


def folder(path: str | Path) -> list[SourceImage]:
    """Every .jpg/.jpeg/.png/.webp under a folder (recursive, hidden skipped), stably sorted."""
    root = Path(path)
    if root.is_file():
        return [source_image(root)]
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            file = Path(dirpath) / name
            key = unicodedata.normalize("NFC", file.relative_to(root).as_posix())
            found.append((key, file))
    found.sort(key=lambda item: item[0])
    return [source_image(file) for _, file in found]


def csv_list(path: str | Path) -> list[SourceImage]:
    """Photos in a CSV `path` column (relative to the CSV), optional gender/race/age columns."""
    csv_path = Path(path)
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
        if "path" not in columns:
            found = ", ".join(repr(c) for c in reader.fieldnames or []) or "none"
            raise EquimeError(f"{csv_path}: no 'path' column (columns found: {found})")
        rows = list(reader)
    origin = f"csv:{csv_path.name}"
    images: list[SourceImage] = []
    missing: list[str] = []
    for line, row in enumerate(rows, start=2):
        listed = (row.get(columns["path"]) or "").strip()
        if not listed:
            log.warning("%s line %d: empty path, skipped", csv_path, line)
            continue
        file = Path(listed).expanduser()
        if not file.is_absolute():
            file = csv_path.parent / file
        if not file.is_file():
            missing.append(f"line {line}: {listed}")
            continue
        attributes: dict[str, str] = {}
        for attr in CSV_ATTRIBUTES:
            value = (row.get(columns[attr]) or "").strip() if attr in columns else ""
            if value:
                attributes[attr] = value
                attributes[f"{attr}_source"] = origin
                for extra in (f"{attr}_source", f"{attr}_confidence"):  # from `equime annotate`
                    given = (row.get(columns.get(extra, ""), "") or "").strip()
                    if given:
                        attributes[extra] = given
        images.append(source_image(file, attributes))
    if missing:
        shown = "; ".join(missing[:3]) + ("; ..." if len(missing) > 3 else "")
        raise EquimeError(f"{csv_path}: {len(missing)} listed file(s) not found ({shown})")
    return images


def celeba(path: str | Path, non_smiling: bool = False) -> list[SourceImage]:
    """A CelebA-HQ / CelebAMask-HQ folder; gender from `Male`; optionally non-smiling faces only."""
    root = Path(path)
    anno = root / CELEBA_ATTRIBUTE_FILE
    if not anno.is_file():
        raise EquimeError(f"{root}: CelebA attribute file not found (expected {anno})")
    image_dir = root / CELEBA_IMAGE_DIR if (root / CELEBA_IMAGE_DIR).is_dir() else root
    lines = anno.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise EquimeError(f"{anno}: expected a count line and an attribute-name line")
    names = lines[1].split()
    for needed in ("Male", "Smiling"):
        if needed not in names:
            raise EquimeError(f"{anno}: no '{needed}' attribute in line 2")
    male, smiling = names.index("Male"), names.index("Smiling")
    images: list[SourceImage] = []
    absent = 0
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names) + 1:
            raise EquimeError(
                f"{anno} line {number}: {len(fields) - 1} values for {len(names)} attributes"
            )
        values = fields[1:]
        if non_smiling and values[smiling] != "-1":
            continue
        file = image_dir / fields[0]
        if not file.is_file():
            absent += 1
            continue
        gender = {"1": "Man", "-1": "Woman"}.get(values[male])
        attributes = {"gender": gender, "gender_source": "celeba:Male"} if gender else {}
        images.append(source_image(file, attributes, licence=CELEBA_LICENCE))
    if absent:
        log.info("%s: %d listed image(s) not in %s, skipped", anno, absent, image_dir)
    return images


def demo_sources() -> list[SourceImage]:
    """The two public-domain demo photos shipped in scikit-image and matplotlib, used in place."""
    spec_text = (resources.files("equime") / "data" / "demo_faces.json").read_text(encoding="utf-8")
    images: list[SourceImage] = []
    for entry in json.loads(spec_text)["faces"]:
        spec = find_spec(entry["package"])
        if spec is None or spec.origin is None:
            package = entry["package"]
            raise EquimeError(f"demo photo {entry['name']}: package {package} not installed")
        file = Path(spec.origin).parent / entry["file"]
        if not file.is_file():
            raise EquimeError(f"demo photo {entry['name']}: {file} not found")
        attributes = dict(entry["attributes"])
        for attr in entry["attributes"]:
            attributes[f"{attr}_source"] = entry["attribute_source"]
        images.append(source_image(file, attributes, licence=entry["licence"]))
    return images


def demo() -> list[SourceImage]:
    """Registry entry for the demo photos (takes no path)."""
    return demo_sources()


SOURCES: dict[str, Callable[..., list[SourceImage]]] = {
    "folder": folder,
    "csv": csv_list,
    "celeba": celeba,
    "demo": demo,
}


def resolve_sources(kind: str, path: str | None, **options: Any) -> list[SourceImage]:
    """The images of a source without duplicates (see find_sources for what was left out)."""
    return find_sources(kind, path, **options)[0]


Duplicate = tuple[SourceImage, SourceImage]  # (left out, the earlier photo with the same bytes)


def find_sources(
    kind: str, path: str | None, **options: Any
) -> tuple[list[SourceImage], list[Duplicate]]:
    """Look up a source kind, check its path and options; its images (paths recorded relative to
    the input root) and the byte-identical duplicates left out."""
    if kind not in SOURCES:
        raise EquimeError(f"unknown source kind {kind!r} (known: {', '.join(sorted(SOURCES))})")
    loader = SOURCES[kind]
    params = inspect.signature(loader).parameters
    takes_path = bool(params) and next(iter(params)) == "path"
    for name in options:
        if name not in params or name == "path":
            raise EquimeError(f"source {kind!r} has no option {name!r}")
    if takes_path:
        if not path:
            raise EquimeError(f"source {kind!r} needs a path")
        if not Path(path).exists():
            raise EquimeError(f"{path}: no such file or folder")
        images = loader(path, **options)
    else:
        if path:
            raise EquimeError(f"source {kind!r} takes no path (got {path})")
        images = loader(**options)
    root = Path(path) if path else None
    if root is not None and not root.is_dir():
        root = root.parent  # a CSV list or a single photo: paths relative to its folder
    return split_duplicates([_recorded(image, root) for image in images])


def _recorded(image: SourceImage, root: Path | None) -> SourceImage:
    shown = image.path.name
    if root is not None:
        # outside the input root (a CSV line pointing elsewhere): the name; the hash identifies it
        with contextlib.suppress(ValueError):
            shown = image.path.resolve().relative_to(root.resolve()).as_posix()
    return replace(image, recorded_path=shown)


def split_duplicates(images: list[SourceImage]) -> tuple[list[SourceImage], list[Duplicate]]:
    """Keep the first of several byte-identical photos, so one person is not counted twice."""
    first: dict[str, SourceImage] = {}
    kept: list[SourceImage] = []
    duplicates: list[Duplicate] = []
    for image in images:
        if image.sha256 in first:
            duplicates.append((image, first[image.sha256]))
            continue
        first[image.sha256] = image
        kept.append(image)
    return kept, duplicates
