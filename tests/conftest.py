"""Shared fixtures: the real demo faces, found by the real landmarker (set-up fetches the model)."""

from __future__ import annotations

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
