"""A tiny randomly initialised LTX-Video pipeline (the real diffusers classes, the shapes diffusers
uses in its own tests, a T5 tokenizer trained on the spot), saved like a hub checkpoint.

It draws noise, not faces, but it runs every code path a real checkpoint takes (loading, prompt
encoding, conditions, VAE decode) in seconds on a CPU: the tests and `scripts/gpu_check.sh` use
it, and a user can smoke-test an install with it before downloading 30 GB of weights.
"""

from __future__ import annotations

import json
from pathlib import Path

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
