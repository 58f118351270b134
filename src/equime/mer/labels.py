"""Emotion names, label schemes (5-class, 3-class MEGC composite, native) and FACS AU strings.

Every dataset spells emotions its own way ('Happiness', 'happy', 'sad', 'repression', 'Other');
`normalize_emotion` folds them to one vocabulary, and a scheme maps that to class names (or None:
the clip is dropped under that scheme, e.g. CASME II 'others' in 3-class).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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
SCHEMES = ("5class", "3class", "native")


def normalize_emotion(text: object) -> str:
    """'Happiness ' -> 'happiness'; 'Other' -> 'others'; unknown words are kept, lower-cased."""
    word = re.sub(r"\s+", " ", str(text or "")).strip().lower()
    return ALIASES.get(word, word)


def map_label(emotion: str, scheme: str) -> str | None:
    """The class of a (normalised) emotion under a scheme; None drops the clip."""
    emotion = normalize_emotion(emotion)
    if scheme == "5class":
        return emotion if emotion in FIVE else None
    if scheme == "3class":
        return THREE_MAP.get(emotion)
    if scheme == "native":
        return emotion or None
    raise EquimeError(f"unknown label scheme {scheme!r}; known: {', '.join(SCHEMES)}")


def scheme_classes(scheme: str, emotions: Iterable[str] = ()) -> list[str]:
    """Class names in index order: fixed for 5/3-class (so models trained on different datasets
    share output indices), sorted present labels for native."""
    if scheme == "5class":
        return list(FIVE)
    if scheme == "3class":
        return list(THREE)
    if scheme == "native":
        return sorted({e for e in (map_label(x, scheme) for x in emotions) if e})
    raise EquimeError(f"unknown label scheme {scheme!r}; known: {', '.join(SCHEMES)}")


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
