"""Real detection with the real landmarker: crops, landmark transform, every rejection reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
import skimage.data
from PIL import Image

from equime.errors import EquimeError, InputRejected
from equime.faces.images import load_rgb
from equime.faces.landmarker import Detection, Landmarker
from equime.faces.prepare import (
    SHIFT_TOLERANCE,
    crop_square,
    fit_crop,
    prepare_face,
    square_box,
)
from equime.faces.sources import SourceImage, source_image
from equime.quality.edges import edge_run

# MediaPipe Face Mesh indices: outer eye corners and inner lips.
EYES = (33, 263)
MOUTH = (13, 14)


@pytest.fixture(scope="module")
def landmarker() -> Iterator[Landmarker]:
    with Landmarker() as lm:
        yield lm


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


def _save(rgb: np.ndarray, path: Path, **kwargs: object) -> SourceImage:
    Image.fromarray(rgb).save(path, **kwargs)
    return source_image(path)


def _eyes_above_mouth(landmarks: np.ndarray) -> bool:
    eyes_y = landmarks[list(EYES), 1].mean()
    mouth_y = landmarks[list(MOUTH), 1].mean()
    eye_dx, eye_dy = np.abs(landmarks[EYES[0]] - landmarks[EYES[1]])
    return bool(eyes_y + 20 < mouth_y and eye_dx > 2 * eye_dy)


def test_detection_fields(landmarker: Landmarker, astronaut: np.ndarray) -> None:
    (face,) = landmarker.detect(astronaut)
    assert isinstance(face, Detection)
    assert face.landmarks.shape == (478, 2) and face.landmarks.dtype == np.float32
    assert face.depth.shape == (478,) and face.depth.dtype == np.float32
    assert len(face.blendshapes) == 52 and "jawOpen" in face.blendshapes
    assert all(0.0 <= v <= 1.0 for v in face.blendshapes.values())
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
    assert face.size == pytest.approx(max(x1 - x0, y1 - y0))
    assert 80 < face.size < 140  # the astronaut's face is about 105 px wide/tall
    assert _eyes_above_mouth(face.landmarks)


def test_detect_rejects_wrong_arrays(landmarker: Landmarker) -> None:
    with pytest.raises(ValueError):
        landmarker.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError):
        landmarker.detect(np.zeros((64, 64, 3), np.float32))


def test_close_is_idempotent_and_final(astronaut: np.ndarray) -> None:
    lm = Landmarker()
    assert len(lm.detect(astronaut)) == 1
    lm.close()
    lm.close()
    assert lm.closed
    with pytest.raises(RuntimeError, match="closed"):
        lm.detect(astronaut)
    with Landmarker() as other:
        pass
    assert other.closed


def test_unloadable_model_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "not a model.task"
    bad.write_text("garbage")
    with pytest.raises(EquimeError, match="cannot load the face landmarker model") as info:
        Landmarker(model_path=bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_startup_noise_is_silenced(
    capfd: pytest.CaptureFixture[str], astronaut: np.ndarray
) -> None:
    with Landmarker() as lm:
        lm.detect(astronaut)
    err = capfd.readouterr().err
    assert "W0000" not in err and "XNNPACK" not in err


def test_demo_photo_prepared(landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray) -> None:
    src = _save(astronaut, tmp_path / "astronaut.png")
    face = prepare_face(src, landmarker, size=256)
    assert face.face_id == src.face_id and face.source_sha256 == src.sha256
    assert face.source_path == src.shown_path == src.path.name  # never the user's folders
    assert face.image.shape == (256, 256, 3) and face.image.dtype == np.uint8
    assert face.landmarks.shape == (478, 2) and face.landmarks.dtype == np.float32
    assert face.notes == ()
    # the face fills the middle 1/1.6 of the crop: margin 0.6 around the landmarks' box
    lo, hi = face.landmarks.min(axis=0), face.landmarks.max(axis=0)
    assert max(hi - lo) == pytest.approx(256 / 1.6, abs=2)
    assert np.allclose((lo + hi) / 2, 128, atol=2)


@pytest.mark.parametrize("size", [256, 512])
def test_landmarks_follow_the_crop(
    landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray, size: int
) -> None:
    """Detecting again on the crop finds the transformed landmarks (shrunk and enlarged crops)."""
    face = prepare_face(_save(astronaut, tmp_path / "a.png"), landmarker, size=size)
    (again,) = landmarker.detect(face.image)
    error = np.linalg.norm(again.landmarks - face.landmarks, axis=1)
    assert np.median(error) < 0.02 * size


def test_crop_transform_is_exact() -> None:
    """A marked pixel lands exactly where the transformed coordinate says, even through padding."""
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, :, 2] = np.arange(400, dtype=np.uint8)[None, :] // 2
    marks = np.array([[10.5, 5.5], [60.5, 45.5], [30.5, 20.5]], np.float32)  # pixel centres
    for x, y in marks:
        image[int(y), int(x)] = (255, 255, 0)
    left, top, side = square_box(marks, margin=1.0)
    assert left < 0 and top < 0  # the square leaves the image: padding needed
    crop, moved = crop_square(image, marks, size=side, margin=1.0)
    assert crop.shape == (side, side, 3)
    for x, y in moved:
        assert tuple(crop[int(y), int(x)]) == (255, 255, 0)
    # padded rows and columns replicate the image edge
    assert np.array_equal(crop[0], crop[-top])
    assert np.array_equal(crop[:, 0], crop[:, -left])
    # scaling is a plain multiple of the same transform
    _, doubled = crop_square(image, marks, size=2 * side, margin=1.0)
    assert np.allclose(doubled, moved * 2, atol=1e-4)


def test_face_at_the_edge_stays_inside_the_photo(
    landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray
) -> None:
    """Near the corner the square moves (and shrinks) inside the photo: no stretched edge, the face
    within the documented framing tolerance, what was done in the notes."""
    corner = np.ascontiguousarray(astronaut[60:, 160:])  # face near the top-left corner
    face = prepare_face(_save(corner, tmp_path / "corner.png"), landmarker, size=256)
    assert face.image.shape == (256, 256, 3)
    assert _eyes_above_mouth(face.landmarks)
    centre = (face.landmarks.min(0) + face.landmarks.max(0)) / 2
    assert np.abs(centre - 128).max() <= SHIFT_TOLERANCE * 256 + 1
    assert edge_run(face.image) < 6
    assert face.notes[-1].startswith("crop moved") and "inside the photo" in face.notes[-1]


def test_no_room_to_move_is_filled_by_reflection(astronaut: np.ndarray) -> None:
    """A strip too narrow for the square: the outside is reflected, never stretched."""
    strip = np.ascontiguousarray(astronaut[20:250, 170:290])  # narrower than face + margin
    marks = np.array([[200, 80], [250, 90], [225, 180], [180, 120], [262, 120]], np.float32)
    marks -= np.float32((170, 20))
    crop, moved, how = fit_crop(strip, marks, size=256, margin=0.6)
    assert how.startswith("crop filled by reflection")
    assert edge_run(crop) < 6
    old, _ = crop_square(strip, marks, size=256, margin=0.6)
    assert edge_run(old) >= 6  # the replicated square of before: a stretched bar
    # the photo's own pixels are where the landmark transform says
    assert np.allclose(moved, crop_square(strip, marks, 256, 0.6)[1])


def test_face_cut_by_the_edge_is_refused(astronaut: np.ndarray) -> None:
    marks = np.array([[-30, 40], [60, 40], [10, 150]], np.float32)  # a third of it off the photo
    with pytest.raises(InputRejected, match="face cut by the photo's edge"):
        fit_crop(astronaut, marks, size=256, margin=0.6)


@pytest.mark.parametrize("variant", ["gray", "cmyk", "deep", "rgba", "exif"])
def test_face_found_in_every_format(
    landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray, variant: str
) -> None:
    path = tmp_path / f"{variant} photo.png"
    img = Image.fromarray(astronaut)
    if variant == "gray":
        img.convert("L").save(path)
    elif variant == "cmyk":
        path = path.with_suffix(".jpg")
        img.convert("CMYK").save(path, quality=92)
    elif variant == "deep":
        Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257).save(path)
    elif variant == "rgba":
        Image.fromarray(np.dstack([astronaut, np.full((512, 512), 200, np.uint8)])).save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = 8  # "rotate 90 degrees counter-clockwise to display"
        path = path.with_suffix(".jpg")
        img.transpose(Image.Transpose.ROTATE_270).save(path, quality=92, exif=exif)
        (raw,) = landmarker.detect(np.asarray(Image.open(path).convert("RGB")))
        assert not _eyes_above_mouth(raw.landmarks)  # sideways as stored
    face = prepare_face(source_image(path), landmarker, size=128)
    assert face.image.shape == (128, 128, 3)
    assert _eyes_above_mouth(face.landmarks)


def test_no_face_is_rejected(landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray) -> None:
    background = np.ascontiguousarray(astronaut[300:, 300:])  # suit and backdrop only
    src = _save(background, tmp_path / "backdrop.png")
    with pytest.raises(InputRejected) as info:
        prepare_face(src, landmarker)
    assert info.value.reason == "no face found" and info.value.path == str(src.path)


def test_unreadable_file_is_rejected(landmarker: Landmarker, tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: eggs, milk\n")
    with pytest.raises(InputRejected, match="not a readable image"):
        prepare_face(source_image(path), landmarker)


def test_largest_of_several_faces_is_used(
    landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray
) -> None:
    big = cv2.resize(astronaut, (600, 600), interpolation=cv2.INTER_CUBIC)  # face ~126 px
    hopper = load_rgb(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
    small = cv2.resize(hopper, (280, 328), interpolation=cv2.INTER_AREA)  # face ~112 px
    canvas = np.full((600, 880, 3), 230, np.uint8)
    canvas[:, :600] = big
    canvas[60:388, 600:] = small
    alone = prepare_face(_save(big, tmp_path / "alone.png"), landmarker)
    both = prepare_face(_save(canvas, tmp_path / "two people.png"), landmarker)
    assert both.notes == ("2 faces found; used the largest",)
    error = np.linalg.norm(both.landmarks - alone.landmarks, axis=1)
    assert np.median(error) < 3  # it is the astronaut, not Grace Hopper


def test_small_face_is_rejected(
    landmarker: Landmarker, tmp_path: Path, astronaut: np.ndarray
) -> None:
    canvas = np.full((400, 400, 3), 200, np.uint8)
    canvas[:256, :256] = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    src = _save(canvas, tmp_path / "far away.png")
    assert landmarker.detect(canvas)  # found, but small
    with pytest.raises(InputRejected, match=r"face is \d+px, below the minimum of 64px"):
        prepare_face(src, landmarker)
    with pytest.raises(InputRejected, match="below the minimum of 200px"):
        prepare_face(_save(astronaut, tmp_path / "a.png"), landmarker, min_face=200)
