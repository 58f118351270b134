"""Adding a generator is one file: a module in synth/ or another package's entry point, no list."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import equime

PACKAGE = Path(equime.__file__).resolve().parent

GENERATOR = """
import numpy as np

from equime.synth.base import register_generator


@register_generator("{name}")
class Still:
    name = "{name}"
    version = "1"

    def __call__(self, face, spec):
        return np.repeat(face.image[None], spec.timeline.n_frames, axis=0)
"""

CHECK = """
import sys
from equime.synth.base import create_generator, generator_names

names = generator_names()
assert {"warp", "ltx", "mine", "third"} <= set(names), names
assert "equime.synth.ltx" not in sys.modules  # listing imports no generator
for name in ("mine", "third"):
    assert create_generator(name).name == name
assert "equime.synth.ltx" not in sys.modules  # nor does making another one
print("ok")
"""


def test_a_new_module_or_entry_point_is_found_without_editing_a_list(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "equime", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "equime" / "synth" / "mine.py").write_text(
        textwrap.dedent(GENERATOR.format(name="mine"))
    )
    # a third-party package: its module and an installed distribution declaring the entry point
    (site / "thirdparty_gen.py").write_text(textwrap.dedent(GENERATOR.format(name="third")))
    dist = site / "thirdparty_gen-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-gen\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[equime.generators]\nthird = thirdparty_gen\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_an_unknown_generator_lists_the_known_ones() -> None:
    import pytest

    from equime.errors import EquimeError
    from equime.synth.base import create_generator

    with pytest.raises(EquimeError, match=r"available: .*ltx.*warp"):
        create_generator("nope")
