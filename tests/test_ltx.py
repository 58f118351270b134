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
from equime.synth.ltx_tiny import build_tiny_ltx
from equime.video.mp4 import read_mp4


@pytest.fixture(scope="module")
def tiny_ltx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_ltx(tmp_path_factory.mktemp("ltx") / "tiny-ltx")


LTX_SMALL = ["--size", "64", "--frames", "17", "--steps", "2", "--no-progress"]


@pytest.fixture(scope="module")
def text_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("t5cache")


@pytest.fixture(scope="module")
def ltx_run(tiny_ltx: Path, text_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ltxrun") / "ds"
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness,surprise"]
    args += ["--backend", "ltx", "--model", str(tiny_ltx), "--out", str(out), *LTX_SMALL]
    args += ["--text-cache", str(text_cache)]
    assert main(args) == 0
    return out


def test_generate_ltx_writes_videos_and_rows(ltx_run: Path, tiny_ltx: Path) -> None:
    meta = pd.read_parquet(ltx_run / "metadata.parquet")
    assert len(meta) == 2 and set(meta["target_emotion"]) == {"happiness", "surprise"}
    assert pd.read_csv(ltx_run / "rejected.csv").empty
    template = load_template()
    plans = pd.read_parquet(ltx_run / ".equime" / "plan.parquet").set_index("sample_id")
    plans = {i: r for i, r in plans.iterrows()}
    for row in meta.itertuples():
        frames = read_mp4(ltx_run / row.file_name)
        assert frames.shape == (17, 64, 64, 3) and frames.dtype == np.uint8
        assert frames.std() > 1.0  # the random model draws something, not a blank clip
        assert row.generator == "ltx" and row.generator_version.startswith("diffusers ")
        assert row.ltx_model == str(tiny_ltx) and row.ltx_steps == 2
        assert (row.ltx_mode, row.ltx_pipeline) == ("keyframes", "LTXConditionPipeline")
        # keyframe mode (default): the plan's timing was pinned, so the row keeps it
        plan = plans[row.id]
        assert row.timing_source == "keyframes"
        assert (row.onset, row.apex, row.offset) == (plan.onset, plan.apex, plan.offset)
        assert 0 < row.onset < row.apex < row.offset < 17
        assert row.prompt_template == "micro-expression-v2"
        assert row.prompt_template_sha256 == template.sha256
        assert row.negative_prompt.startswith("eye blink, blur")
        assert "3D render" in row.negative_prompt
        assert f"micro-expression of {row.target_emotion}" in row.prompt
    card = json.loads((ltx_run / "dataset.json").read_text())
    assert card["config"]["generator"] == "ltx"
    assert card["versions"]["diffusers"] == meta["generator_version"].iloc[0].split()[1][:-1]
    assert card["config"]["generator_options"]["model"] == str(tiny_ltx)
    assert (ltx_run / "contact_sheet.png").is_file()
    assert "pinned by keyframes" in (ltx_run / "README.md").read_text()


def test_ltx_rerun_resumes_without_loading_work_twice(
    ltx_run: Path, tiny_ltx: Path, tmp_path: Path, capsys
) -> None:
    before = pd.read_parquet(ltx_run / "metadata.parquet").set_index("id")["sha256"]
    first = ltx_run / pd.read_parquet(ltx_run / "metadata.parquet")["file_name"].iloc[0]
    first.unlink()
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness,surprise"]
    args += ["--backend", "ltx", "--model", str(tiny_ltx), "--out", str(ltx_run), *LTX_SMALL]
    # run-time options (offload, another text cache) are not part of the dataset's config
    assert main([*args, "--offload", "--text-cache", str(tmp_path / "other")]) == 0
    assert "1 videos made, 1 already done" in capsys.readouterr().out
    after = pd.read_parquet(ltx_run / "metadata.parquet").set_index("id")["sha256"]
    pd.testing.assert_series_equal(before.sort_index(), after.sort_index())  # seeded: same bytes


def _small_face(face: Face, size: int = 64) -> Face:
    import cv2

    image = cv2.resize(face.image, (size, size), interpolation=cv2.INTER_AREA)
    return Face(face.face_id, image, face.landmarks * (size / face.size))


def test_condition_pipeline_is_seeded_per_sample(
    tiny_ltx: Path, text_cache: Path, demo_faces: list[Face]
) -> None:
    from equime.synth.base import create_generator

    options = {"model": str(tiny_ltx), "pipeline": "condition", "steps": 2}
    generator = create_generator("ltx", text_cache=str(text_cache), **options)
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


class CallSpy:
    """The real pipeline, with every call's arguments kept for the test to read."""

    def __init__(self, pipe: object) -> None:
        self.pipe, self.calls = pipe, []

    def __call__(self, **kwargs: object) -> object:
        self.calls.append(kwargs)
        return self.pipe(**kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self.pipe, name)


def test_keyframe_mode_pins_neutral_apex_neutral_at_the_planned_frames(
    tiny_ltx: Path, text_cache: Path, demo_faces: list[Face]
) -> None:
    from equime.synth.base import create_generator
    from equime.synth.warp import WarpGenerator

    generator = create_generator("ltx", model=str(tiny_ltx), steps=2, text_cache=str(text_cache))
    assert (generator.mode, generator.timing_source) == ("keyframes", "keyframes")
    spy = generator.pipe = CallSpy(generator.pipe)
    face = _small_face(demo_faces[0])
    cfg = GenerateConfig(size=64, n_frames=25, generator="ltx")
    row = plan_sample(cfg, face.face_id, "surprise", 0, {})
    frames = generator(face, row.spec())
    assert frames.shape == (25, 64, 64, 3)
    (call,) = spy.calls
    conditions = call["conditions"]
    assert [c.frame_index for c in conditions] == [row.onset, row.apex, row.offset]
    assert 0 < row.onset < row.apex < row.offset < 24 and call["num_frames"] == 25
    images = [np.asarray(c.image) for c in conditions]
    apex = WarpGenerator().apex_frame(face, row.aus)
    np.testing.assert_array_equal(images[0], face.image)  # neutral at onset and offset
    np.testing.assert_array_equal(images[2], face.image)
    np.testing.assert_array_equal(images[1], apex)  # Z rendered by the warp at apex
    assert np.abs(apex.astype(int) - face.image).max() > 20  # and it does show movement
    assert all(c.strength == 1.0 for c in conditions) and "image" not in call


def _count_text_encoder_calls(generator: object) -> list[int]:
    calls = [0]

    def hook(*_: object) -> None:
        calls[0] += 1

    generator.pipe.text_encoder.register_forward_hook(hook)
    return calls


def test_prompt_embeddings_are_encoded_once_across_videos_and_runs(
    tiny_ltx: Path, tmp_path: Path, demo_faces: list[Face]
) -> None:
    from equime.synth.base import create_generator

    face = _small_face(demo_faces[0])
    cfg = GenerateConfig(size=64, n_frames=17, generator="ltx", per_face=2)
    rows = [plan_sample(cfg, face.face_id, "happiness", r, {}) for r in range(2)]
    rows.append(plan_sample(cfg, face.face_id, "surprise", 0, {}))
    texts = {t for r in rows for t in (r.prompt, r.negative_prompt)}
    options = {"model": str(tiny_ltx), "steps": 2, "text_cache": str(tmp_path / "t5")}
    first = create_generator("ltx", **options)
    calls = _count_text_encoder_calls(first)
    made = [first(face, r.spec()) for r in rows]
    assert calls[0] == len(texts) == first.text.encoded  # each distinct text once, not per video
    assert len(list((tmp_path / "t5").rglob("*.safetensors"))) == len(texts)
    again = create_generator("ltx", **options)  # a new run: a fresh pipeline, the same cache
    calls = _count_text_encoder_calls(again)
    remade = [again(face, r.spec()) for r in rows]
    assert calls[0] == 0 and again.text.encoded == 0
    for a, b in zip(made, remade, strict=True):
        np.testing.assert_array_equal(a, b)  # cached embeddings give the same frames


def test_rows_from_another_backend_version_are_redone(
    ltx_run: Path, tiny_ltx: Path, capsys
) -> None:
    import json

    rows = sorted((ltx_run / ".equime" / "rows").glob("*.json"))
    record = json.loads(rows[0].read_text())
    record["generator_version"] = "diffusers 0.35.0; LTXImageToVideoPipeline"  # an older run
    rows[0].write_text(json.dumps(record))
    args = ["generate", "--demo", "--limit", "1", "--emotions", "happiness,surprise"]
    args += ["--backend", "ltx", "--model", str(tiny_ltx), "--out", str(ltx_run), *LTX_SMALL]
    assert main(args) == 0
    assert "1 videos made, 1 already done" in capsys.readouterr().out
    meta = pd.read_parquet(ltx_run / "metadata.parquet")
    assert meta["generator_version"].nunique() == 1
    from equime.synth.warp import WarpGenerator

    version = meta["generator_version"].iloc[0]  # the apex keyframe's warp version counts too
    tail = f"; LTXConditionPipeline; mode keyframes; equime-ltx 2; warp {WarpGenerator.version}"
    assert version.endswith(tail)
    assert main([*args, "--vae-tiling"]) == 0  # the version names VAE tiling: all redone
    assert "2 videos made, 0 already done" in capsys.readouterr().out


def test_keyframe_timing_counts_as_truth_for_verify() -> None:
    from equime.verify.run import truth_of

    row = pd.Series({"timing_source": "keyframes", "onset": 5, "apex": 9, "offset": 14})
    assert truth_of(row) is not None and truth_of(row).apex == 9
    assert truth_of(row.replace("keyframes", "none")) is None


def test_i2v_mode_leaves_the_timing_to_the_model(
    tiny_ltx: Path, text_cache: Path, demo_faces: list[Face]
) -> None:
    from equime.generation.tasks import metadata_row
    from equime.synth.base import create_generator

    options = {"model": str(tiny_ltx), "mode": "i2v", "steps": 2, "text_cache": str(text_cache)}
    generator = create_generator("ltx", **options)
    spy = generator.pipe = CallSpy(generator.pipe)
    face = _small_face(demo_faces[0])
    row = plan_sample(GenerateConfig(size=64, n_frames=17, generator="ltx"), "f", "anger", 0, {})
    assert generator(face, row.spec()).shape == (17, 64, 64, 3)
    (call,) = spy.calls
    assert "conditions" not in call and np.array_equal(np.asarray(call["image"]), face.image)
    assert "prompt" not in call and call["prompt_embeds"].shape[0] == 1  # from the text cache
    meta = metadata_row(row, "v.mp4", face, "public domain", generator, "0" * 64)
    assert meta["timing_source"] == "none" and meta["onset"] is None and meta["apex"] is None
    assert (meta["ltx_mode"], meta["ltx_pipeline"]) == ("i2v", "LTXImageToVideoPipeline")


def test_latent_span_matches_the_condition_pipelines_time_coordinates() -> None:
    """docs/ltx.md's mapping, read off diffusers itself: latent k >= 1 sits at frame 8k-7 and
    decodes frames 8k-7 ... 8k; a keyframe's token sits at its own frame index."""
    from diffusers import LTXConditionPipeline

    from equime.synth.ltx_modes import latent_span

    n_latents = (161 - 1) // 8 + 1  # the paper's 161 frames
    ids = LTXConditionPipeline._prepare_video_ids(1, n_latents, 1, 1)
    coords = LTXConditionPipeline._scale_video_ids(ids, 32, 8, frame_index=0)[0, 0].tolist()
    assert coords == [0, *range(1, 161, 8)]
    for k, first in enumerate(coords):
        assert latent_span(first)[0] == first and latent_span(8 * k if k else 0)[1] == 8 * k
    keyframe = LTXConditionPipeline._scale_video_ids(ids[:, :, :1], 32, 8, frame_index=71)
    assert keyframe[0, 0].tolist() == [71] and latent_span(71) == (65, 72)
