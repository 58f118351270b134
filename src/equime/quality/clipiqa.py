"""CLIP-IQA (Wang, Chan and Loy, AAAI 2023) as piq defines it: the antonym prompts
"Good photo." / "Bad photo.", cosine similarity of the image embedding to each, times 100, softmax
over the pair; the score is the probability of "Good photo." (higher is better).

Any CLIP model that transformers can load (`CLIPModel` + its tokenizer) from a local folder or a
hub id works; the model and the two prompt embeddings are built once per process, frames go
through in batches, normalised with OpenAI's CLIP mean and std as piq does (a grey frame is
broadcast over the three channels before that, as piq's normalisation broadcasts it).

piq does not resize: its ResNet-50 CLIP drops the attention pool's position embedding, so any
frame size goes in as it is. Definition `paper` keeps the frame's own size too: the ViT's patch
position embeddings are interpolated to the frame's grid (transformers'
`interpolate_pos_encoding`), so SAMM's or SMIC's non-square frames are not distorted. Definition
`exact` resizes to the model's square input size (bicubic, antialiased), the size the ViT was
trained at. piq's RN50 weights are a download; transformers has no ResNet CLIP, so numbers from a
ViT backbone are not equal to the paper's whichever definition is used (the report says which
model produced them).

piq's own backbone is supported too: a `--clip-model` folder holding piq's downloads `RN50.pt`
(OpenAI's ResNet-50 CLIP) and `clipiqa_tokens.pt` (the two prompts, tokenised) is run by
`quality.clip_resnet` exactly as piq's `CLIPIQA` runs it (no position embedding in the attention
pool, the model's own logit scale): with those weights, `paper` is piq's CLIP-IQA.

Without weights the metric is unavailable (with the reason); it never makes a number up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from equime.quality.base import MetricUnavailable, QualityOptions, register_metric, sample_indices

PROMPTS = ("Good photo.", "Bad photo.")
LOGIT_SCALE = 100.0  # piq and the CLIP-IQA paper use CLIP's trained scale, fixed at 100
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
FRAMES_PER_BATCH = 16
NO_WEIGHTS = (
    "no CLIP weights: pass --clip-model PATH (a folder with piq's RN50.pt and clipiqa_tokens.pt, "
    "or a transformers CLIPModel and its tokenizer, e.g. a saved openai/clip-vit-base-patch32); "
    "nothing is downloaded at run time"
)


def _features(output: Any) -> Any:
    """transformers 5 returns a model output whose pooler_output is the projection; 4.x a tensor."""
    return output if hasattr(output, "norm") else output.pooler_output


class ClipIQA:
    name = "clipiqa"

    def __init__(self, source: str, native: bool = False) -> None:
        self.native = native
        import torch

        from equime.quality import clip_resnet

        self.mean = torch.tensor(OPENAI_CLIP_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(OPENAI_CLIP_STD, dtype=torch.float32).view(1, 3, 1, 1)
        self.backbone = "transformers"
        if clip_resnet.is_piq_folder(source):
            try:
                self.rn, tokens = clip_resnet.load(source)
            except (OSError, RuntimeError, ValueError, KeyError) as exc:
                raise MetricUnavailable(f"cannot load piq's CLIP from {source}: {exc}") from exc
            self.backbone = "piq RN50"
            self.size = self.rn.resolution
            self.logit_scale = float(self.rn.logit_scale.detach().exp())
            with torch.inference_mode():
                anchors = self.rn.encode_text(tokens).float()
            self.anchors = anchors / anchors.norm(dim=-1, keepdim=True)
            return
        self.logit_scale = LOGIT_SCALE
        try:
            from transformers import AutoTokenizer, CLIPModel
        except ImportError as exc:
            raise MetricUnavailable(f"transformers is not installed ({exc})") from exc
        try:
            self.model = CLIPModel.from_pretrained(source).eval()
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MetricUnavailable(f"cannot load CLIP model {source!r}: {first}") from exc
        self.size = int(self.model.config.vision_config.image_size)
        with torch.inference_mode():
            text = tokenizer(list(PROMPTS), padding=True, return_tensors="pt")
            anchors = _features(self.model.get_text_features(**text)).float()
        self.anchors = anchors / anchors.norm(dim=-1, keepdim=True)

    def scores(self, frames: np.ndarray) -> np.ndarray:
        """P("Good photo.") for each (H, W, C) uint8 frame."""
        import torch
        import torch.nn.functional as F

        out = []
        with torch.inference_mode():
            for start in range(0, len(frames), FRAMES_PER_BATCH):
                x = torch.from_numpy(np.ascontiguousarray(frames[start : start + FRAMES_PER_BATCH]))
                x = x.permute(0, 3, 1, 2).float() / 255.0
                if x.shape[1] == 1:
                    x = x.expand(-1, 3, -1, -1)
                if not self.native:
                    x = F.interpolate(
                        x, size=(self.size, self.size), mode="bicubic", antialias=True
                    ).clamp(0, 1)
                x = (x - self.mean) / self.std
                if self.backbone == "piq RN50":
                    feats = self.rn.encode_image(x).float()
                else:
                    feats = self.model.get_image_features(
                        pixel_values=x, interpolate_pos_encoding=self.native
                    )
                    feats = _features(feats).float()
                feats = feats / feats.norm(dim=-1, keepdim=True)
                probs = (self.logit_scale * feats @ self.anchors.T).softmax(dim=-1)
                out.append(probs[:, 0].numpy())
        return np.concatenate(out) if out else np.zeros(0)

    def __call__(self, frames: np.ndarray, options: QualityOptions) -> dict[str, float]:
        values = self.scores(frames[sample_indices(len(frames), options.every)])
        return {"clipiqa": float(values.mean()), "clipiqa_backbone": self.backbone}


@register_metric("clipiqa")
def _clipiqa(options: QualityOptions) -> ClipIQA:
    if not options.clip_model:
        raise MetricUnavailable(NO_WEIGHTS)
    return ClipIQA(options.clip_model, native=options.paper)
