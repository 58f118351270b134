"""Shared fixtures: the real demo faces, found by the real landmarker (set-up fetches the model),
and one small generated dataset (MER learning and privacy tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from equime.faces.face import Face


@pytest.fixture(scope="session")
def demo_faces() -> list[Face]:
    """The two bundled public-domain demo photos, prepared at 256x256 (astronaut, grace_hopper)."""
    from equime.faces.landmarker import Landmarker
    from equime.faces.prepare import prepare_face
    from equime.faces.sources import demo_sources

    with Landmarker() as landmarker:
        return [prepare_face(src, landmarker, size=256) for src in demo_sources()]


@pytest.fixture(scope="session")
def variant_videos(tmp_path_factory) -> dict[str, Path]:
    """`equime generate` videos of the demo people's photo variants, the paper's 5 emotions at 17
    frames, 32x32 (mer_fixtures.make_variant_datasets): 'train' 240 videos of 4 variants, 'test'
    120 of 2 held-out variants. Built once per pytest process (each xdist worker builds its own,
    ~10-30 s on 2 cores); shared by the MER learning and privacy tests: never write into it."""
    from mer_fixtures import make_variant_datasets

    return make_variant_datasets(tmp_path_factory.mktemp("variants"))
