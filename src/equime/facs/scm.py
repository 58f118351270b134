"""The structural causal model made concrete: Z ~ p(Z | emotion), Y = f_Z(Z) + eps_Y, do(Z).

Every random draw comes from a named substream of the sample's seed, so changing one mechanism (an
intervention, label noise) never shifts the draws of another: the same face and seed with one AU
changed is a true counterfactual.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from equime.errors import EquimeError
from equime.facs.aus import AUS, check_intensity, normalise_code, parse_code
from equime.facs.emotions import PROTOTYPES, Prototype


@dataclass(frozen=True)
class IntensityConfig:
    """Micro-expression intensities (0-1 scale; FACS A=0.2, B=0.4)."""

    required: tuple[float, float] = (0.25, 0.45)
    optional: tuple[float, float] = (0.15, 0.3)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (run seed, sample id, stream name); stable across machines."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def substream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(derive_seed(seed, name))


def sample_z(
    emotion: str, rng: np.random.Generator, intensity: IntensityConfig = IntensityConfig()
) -> dict[str, float]:
    """Required AUs always on; each optional AU on with its probability. Draw order is fixed."""
    proto = PROTOTYPES[emotion]
    z = {code: float(rng.uniform(*intensity.required)) for code in proto.required}
    for code, p in proto.optional.items():
        on, value = rng.random() < p, float(rng.uniform(*intensity.optional))
        if on:
            z[code] = value
    return {code: round(v, 4) for code, v in z.items()}


def _sided_vector(aus: dict[str, float]) -> dict[tuple[int, str], float]:
    """Spread Z over (AU, side): a bilateral code puts its intensity on both sides."""
    vec: dict[tuple[int, str], float] = {}
    for code, value in aus.items():
        side, number, _ = parse_code(code)
        for s in (side,) if side else ("R", "L"):
            vec[(number, s)] = max(vec.get((number, s), 0.0), value)
    return vec


def _prototype_vector(proto: Prototype) -> dict[tuple[int, str], float]:
    weights = {code: 1.0 for code in proto.required} | {code: 0.5 for code in proto.optional}
    return _sided_vector(weights)


def score_emotions(aus: dict[str, float]) -> dict[str, float]:
    """f_Z: cosine similarity of Z with each prototype over (AU, side); intensity-scale free."""
    z = _sided_vector({c: v for c, v in aus.items() if v > 0})
    z_norm = np.sqrt(sum(v * v for v in z.values()))
    scores = {}
    for emotion, proto in PROTOTYPES.items():
        if not proto.required:
            continue
        w = _prototype_vector(proto)
        dot = sum(z.get(k, 0.0) * wv for k, wv in w.items())
        w_norm = np.sqrt(sum(v * v for v in w.values()))
        scores[emotion] = float(dot / (z_norm * w_norm)) if z_norm > 0 else 0.0
    return scores


NEUTRAL_BELOW = 0.3  # best prototype similarity under which f_Z calls a Z "neutral"


def f_z(aus: dict[str, float]) -> tuple[str, float]:
    """Deterministic label of an AU configuration and its similarity score."""
    scores = score_emotions(aus)
    best = max(scores, key=lambda e: (scores[e], e == "neutral"))
    return ("neutral", scores[best]) if scores[best] < NEUTRAL_BELOW else (best, scores[best])


def apply_label_noise(
    label: str, choices: tuple[str, ...], rate: float, rng: np.random.Generator
) -> tuple[str, bool]:
    """eps_Y: with probability `rate`, a uniformly chosen other label from `choices`."""
    flip, pick = rng.random(), rng.random()
    others = [c for c in choices if c != label]
    if rate <= 0 or flip >= rate or not others:
        return label, False
    return others[int(pick * len(others))], True


def parse_intervention(text: str) -> dict[str, float]:
    """'12=0.4, R14=0, 6B' -> {'12': 0.4, 'R14': 0.0, '6': 0.4}. Errors list what is allowed."""
    result: dict[str, float] = {}
    for item in (t.strip() for t in text.replace(";", ",").split(",")):
        if not item:
            continue
        code, _, value = item.partition("=")
        _, _, letter_value = parse_code(code)
        if value.strip():
            try:
                number = float(value)
            except ValueError:
                raise EquimeError(f"'{item}': intensity '{value}' is not a number (0-1)") from None
        elif letter_value is not None:
            number = letter_value
        else:
            raise EquimeError(f"'{item}': give an intensity, e.g. {code}=0.3 or {code}B")
        result[normalise_code(code)] = check_intensity(code, number)
    return result


def intervene(z: dict[str, float], do: dict[str, float], only: bool = False) -> dict[str, float]:
    """do(Z): set the given AUs (0 removes one); `only` replaces Z with exactly `do`."""
    out = {} if only else dict(z)
    for code, value in do.items():
        code = normalise_code(code)
        if value > 0:
            out[code] = check_intensity(code, value)
        else:
            out.pop(code, None)
    return out


def known_codes() -> list[str]:
    return [str(n) for n in AUS]
