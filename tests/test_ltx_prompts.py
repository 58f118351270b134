"""Prompt hygiene: the negative prompt never forbids what Z asks for, and the emotion word is a
choice (`--no-prompt-emotion`), so a do(Z) counterfactual can change Z's words alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from equime.errors import EquimeError
from equime.facs.aus import parse_code
from equime.facs.emotions import EMOTIONS, PROTOTYPES
from equime.generation.config import GenerateConfig
from equime.generation.plan import plan_sample

# What each negative term forbids, in FACS terms (written here, independent of the template's table)
FORBIDS = {"open mouth": {25, 26}, "visible teeth": {10, 16, 25, 26}}


def _numbers(aus: dict[str, float]) -> set[int]:
    return {parse_code(code)[1] for code, value in aus.items() if value > 0}


def _terms(text: str) -> set[str]:
    return {t.strip() for t in text.split(",") if t.strip()}


def test_no_negative_term_contradicts_a_requested_au_for_any_emotion() -> None:
    cfg = GenerateConfig(size=64, n_frames=17)
    seen: set[int] = set()
    for emotion, proto in PROTOTYPES.items():
        rows = [plan_sample(cfg, "f", emotion, r, {}) for r in range(12)]
        everything = {**dict.fromkeys(proto.required, 0.9), **dict.fromkeys(proto.optional, 0.9)}
        full = GenerateConfig(size=64, n_frames=17, do=everything, do_only=True)
        rows.append(plan_sample(full, "f", emotion, 0, {}))  # every AU it may use, 'extreme'
        for row in rows:
            requested = _numbers(row.aus)
            seen |= requested
            terms = _terms(row.negative_prompt)
            for term, forbidden in FORBIDS.items():
                assert not (term in terms and requested & forbidden), (emotion, row.aus, term)
            if max(row.aus.values(), default=0) > 0.8:  # the prompt says 'extreme'
                assert "extreme expression" not in terms and "extreme" in row.prompt
                assert "exaggerated expression" not in terms
            # everything that does not contradict Z stays (the paper's list, minus conflicts)
            assert {"eye blink", "head movement", "camera shake", "3D render"} <= terms
    assert {25, 26, 10, 16} <= seen  # the cases that matter did occur


def test_examples_of_the_rule() -> None:
    cfg = GenerateConfig(do={"1": 0.3, "2": 0.3, "5": 0.3, "26": 0.3}, do_only=True)
    surprise = plan_sample(cfg, "f", "surprise", 0, {})
    assert "open mouth" not in surprise.negative_prompt
    assert "visible teeth" not in surprise.negative_prompt and "jaw drops" in surprise.prompt
    neutral = plan_sample(GenerateConfig(emotions="neutral"), "f", "neutral", 0, {})
    assert {"open mouth", "visible teeth", "extreme expression"} <= _terms(neutral.negative_prompt)
    smile = plan_sample(
        GenerateConfig(do={"6": 0.3, "12": 0.3}, do_only=True), "f", "happiness", 0, {}
    )
    assert {"open mouth", "visible teeth"} <= _terms(smile.negative_prompt)


def test_a_template_without_a_table_uses_the_bundled_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("prompt: '{aus}'\nnegative: 'open mouth, blur, visible teeth'\n")
    cfg = GenerateConfig(prompt_template=str(mine), do={"25": 0.3}, do_only=True)
    assert plan_sample(cfg, "f", "happiness", 0, {}).negative_prompt == "blur"
    bad = tmp_path / "bad.yaml"
    bad.write_text("prompt: '{aus}'\nconflicts: {blur: {aus: [99]}}\n")
    with pytest.raises(EquimeError, match="conflict 'blur' names unknown AU 99"):
        GenerateConfig(prompt_template=str(bad))


def test_prompt_without_the_emotion_word_depends_on_z_only(tmp_path: Path) -> None:
    z = {"6": 0.3, "12": 0.35}
    named = GenerateConfig(do=z, do_only=True, emotions="all")
    plain = GenerateConfig(do=z, do_only=True, emotions="all", prompt_emotion=False)
    texts = {e: plan_sample(plain, "f", e, 0, {}).prompt for e in EMOTIONS}
    assert len(set(texts.values())) == 1  # same Z, same words, whatever the target emotion
    assert not any(e in text for e in EMOTIONS for text in texts.values())
    assert "the lip corners pull up" in texts["anger"]
    assert plan_sample(named, "f", "anger", 0, {}).prompt != texts["anger"]
    assert "micro-expression of anger" in plan_sample(named, "f", "anger", 0, {}).prompt
    # a dataset field (changes the prompts), absent at its default so old fingerprints hold
    assert "prompt_emotion" not in named.dataset_fields()
    assert plain.dataset_fields()["prompt_emotion"] is False
    assert plain.fingerprint() != named.fingerprint()
    terse = tmp_path / "terse.yaml"
    terse.write_text("prompt: '{emotion}: {aus}'\n")
    with pytest.raises(EquimeError, match="has no 'prompt_no_emotion' text"):
        GenerateConfig(prompt_template=str(terse), prompt_emotion=False)


def test_cli_flags_reach_the_config() -> None:
    from equime.cli import build_parser
    from equime.commands._settings import settings

    argv = ["generate", "--no-prompt-emotion", "--backend", "ltx", "--model", "org/m"]
    argv += ["--ltx-mode", "i2v", "--offload", "--vae-tiling", "--text-cache", "/tmp/t5"]
    cfg = GenerateConfig(**settings(build_parser().parse_args(argv), skip=("demo", "source")))
    assert cfg.prompt_emotion is False
    options = cfg.generator_options
    assert options["mode"] == "i2v" and options["offload"] and options["vae_tiling"]
    # how a run uses the machine is not part of the dataset
    assert cfg.dataset_fields()["generator_options"] == {"model": "org/m", "mode": "i2v"}
    with pytest.raises(EquimeError, match="mode 'keyframes' and pipeline 'i2v' disagree"):
        GenerateConfig(generator="ltx", generator_options={"mode": "keyframes", "pipeline": "i2v"})
