"""OpenAI's ResNet CLIP (RN50) in plain PyTorch, as piq uses it for CLIP-IQA.

piq (photosynthesis-team/piq, `piq/feature_extractors/clip.py` and `piq/clip_iqa.py`) loads
OpenAI's `RN50.pt` (a TorchScript archive), rebuilds the model from its state dict and calls
`encode_image(x, pos_embedding=False)`: the attention pool's position embedding is left out, so a
frame of any size goes in as it is. The text anchors are CLIP's embeddings of piq's pre-tokenised
prompts "Good photo." / "Bad photo." (`clipiqa_tokens.pt`). Both files are downloads (piq release
v0.7.1; piq caches them in ~/.cache/clip); nothing is downloaded here: `--clip-model` names the
folder that holds them. The architecture below follows OpenAI's CLIP `model.py` (ModifiedResNet:
three-convolution stem, anti-aliased strided bottlenecks, QKV attention pool; a causal text
transformer) and reads every size from the state dict, as `build_model` does.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS = "RN50.pt"
TOKENS = "clipiqa_tokens.pt"


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                OrderedDict(
                    [
                        ("-1", nn.AvgPool2d(stride)),
                        ("0", nn.Conv2d(inplanes, planes * 4, 1, bias=False)),
                        ("1", nn.BatchNorm2d(planes * 4)),
                    ]
                )
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.avgpool(F.relu(self.bn2(self.conv2(out))))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class AttentionPool(nn.Module):
    """QKV attention over the mean token and the spatial tokens; no position embedding added
    (piq's `pos_embedding=False`), so any spatial size works."""

    def __init__(self, spacial_dim: int, embed_dim: int, heads: int, output_dim: int) -> None:
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.zeros(spacial_dim**2 + 1, embed_dim))
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim)
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(2).permute(2, 0, 1)  # (HW, N, C)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)
        out, _ = F.multi_head_attention_forward(
            query=x,
            key=x,
            value=x,
            embed_dim_to_check=x.shape[-1],
            num_heads=self.heads,
            q_proj_weight=self.q_proj.weight,
            k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight,
            in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None,
            bias_v=None,
            add_zero_attn=False,
            dropout_p=0.0,
            out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True,
            training=False,
            need_weights=False,
        )
        return out[0]


class ModifiedResNet(nn.Module):
    def __init__(
        self, layers: tuple[int, ...], output_dim: int, heads: int, resolution: int, width: int
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        inplanes = width
        stages = []
        for k, blocks in enumerate(layers):
            planes = width * 2**k
            stage = [Bottleneck(inplanes, planes, 1 if k == 0 else 2)]
            inplanes = planes * 4
            stage += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.attnpool = AttentionPool(resolution // 32, width * 32, heads, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)):
            x = F.relu(bn(conv(x)))
        x = self.avgpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [("c_fc", nn.Linear(width, width * 4)), ("c_proj", nn.Linear(width * 4, width))]
            )
        )
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        h = self.mlp.c_fc(self.ln_2(x))
        return x + self.mlp.c_proj(h * torch.sigmoid(1.702 * h))  # QuickGELU


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads) for _ in range(layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, mask)
        return x


class ResNetCLIP(nn.Module):
    """The parts of CLIP that CLIP-IQA uses: encode_image (no position embedding), encode_text,
    logit_scale. Parameter names are OpenAI's, so its state dict loads as it is."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        layers = tuple(
            len({k.split(".")[2] for k in state if k.startswith(f"visual.layer{b}.")})
            for b in (1, 2, 3, 4)
        )
        width = state["visual.layer1.0.conv1.weight"].shape[0]
        grid = round((state["visual.attnpool.positional_embedding"].shape[0] - 1) ** 0.5)
        embed = state["text_projection"].shape[1]
        text_width = state["ln_final.weight"].shape[0]
        text_layers = len({k.split(".")[2] for k in state if k.startswith("transformer.resblocks")})
        context = state["positional_embedding"].shape[0]
        self.visual = ModifiedResNet(layers, embed, width * 32 // 64, grid * 32, width)
        self.transformer = Transformer(text_width, text_layers, text_width // 64)
        self.token_embedding = nn.Embedding(state["token_embedding.weight"].shape[0], text_width)
        self.positional_embedding = nn.Parameter(torch.zeros(context, text_width))
        self.ln_final = nn.LayerNorm(text_width)
        self.text_projection = nn.Parameter(torch.zeros(text_width, embed))
        self.logit_scale = nn.Parameter(torch.zeros(()))
        mask = torch.full((context, context), float("-inf")).triu_(1)
        self.register_buffer("attn_mask", mask, persistent=False)
        skip = ("input_resolution", "context_length", "vocab_size")
        found = self.load_state_dict({k: v for k, v in state.items() if k not in skip}, False)
        missing = [k for k in found.missing_keys if not k.endswith("num_batches_tracked")]
        if missing or found.unexpected_keys:
            raise ValueError(
                f"not a ResNet CLIP state dict: missing {missing[:3]}, "
                f"unexpected {found.unexpected_keys[:3]}"
            )
        self.resolution = grid * 32
        self.float().eval()

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2), self.attn_mask).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)] @ self.text_projection


def is_piq_folder(source: str | Path) -> bool:
    folder = Path(source)
    return folder.is_dir() and (folder / WEIGHTS).is_file() and (folder / TOKENS).is_file()


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """OpenAI's TorchScript archive (what piq downloads), or a plain saved state dict."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the archive is TorchScript
            archive = torch.jit.load(str(path), map_location="cpu")
    except RuntimeError:
        return torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float() for k, v in archive.state_dict().items()}


def load(folder: str | Path) -> tuple[ResNetCLIP, torch.Tensor]:
    """The model and piq's prompt tokens from a folder holding RN50.pt and clipiqa_tokens.pt."""
    folder = Path(folder)
    model = ResNetCLIP(load_state(folder / WEIGHTS))
    tokens = torch.load(folder / TOKENS, map_location="cpu", weights_only=True).long()
    return model, tokens
