"""The spotting-method registry and the MEGC baselines on a face track with one known change:
each finds it and nothing in the still stretches; an unknown method is a one-line error."""

from __future__ import annotations

import numpy as np
import pytest

from equime.cli import main
from equime.errors import EquimeError
from equime.spot.methods import method_names, spot_method
from equime.spot.spotter import SpotConfig
from equime.spot.track import FaceTrack

FPS = 30.0


def _track(n: int = 150, start: int = 70, length: int = 10) -> FaceTrack:
    """Textured 96 px crops (a still face's skin and camera noise); a patch moves and returns
    over `length` frames from `start` (a micro-expression's motion)."""
    rng = np.random.default_rng(0)
    base = (rng.random((96, 96)) * 80 + 90).astype(np.float32)
    base = np.clip(base + 40 * np.sin(np.arange(96) / 3)[None, :], 0, 255)
    crops = []
    for t in range(n):
        frame = base.copy()
        k = t - start
        if 0 <= k < length:
            shift = round(3 * np.sin(np.pi * k / (length - 1)))
            frame[50:80, 30:66] = np.roll(base[50:80, 30:66], shift, axis=0)
        crops.append(np.clip(frame + rng.normal(0, 1.0, frame.shape), 0, 255).astype(np.uint8))
    return FaceTrack(
        np.stack(crops),
        np.zeros((n, 478, 2)),
        np.ones(n, bool),
        np.zeros(n, int),
        [],
        FPS,
        30.0,
    )


def test_registry_lists_every_method_file() -> None:
    assert {"motion", "mdmd", "lbp-chi2"} <= set(method_names())
    with pytest.raises(EquimeError, match="unknown spotting method 'nosuch'"):
        spot_method("nosuch")


@pytest.mark.parametrize("name", ["mdmd", "lbp-chi2"])
def test_megc_baselines_find_the_change(name: str) -> None:
    result = spot_method(name)(_track(), SpotConfig(method=name))
    assert result.spots, name
    best = max(result.spots, key=lambda s: s.score)
    assert best.onset <= 79 and best.offset >= 70, best  # overlaps the change at 70-79
    assert all(s.offset >= 55 and s.onset <= 95 for s in result.spots), result.spots


def test_unknown_method_on_the_command_line_is_one_line(tmp_path, capsys) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    assert main(["spot", str(video), "--method", "nosuch"]) == 2
    assert "unknown spotting method" in capsys.readouterr().err
