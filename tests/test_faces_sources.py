"""Source kinds find the right files, in a stable order, with stable ids and attributed labels."""

from __future__ import annotations

import re
import shutil
import site
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from equime.errors import EquimeError
from equime.faces.images import file_sha256
from equime.faces.sources import (
    SOURCES,
    SourceImage,
    celeba,
    csv_list,
    demo_sources,
    find_sources,
    folder,
    resolve_sources,
    slugify,
    source_image,
)

ID_PATTERN = re.compile(r"^[a-z0-9-]{1,24}-[0-9a-f]{8}$")
CELEBA_NAMES = [
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
]


def _photo(path: Path, shade: int) -> Path:
    """A small distinct image (different bytes per shade)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = skimage.data.astronaut()[::8, ::8].copy()
    img[0, 0] = shade
    Image.fromarray(img).save(path)
    return path


def test_slugify() -> None:
    assert slugify("Fotos ç 表情 Ünïcode") == "fotos-c-unicode"
    assert slugify("表情") == "face"
    assert slugify("IMG_0042 (copy)") == "img-0042-copy"
    long = slugify("a-very-long-file-name-from-a-phone-camera-2024")
    assert len(long) <= 24 and not long.endswith("-")


def test_face_id_is_stable_and_depends_on_name_and_bytes(tmp_path: Path) -> None:
    first = source_image(_photo(tmp_path / "one" / "Portrait Ä.png", 1))
    assert ID_PATTERN.match(first.face_id)
    assert first.face_id == f"portrait-a-{first.sha256[:8]}"
    assert first.sha256 == file_sha256(first.path)
    copy = tmp_path / "two" / "Portrait Ä.png"
    copy.parent.mkdir()
    shutil.copy(first.path, copy)
    assert source_image(copy).face_id == first.face_id  # same on any machine or folder
    other = source_image(_photo(tmp_path / "three" / "Portrait Ä.png", 2))
    assert other.face_id != first.face_id


def test_folder_recursive_unicode_sorted_filtered(tmp_path: Path) -> None:
    root = tmp_path / "fotos ç 表情"
    _photo(root / "b.JPG", 1)
    _photo(root / "a one.png", 2)
    _photo(root / "sub dir" / "c.webp", 3)
    _photo(root / "sub dir" / "deeper" / "d.Jpeg", 4)
    _photo(root / ".hidden" / "e.png", 5)
    _photo(root / ".f.png", 6)
    (root / "notes.txt").write_text("not a photo")
    (root / "broken.jpg").write_text("not a photo either")
    images = folder(root)
    names = [img.path.relative_to(root).as_posix() for img in images]
    assert names == ["a one.png", "b.JPG", "broken.jpg", "sub dir/c.webp", "sub dir/deeper/d.Jpeg"]
    assert all(ID_PATTERN.match(img.face_id) for img in images)
    assert all(img.attributes == {} for img in images)
    assert [img.face_id for img in folder(root)] == [img.face_id for img in images]


def test_duplicates_are_kept_once(tmp_path: Path) -> None:
    root = tmp_path / "dupes"
    original = _photo(root / "a.png", 1)
    shutil.copy(original, root / "z copy.png")
    _photo(root / "b.png", 2)
    images = resolve_sources("folder", str(root))
    assert [img.path.name for img in images] == ["a.png", "b.png"]
    kept, duplicates = find_sources("folder", str(root))
    assert kept == images
    assert [(dup.shown_path, orig.shown_path) for dup, orig in duplicates] == [
        ("z copy.png", "a.png")
    ]


def test_recorded_paths_are_relative_to_the_input_root(tmp_path: Path) -> None:
    root = tmp_path / "home" / "someone" / "photos"
    _photo(root / "sub" / "a.png", 1)
    elsewhere = _photo(tmp_path / "elsewhere" / "b.png", 2)
    (root / "list.csv").write_text(f"path\nsub/a.png\n{elsewhere}\n")
    assert [i.shown_path for i in resolve_sources("folder", str(root))] == ["sub/a.png"]
    listed = resolve_sources("csv", str(root / "list.csv"))
    assert [i.shown_path for i in listed] == ["sub/a.png", "b.png"]  # outside the root: the name


def test_csv_list(tmp_path: Path) -> None:
    _photo(tmp_path / "imgs" / "x.png", 1)
    absolute = _photo(tmp_path / "elsewhere" / "y.png", 2)
    lst = tmp_path / "imgs" / "people.csv"
    lst.write_text(
        f"\ufeffPath,Gender,race,age,notes\nx.png,Woman,black,31,first\n{absolute},Man,,,second\n",
        encoding="utf-8",
    )
    first, second = csv_list(lst)
    assert first.path == tmp_path / "imgs" / "x.png"
    assert first.attributes == {
        "gender": "Woman",
        "gender_source": "csv:people.csv",
        "race": "black",
        "race_source": "csv:people.csv",
        "age": "31",
        "age_source": "csv:people.csv",
    }
    assert second.path == absolute
    assert second.attributes == {"gender": "Man", "gender_source": "csv:people.csv"}


def test_csv_without_path_column_names_file_and_columns(tmp_path: Path) -> None:
    lst = tmp_path / "list.csv"
    lst.write_text("file,gender\nx.png,Woman\n")
    with pytest.raises(EquimeError) as info:
        csv_list(lst)
    message = str(info.value)
    assert str(lst) in message and "'file'" in message and "'gender'" in message


def test_csv_with_missing_files_names_them(tmp_path: Path) -> None:
    _photo(tmp_path / "x.png", 1)
    lst = tmp_path / "list.csv"
    lst.write_text("path\nx.png\ngone.png\n")
    with pytest.raises(EquimeError, match=r"line 3: gone\.png"):
        csv_list(lst)


def _celeba_folder(root: Path, subdir: str | None) -> Path:
    images = root / subdir if subdir else root
    rows = []
    # (file, Male, Smiling): a smiling woman, a non-smiling man, a non-smiling woman
    for index, (male, smiling) in enumerate([(-1, 1), (1, -1), (-1, -1)]):
        _photo(images / f"{index}.jpg", index)
        values = [-1] * len(CELEBA_NAMES)
        values[CELEBA_NAMES.index("Male")] = male
        values[CELEBA_NAMES.index("Smiling")] = smiling
        rows.append(f"{index}.jpg  " + " ".join(str(v) for v in values))
    rows.append("99.jpg  " + " ".join(["1"] * len(CELEBA_NAMES)))  # listed, not downloaded
    text = "\n".join([str(len(rows)), " ".join(CELEBA_NAMES), *rows]) + "\n"
    (root / "CelebAMask-HQ-attribute-anno.txt").write_text(text)
    return root


@pytest.mark.parametrize("subdir", ["CelebA-HQ-img", None])
def test_celeba(tmp_path: Path, subdir: str | None) -> None:
    root = _celeba_folder(tmp_path / "CelebAMask-HQ", subdir)
    images = celeba(root)
    assert [img.path.name for img in images] == ["0.jpg", "1.jpg", "2.jpg"]
    assert [img.attributes["gender"] for img in images] == ["Woman", "Man", "Woman"]
    assert all(img.attributes["gender_source"] == "celeba:Male" for img in images)
    assert all("non-commercial" in img.licence for img in images)
    calm = resolve_sources("celeba", str(root), non_smiling=True)
    assert [img.path.name for img in calm] == ["1.jpg", "2.jpg"]


def test_celeba_without_attribute_file_names_expected_path(tmp_path: Path) -> None:
    _photo(tmp_path / "CelebA-HQ-img" / "0.jpg", 0)
    with pytest.raises(EquimeError) as info:
        celeba(tmp_path)
    assert str(tmp_path / "CelebAMask-HQ-attribute-anno.txt") in str(info.value)


def test_demo_sources_are_used_in_place_with_public_labels() -> None:
    astronaut, hopper = demo_sources()
    packages = [Path(p) for p in site.getsitepackages()]
    for src in (astronaut, hopper):
        assert isinstance(src, SourceImage)
        assert src.path.is_file()
        assert any(src.path.is_relative_to(p) for p in packages)  # not copied anywhere
        assert src.sha256 == file_sha256(src.path)
        assert "public domain" in src.licence.lower()
        assert src.attributes["gender"] == "Woman"
        assert src.attributes["race"] == "white"
        assert src.attributes["gender_source"] == "public record"
        assert src.attributes["age_source"] == "public record"
    assert astronaut.path.name == "astronaut.png" and astronaut.face_id.startswith("astronaut-")
    assert hopper.path.name == "grace_hopper.jpg" and hopper.face_id.startswith("grace-hopper-")
    assert astronaut.attributes["age"] == "36" and hopper.attributes["age"] == "78"
    assert np.array_equal(np.asarray(Image.open(astronaut.path)), skimage.data.astronaut())
    demo = resolve_sources("demo", None)
    assert [(s.face_id, s.path) for s in demo] == [(s.face_id, s.path) for s in (astronaut, hopper)]
    assert [s.shown_path for s in demo] == ["astronaut.png", "grace_hopper.jpg"]


def test_resolve_sources_errors(tmp_path: Path) -> None:
    with pytest.raises(EquimeError) as info:
        resolve_sources("flickr", str(tmp_path))
    for kind in ("folder", "csv", "celeba", "demo"):
        assert kind in str(info.value)
    missing = tmp_path / "no such folder"
    with pytest.raises(EquimeError, match="no such folder"):
        resolve_sources("folder", str(missing))
    with pytest.raises(EquimeError, match="needs a path"):
        resolve_sources("folder", None)
    with pytest.raises(EquimeError, match="non_smiling"):
        resolve_sources("folder", str(tmp_path), non_smiling=True)
    assert set(SOURCES) >= {"folder", "csv", "celeba", "demo"}
