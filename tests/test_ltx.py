"""The LTX-Video backend, end to end on a tiny randomly initialised pipeline built here.

The pipeline is the real diffusers one (transformer, VAE, T5 encoder, a tokenizer trained on the
spot, the shapes diffusers uses in its own tests), saved with save_pretrained and loaded back by
`equime generate --backend ltx --model <folder>`: exactly the path a real checkpoint takes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equime.cli import main
from equime.errors import EquimeError
from equime.faces.face import Face
from equime.facs.prompt import load_template
from equime.generation.config import GenerateConfig
from equime.generation.plan import plan_sample
from equime.video.mp4 import read_mp4

CORPUS = [
    "a face looking at the camera shows a brief subtle micro-expression of happiness",
    "the cheeks lift, narrowing the eyes from below; the lip corners pull up and back",
    "eye blink, blur, double exposure, motion blur, head movement, camera shake",
]


def build_tiny_ltx(folder: Path) -> Path:
    """A randomly initialised LTX image-to-video pipeline, saved like a hub checkpoint."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    # A Unigram tokenizer trained on a few lines; specials in T5's order (pad 0, eos 1, unk 2).
    raw = Tokenizer(models.Unigram())
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=120, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    raw.train_from_iterator(CORPUS * 5, trainer)
    vocab = [(piece, score) for piece, score in json.loads(raw.to_str())["model"]["vocab"]]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(vocab),
            d_model=32,  # = the transformer's caption_channels
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
        )
    )
    pipe = LTXImageToVideoPipeline(
        transformer=transformer,
        vae=vae,
        # the real checkpoint's scheduler settings (dynamic shifting: the condition pipeline
        # cannot use them as they are, so this exercises EquiME's fix)
        scheduler=FlowMatchEulerDiscreteScheduler(
            use_dynamic_shifting=True,
            base_shift=0.95,
            max_shift=2.05,
            base_image_seq_len=1024,
            max_image_seq_len=4096,
            shift_terminal=0.1,
        ),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
    )
    pipe.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_ltx(tmp_path_factory.mktemp("ltx") / "tiny-ltx")


LTX_SMALL = ["--size", "64", "--frames", "17", "--steps", "2", "--no-progress"]


@pytest.fixture(scope="module")
def ltx_run(tiny_ltx: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ltxrun") / "ds"
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness,surprise"]
    args += ["--backend", "ltx", "--model", str(tiny_ltx), "--out", str(out), *LTX_SMALL]
    assert main(args) == 0
    return out


def test_generate_ltx_writes_videos_and_rows(ltx_run: Path, tiny_ltx: Path) -> None:
    meta = pd.read_parquet(ltx_run / "metadata.parquet")
    assert len(meta) == 2 and set(meta["target_emotion"]) == {"happiness", "surprise"}
    assert pd.read_csv(ltx_run / "rejected.csv").empty
    template = load_template()
    for row in meta.itertuples():
        frames = read_mp4(ltx_run / row.file_name)
        assert frames.shape == (17, 64, 64, 3) and frames.dtype == np.uint8
        assert frames.std() > 1.0  # the random model draws something, not a blank clip
        assert row.generator == "ltx" and row.generator_version.startswith("diffusers ")
        assert row.ltx_model == str(tiny_ltx) and row.ltx_pipeline == "i2v" and row.ltx_steps == 2
        # no ground truth for a model's timing: left empty, not faked from the plan
        assert row.timing_source == "none"
        assert pd.isna(row.onset) and pd.isna(row.apex) and pd.isna(row.offset)
        assert row.prompt_template == "micro-expression-v1"
        assert row.prompt_template_sha256 == template.sha256
        assert row.negative_prompt.startswith("eye blink, blur")
        assert "3D render" in row.negative_prompt
        assert f"micro-expression of {row.target_emotion}" in row.prompt
    card = json.loads((ltx_run / "dataset.json").read_text())
    assert card["config"]["generator"] == "ltx"
    assert card["versions"]["diffusers"] == meta["generator_version"].iloc[0].split()[1][:-1]
    assert card["config"]["generator_options"]["model"] == str(tiny_ltx)
    assert (ltx_run / "contact_sheet.png").is_file()
    assert "no ground-truth timing" in (ltx_run / "README.md").read_text()


def test_ltx_rerun_resumes_without_loading_work_twice(
    ltx_run: Path, tiny_ltx: Path, capsys
) -> None:
    before = pd.read_parquet(ltx_run / "metadata.parquet").set_index("id")["sha256"]
    first = ltx_run / pd.read_parquet(ltx_run / "metadata.parquet")["file_name"].iloc[0]
    first.unlink()
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness,surprise"]
    args += ["--backend", "ltx", "--model", str(tiny_ltx), "--out", str(ltx_run), *LTX_SMALL]
    assert main(args) == 0
    assert "1 videos made, 1 already done" in capsys.readouterr().out
    after = pd.read_parquet(ltx_run / "metadata.parquet").set_index("id")["sha256"]
    pd.testing.assert_series_equal(before.sort_index(), after.sort_index())  # seeded: same bytes


def _small_face(face: Face, size: int = 64) -> Face:
    import cv2

    image = cv2.resize(face.image, (size, size), interpolation=cv2.INTER_AREA)
    return Face(face.face_id, image, face.landmarks * (size / face.size))


def test_condition_pipeline_is_seeded_per_sample(tiny_ltx: Path, demo_faces: list[Face]) -> None:
    from equime.synth.base import create_generator

    generator = create_generator("ltx", model=str(tiny_ltx), pipeline="condition", steps=2)
    cfg = GenerateConfig(size=64, n_frames=17, generator="ltx")
    face = _small_face(demo_faces[0])
    spec = plan_sample(cfg, face.face_id, "happiness", 0, {}).spec()
    first, again = generator(face, spec), generator(face, spec)
    assert first.shape == (17, 64, 64, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    other = plan_sample(cfg, face.face_id, "happiness", 1, {}).spec()
    assert other.seed != spec.seed and not np.array_equal(first, generator(face, other))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--size", "250", "--frames", "17"], "size 250 must be a multiple of 32"),
        (["--size", "64", "--frames", "160"], "160 frames is not 8k+1 (try 153 or 161)"),
    ],
)
def test_bad_ltx_settings_fail_in_one_line(
    flags: list[str], message: str, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "never"
    assert main(["generate", "--demo", "--backend", "ltx", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_model_folder_that_is_not_a_pipeline(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    args = ["generate", "--demo", "--backend", "ltx", "--model", str(folder)]
    assert main([*args, "--out", str(tmp_path / "o"), *LTX_SMALL]) == 2
    err = capsys.readouterr().err
    assert f"{folder}: not a diffusers pipeline folder (no model_index.json)" in err
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    assert main([*args, "--out", str(tmp_path / "o"), *LTX_SMALL]) == 2
    assert "holds a StableDiffusionPipeline pipeline, not LTX-Video" in capsys.readouterr().err


def test_settings_are_checked_before_diffusers_is_imported(tmp_path: Path) -> None:
    """Fail fast: the size error comes without loading torch's model stack at all."""
    code = (
        "import sys; from equime.cli import main; "
        f"rc = main(['generate', '--demo', '--backend', 'ltx', '--out', {str(tmp_path)!r}, "
        "'--size', '250']); print(rc, 'diffusers' in sys.modules, 'torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.stdout.split() == ["2", "False", "False"], done.stderr
    assert "size 250 must be a multiple of 32" in done.stderr


def test_paper_preset_and_flags_on_top(tmp_path: Path) -> None:
    from equime.cli import build_parser
    from equime.commands._settings import settings

    args = build_parser().parse_args(["generate", "--ltx-preset", "paper", "--model", "org/m"])
    cfg = GenerateConfig(**settings(args, skip=("demo", "source", "path")))
    assert (cfg.generator, cfg.size, cfg.n_frames, cfg.fps) == ("ltx", 256, 161, 24.0)
    assert cfg.generator_options == {"steps": 80, "guidance": 3.0, "model": "org/m"}
    args = build_parser().parse_args(["generate", "--ltx-preset", "paper", "--steps", "8"])
    assert settings(args, skip=())["generator_options"]["steps"] == 8
    with pytest.raises(EquimeError, match="generator warp has no option model"):
        GenerateConfig(generator="warp", generator_options={"model": "org/m"})


def test_prompt_template_is_data(tmp_path: Path) -> None:
    mine = tmp_path / "terse.yaml"
    mine.write_text(
        "name: terse\nprompt: '{emotion} ({intensity}): {au_codes}'\nnegative: 'blur'\n"
    )
    cfg = GenerateConfig(prompt_template=str(mine), do={"12": 0.3, "6": 0.5}, do_only=True)
    row = plan_sample(cfg, "f", "happiness", 0, {})
    assert row.prompt == "happiness (marked): AU6, AU12"
    assert (row.negative_prompt, row.prompt_template) == ("blur", "terse")
    assert cfg.dataset_fields()["prompt_template_sha256"] == load_template(str(mine)).sha256
    assert "prompt_template" not in GenerateConfig().dataset_fields()  # old fingerprints hold
    # the bundled default keeps the wording the warp datasets already record
    default = plan_sample(GenerateConfig(do={"12": 0.3}, do_only=True), "f", "happiness", 0, {})
    assert default.prompt.startswith("A face looking at the camera shows a brief, subtle")
    bad = tmp_path / "bad.yaml"
    bad.write_text("prompt: 'a {mood} face'\n")
    with pytest.raises(EquimeError, match=r"unknown placeholder \{mood\}"):
        GenerateConfig(prompt_template=str(bad))


def test_a_model_that_does_not_load_stops_the_run_in_one_line(
    tiny_ltx: Path, tmp_path: Path, capsys
) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_ltx, broken)
    for weights in (broken / "transformer").glob("*.safetensors"):
        weights.unlink()
    out = tmp_path / "o"
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness", "--backend", "ltx"]
    assert main([*args, "--model", str(broken), "--out", str(out), *LTX_SMALL]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"equime: error: {broken}: cannot load the LTX pipeline (")
    assert pd.read_parquet(out / "metadata.parquet").empty  # nothing half-made is kept
