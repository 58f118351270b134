"""Emotion names, label schemes (a registry) and FACS AU strings.

Every dataset spells emotions its own way ('Happiness', 'happy', 'sad', 'repression', 'Other');
`normalize_emotion` folds them to one vocabulary, and a scheme maps that to class names (or None:
the clip is dropped under that scheme, e.g. CASME II 'others' in 3-class). A scheme may also
leave out named clips (the MEGC 2019 selection), so `label_rows` works on table rows.

Schemes (class order fixed, so models trained on different datasets share output indices):
  equime5        EquiME's five emotions (happiness, sadness, surprise, disgust, anger);
                 `5class` is its old name, still accepted (old checkpoints and experiments)
  casme2-5class  the usual CASME II five: happiness, disgust, repression, surprise, others
                 (fear and sadness, 9 clips, left out)
  3class         negative / positive / surprise, every dataset
  megc2019       3class with the MEGC 2019 composite's selection: CASME II's fear and sadness
                 clips and sub04/EP12_01f, sub05/EP12_03f, sub24/EP02_07 left out (See et al.,
                 "MEGC 2019 - the second facial micro-expressions grand challenge", FG 2019;
                 the same selection as MEB, Varanka et al., arXiv 2211.11425)
  native         the dataset's own labels, sorted
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from equime.errors import EquimeError

ALIASES = {
    "happy": "happiness",
    "happiness": "happiness",
    "joy": "happiness",
    "sad": "sadness",
    "sadness": "sadness",
    "surprise": "surprise",
    "surprised": "surprise",
    "disgust": "disgust",
    "disgusted": "disgust",
    "anger": "anger",
    "angry": "anger",
    "fear": "fear",
    "fearful": "fear",
    "contempt": "contempt",
    "repression": "repression",
    "tense": "tense",
    "others": "others",
    "other": "others",
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
}

FIVE = ("happiness", "sadness", "surprise", "disgust", "anger")  # the paper's EquiME emotions
THREE = ("negative", "positive", "surprise")  # MEGC 2019 composite order
THREE_MAP = {
    "happiness": "positive",
    "positive": "positive",
    "surprise": "surprise",
    "anger": "negative",
    "fear": "negative",
    "disgust": "negative",
    "sadness": "negative",
    "contempt": "negative",
    "repression": "negative",  # MEGC 2019: CASME II repression counts as negative
    "negative": "negative",
}


def normalize_emotion(text: object) -> str:
    """'Happiness ' -> 'happiness'; 'Other' -> 'others'; unknown words are kept, lower-cased."""
    word = re.sub(r"\s+", " ", str(text or "")).strip().lower()
    return ALIASES.get(word, word)


CASME2_FIVE = ("happiness", "disgust", "repression", "surprise", "others")
# MEGC 2019 composite: CASME II clips left out besides fear / sadness (See et al., FG 2019)
MEGC2019_CASME2_EXCLUDED = ("sub04/EP12_01f", "sub05/EP12_03f", "sub24/EP02_07")
MEGC2019_CASME2_EMOTIONS_OUT = ("fear", "sadness")


@dataclass(frozen=True)
class Scheme:
    name: str
    classes: tuple[str, ...] | None  # None: the labels present (native)
    mapping: Callable[[str], str | None]
    keep: Callable[[Mapping[str, object]], bool] = lambda row: True  # clip selection
    description: str = ""


SCHEMES: dict[str, Scheme] = {}
SCHEME_ALIASES = {"5class": "equime5"}  # old names still accepted


def register_scheme(scheme: Scheme) -> Scheme:
    SCHEMES[scheme.name] = scheme
    return scheme


def _megc2019_keep(row: Mapping[str, object]) -> bool:
    if str(row.get("dataset", "")) != "casme2":
        return True
    emotion = normalize_emotion(row.get("emotion", ""))
    clip = str(row.get("clip", ""))
    named = any(clip == c or clip.endswith(f"/{c}") for c in MEGC2019_CASME2_EXCLUDED)
    return emotion not in MEGC2019_CASME2_EMOTIONS_OUT and not named  # pooled ids: name/sub/clip


register_scheme(
    Scheme("equime5", FIVE, lambda e: e if e in FIVE else None, description="EquiME's five")
)
register_scheme(
    Scheme(
        "casme2-5class",
        CASME2_FIVE,
        lambda e: e if e in CASME2_FIVE else None,
        description="CASME II: happiness, disgust, repression, surprise, others",
    )
)
register_scheme(Scheme("3class", THREE, THREE_MAP.get, description="MEGC 3-class"))
register_scheme(
    Scheme(
        "megc2019",
        THREE,
        THREE_MAP.get,
        keep=_megc2019_keep,
        description="MEGC 2019 composite: 3-class, CASME II selection",
    )
)
register_scheme(Scheme("native", None, lambda e: e or None, description="own labels"))


def scheme_names(aliases: bool = True) -> list[str]:
    return [*SCHEMES, *(SCHEME_ALIASES if aliases else ())]


def get_scheme(name: str) -> Scheme:
    """The scheme called `name` (old aliases such as `5class` accepted)."""
    key = SCHEME_ALIASES.get(str(name), str(name))
    if key not in SCHEMES:
        raise EquimeError(f"unknown label scheme {name!r}; known: {', '.join(scheme_names())}")
    return SCHEMES[key]


def map_label(emotion: str, scheme: str) -> str | None:
    """The class of a (normalised) emotion under a scheme; None drops the clip. Clip selections
    (megc2019) need the row: use `label_rows`."""
    return get_scheme(scheme).mapping(normalize_emotion(emotion))


def label_rows(table: pd.DataFrame, scheme: str) -> list[str | None]:
    """The class of every row of a clip table under `scheme` (None: left out)."""
    spec = get_scheme(scheme)
    out: list[str | None] = []
    for row in table.to_dict("records"):
        label = spec.mapping(normalize_emotion(row.get("emotion", "")))
        out.append(label if label is not None and spec.keep(row) else None)
    return out


def scheme_classes(scheme: str, emotions: Iterable[str] = ()) -> list[str]:
    """Class names in index order: fixed per scheme (so models trained on different datasets
    share output indices), sorted present labels for native."""
    spec = get_scheme(scheme)
    if spec.classes is not None:
        return list(spec.classes)
    return sorted({e for e in (spec.mapping(normalize_emotion(x)) for x in emotions) if e})


_AU_TOKEN = re.compile(r"^(?P<side>[RLBTU]?)(?P<number>\d+)(?P<intensity>[A-E]?)$")


def parse_aus(text: object) -> list[str]:
    """A FACS AU string -> tokens: 'R12+L14' -> ['R12', 'L14']; '4+L10' -> ['4', 'L10'];
    'AU 4B + 7' -> ['4B', '7']. Side prefixes (R, L, B, T, U) and intensities (A-E) are kept;
    unreadable parts ('?', '(...)', 'nan') are dropped."""
    raw = str(text or "")
    if raw.strip().lower() in ("", "nan", "none", "-", "/"):
        return []
    tokens = []
    for part in re.split(r"[+,;/&\s]+(?=[A-Za-z]*\d|$)|\s*\+\s*", raw):
        part = re.sub(r"\(.*?\)|[?*]", "", part).strip().upper().removeprefix("AU").strip()
        match = _AU_TOKEN.match(part)
        if match:
            tokens.append(f"{match['side']}{int(match['number'])}{match['intensity']}")
    return tokens


def aus_string(text: object) -> str:
    """The normalised AU string ('R12+L14'), '' when none."""
    return "+".join(parse_aus(text))
