"""What the page may touch: files under the chosen roots only, images checked by content.

Everything that arrives from a browser (a file name, a folder choice, a zip member) is untrusted:
names are sanitised, every path is resolved and checked against the roots, images are decoded
before they are used, and sizes are capped, so a page cannot read or write elsewhere.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from equime.errors import EquimeError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000
MAX_ZIP_FILES = 2000
MAX_ZIP_BYTES = 1024 * 1024 * 1024  # uncompressed total
_NAME_MAX = 80


@dataclass(frozen=True)
class Roots:
    """The folders the page may use: `work` (read/write) and any extra read-only photo folders."""

    work: Path
    photos: tuple[Path, ...] = ()

    @property
    def datasets(self) -> Path:
        return self.work / "datasets"

    @property
    def uploads(self) -> Path:
        return self.work / "uploads"

    @property
    def previews(self) -> Path:
        return self.work / "previews"

    @property
    def jobs(self) -> Path:
        return self.work / "jobs"

    @property
    def readable(self) -> tuple[Path, ...]:
        return (self.work.resolve(), *(p.resolve() for p in self.photos))

    def make(self) -> Roots:
        for folder in (self.datasets, self.uploads, self.previews, self.jobs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def safe_name(name: str, default: str = "file") -> str:
    """A file or folder name reduced to [A-Za-z0-9._-], no leading dots, at most 80 characters."""
    base = unicodedata.normalize("NFKD", Path(str(name).replace("\\", "/")).name)
    base = base.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-")
    return text[:_NAME_MAX].strip("._-") or default


def inside(path: str | Path, roots: tuple[Path, ...] | list[Path]) -> Path:
    """The resolved path, if it lies under one of the roots (symlinks followed); else an error."""
    resolved = Path(path).resolve()
    for root in roots:
        if resolved == root.resolve() or resolved.is_relative_to(root.resolve()):
            return resolved
    raise EquimeError(f"{Path(path).name}: outside the folders this page may use")


def check_image(path: str | Path, shown_name: str | None = None) -> Path:
    """Accept a file only if it decodes as an image within the size limits; one-line errors."""
    p = Path(path)
    name = shown_name or p.name
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        raise EquimeError(f"{name}: only photos can be used ({', '.join(IMAGE_SUFFIXES)})")
    size = p.stat().st_size if p.is_file() else 0
    if size == 0:
        raise EquimeError(f"{name}: the file is empty or missing")
    if size > MAX_IMAGE_BYTES:
        raise EquimeError(f"{name}: the photo is larger than {MAX_IMAGE_BYTES // 2**20} MB")
    try:
        with Image.open(p) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise EquimeError(f"{name}: the photo has too many pixels")
            img.verify()
    except EquimeError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise EquimeError(
            f"{name}: this file is not a photo (it could not be read as an image)"
        ) from None
    return p


def store_upload(upload: str | Path, folder: Path, shown_name: str | None = None) -> Path:
    """Copy an uploaded image into `folder` under a sanitised name, after checking its content."""
    src = Path(upload)
    name = safe_name(shown_name or src.name, "photo.jpg")
    check_image(src, name)
    folder.mkdir(parents=True, exist_ok=True)
    dest = inside(folder / name, [folder])
    shutil.copyfile(src, dest)
    return dest


def extract_photos(archive: str | Path, dest: Path) -> tuple[list[Path], list[str]]:
    """Unpack only the photos of a zip into `dest` (flat, sanitised names); say what was skipped.

    Members are never joined to `dest` as given (no zip-slip): each gets a fresh safe name, is
    size-checked before reading, and is kept only if its bytes decode as an image.
    """
    dest.mkdir(parents=True, exist_ok=True)
    kept: list[Path] = []
    skipped: list[str] = []
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise EquimeError(f"{Path(archive).name}: not a zip file") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise EquimeError(f"zip: more than {MAX_ZIP_FILES} files")
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise EquimeError(f"zip: more than {MAX_ZIP_BYTES // 2**20} MB once unpacked")
        used: set[str] = set()
        for member in members:
            raw = member.filename
            stem = safe_name(raw)
            if Path(raw).name.startswith(".") or "__MACOSX" in raw:
                continue
            if Path(stem).suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append(f"{raw}: not a photo")
                continue
            if member.file_size > MAX_IMAGE_BYTES:
                skipped.append(f"{raw}: larger than {MAX_IMAGE_BYTES // 2**20} MB")
                continue
            name, n = stem, 1
            while name.lower() in used:
                n += 1
                name = f"{Path(stem).stem}_{n}{Path(stem).suffix}"
            used.add(name.lower())
            target = inside(dest / name, [dest])
            with zf.open(member) as fh:
                target.write_bytes(fh.read(MAX_IMAGE_BYTES + 1))
            try:
                check_image(target, raw)
            except EquimeError as exc:
                target.unlink()
                skipped.append(str(exc))
                continue
            kept.append(target)
    if not kept:
        raise EquimeError(f"{Path(archive).name}: no photos found in the zip")
    return kept, skipped
