"""The AU catalogue, prototypes and the structural causal model."""

from __future__ import annotations

import numpy as np
import pytest

from equime.errors import EquimeError
from equime.facs.aus import AUS, all_codes, column_name, parse_code
from equime.facs.emotions import EMOTIONS, PAPER_EMOTIONS, PROTOTYPES, parse_emotions
from equime.facs.prompt import prompt_text
from equime.facs.scm import (
    IntensityConfig,
    apply_label_noise,
    derive_seed,
    f_z,
    intervene,
    parse_intervention,
    sample_z,
    substream,
)


def test_catalogue_covers_every_prototype_au() -> None:
    for proto in PROTOTYPES.values():
        for code in [*proto.required, *proto.optional]:
            assert parse_code(code)[1] in AUS
    assert len(EMOTIONS) == 7 and set(PAPER_EMOTIONS) <= set(EMOTIONS)


def test_codes_parse_facs_notation() -> None:
    assert parse_code("R12A") == ("R", 12, 0.2)
    assert parse_code("AU04") == ("", 4, None)
    assert parse_code("l14b") == ("L", 14, 0.4)
    assert column_name("R12") == "AU12R" and column_name("4") == "AU04"
    assert len(all_codes()) == len(set(all_codes()))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("99=0.3", "unknown Action Unit 99"),
        ("12=1.5", "out of range"),
        ("R26=0.2", "cannot be one-sided"),
        ("12=abc", "not a number"),
        ("12", "give an intensity"),
        ("smile=0.2", "not an Action Unit code"),
    ],
)
def test_bad_interventions_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(EquimeError, match=message):
        parse_intervention(text)


def test_unknown_emotion_lists_the_allowed() -> None:
    with pytest.raises(EquimeError, match="allowed: happiness, sadness"):
        parse_emotions("joy,anger")
    assert parse_emotions("all") == EMOTIONS
    assert parse_emotions("Anger, anger ,fear") == ("anger", "fear")


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_sampled_z_is_labelled_as_its_emotion(emotion: str) -> None:
    for i in range(50):
        z = sample_z(emotion, substream(i, "z"))
        assert set(PROTOTYPES[emotion].required) <= set(z)
        lo, hi = IntensityConfig().required
        assert all(lo <= z[c] <= hi for c in PROTOTYPES[emotion].required)
        assert f_z(z)[0] == emotion


def test_f_z_is_deterministic_scale_free_and_neutral_without_aus() -> None:
    z = {"6": 0.3, "12": 0.4}
    assert f_z(z) == f_z(z)
    assert f_z(z)[0] == f_z({k: 2 * v / 3 for k, v in z.items()})[0] == "happiness"
    assert f_z({})[0] == "neutral"
    assert f_z({"R12": 0.3, "R14": 0.3})[0] == "contempt"


def test_counterfactual_changes_only_the_intervened_au() -> None:
    z = sample_z("happiness", substream(7, "z"))
    cf = intervene(z, {"12": 0.0})
    assert "12" not in cf and cf["6"] == z["6"]
    assert intervene(z, {"4": 0.3}, only=True) == {"4": 0.3}


def test_label_noise_flips_at_the_configured_rate() -> None:
    rng = np.random.default_rng(0)
    flips = [apply_label_noise("anger", PAPER_EMOTIONS, 0.2, rng)[1] for _ in range(4000)]
    assert 0.17 < np.mean(flips) < 0.23
    assert apply_label_noise("anger", PAPER_EMOTIONS, 0.0, rng) == ("anger", False)
    label, flipped = apply_label_noise("anger", PAPER_EMOTIONS, 1.0, rng)
    assert flipped and label in PAPER_EMOTIONS and label != "anger"


def test_seeds_are_stable_and_distinct() -> None:
    assert derive_seed(0, "a") == 4950127121108668649  # pinned: same on every machine
    assert derive_seed(0, "a") != derive_seed(1, "a") != derive_seed(0, "b")
    assert 0 <= derive_seed(123, "x") < 2**63


def test_prompt_names_aus_in_words() -> None:
    text = prompt_text("happiness", {"12": 0.3, "6": 0.5})
    assert "AU6 (marked)" in text and "AU12 (slight)" in text and "happiness" in text
    assert text.index("AU6") < text.index("AU12")
    assert "neutral" in prompt_text("neutral", {})
