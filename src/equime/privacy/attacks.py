"""FGSM and PGD against a recogniser of this project, written plainly in PyTorch.

The perturbation lives in the pixel space of the RGB frames ([0, 1], what a video file holds), and
the gradient flows back through `mer.clips.preprocess` (grayscale, resize, z-score; used as its
two halves `gray_resize` and `finish`) into the model, so the protected frames fool the
recogniser as it really reads a video, not a pre-processed tensor. Untargeted attacks push away
from the true class (ascend its cross-entropy); targeted ones pull towards a chosen class
(descend the target's cross-entropy).

A video is stored as 8-bit levels, so `quantize` rounds the result to levels and keeps the
difference within eps *in levels* (eps 4/255 -> at most 4 levels per pixel and channel).

The recognisers read grey frames, a positive mix of R, G and B, so the gradient has the same sign
in the three channels of a pixel: signed steps change R, G and B alike, a change of brightness
(luma) only. PGD starts from a random point of the eps-ball by default (Madry et al. 2018), with
noise drawn per clip from the seed and the clip's key (not per batch, so a clip's protection does
not depend on which clips share its batch), and `restarts` > 1 keeps, per clip, the restart with
the highest loss.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from equime.errors import EquimeError
from equime.mer.clips import finish, gray_resize

MAX_EPS = 64 / 255  # beyond this a perturbation is plainly visible: not a privacy filter
MAX_STEPS = 1000
MAX_RESTARTS = 50

# (spec, model, clean frames, labels, n_frames, size, per-clip seeds) -> adversarial frames
Attack = Callable[
    ["AttackSpec", torch.nn.Module, torch.Tensor, torch.Tensor, int, int, list[int]],
    torch.Tensor,
]
ATTACKS: dict[str, Attack] = {}


def register_attack(name: str) -> Callable[[Attack], Attack]:
    def wrap(fn: Attack) -> Attack:
        ATTACKS[name] = fn
        return fn

    return wrap


def parse_amount(text: str | float, what: str = "eps") -> float:
    """'4/255' -> 0.01568..., '0.02' -> 0.02; a clear error for anything else."""
    if isinstance(text, (int, float)):
        return float(text)
    raw = str(text).strip()
    try:
        if "/" in raw:
            top, bottom = raw.split("/", 1)
            value = float(top) / float(bottom)
        else:
            value = float(raw)
    except (ValueError, ZeroDivisionError):
        raise EquimeError(f"--{what} {text!r}: not a number (write e.g. 4/255 or 0.0157)") from None
    if not math.isfinite(value):
        raise EquimeError(f"--{what} {text!r}: not a finite number")
    return value


@dataclass(frozen=True)
class AttackSpec:
    """What to do to every video: method, budget and direction (target None: untargeted)."""

    method: str = "pgd"
    eps: float = 4 / 255
    steps: int = 10
    step_size: float | None = None  # PGD; default 2.5 * eps / steps (Madry et al.). FGSM: eps
    target: int | None = None
    random_start: bool = True  # PGD from a random point of the eps-ball (Madry et al.)
    restarts: int = 1  # PGD runs from different random starts; the strongest per clip is kept
    seed: int = 0
    smooth: float = 0.0  # > 0: also attack a blurred view (sigma in input pixels), see _views

    @property
    def alpha(self) -> float:
        """The step: FGSM always takes one step of exactly eps."""
        if self.method == "fgsm":
            return self.eps
        return self.step_size if self.step_size is not None else 2.5 * self.eps / self.steps

    @property
    def levels(self) -> int:
        """The budget in 8-bit levels (what the written video can hold)."""
        return math.floor(self.eps * 255 + 1e-6)

    def validate(self) -> AttackSpec:
        if self.method not in ATTACKS:
            raise EquimeError(f"--attack {self.method!r}: known attacks: {', '.join(ATTACKS)}")
        if not 0 < self.eps <= MAX_EPS:
            raise EquimeError(
                f"--eps {self.eps:.6g} out of range: must be in (0, {MAX_EPS:.4f}] "
                f"(0 to 64/255 of the pixel range)"
            )
        if self.levels < 1:
            raise EquimeError(
                f"--eps {self.eps:.6g} is below one 8-bit level (1/255): a video cannot hold it"
            )
        if self.method == "pgd" and not 1 <= self.steps <= MAX_STEPS:
            raise EquimeError(f"--steps {self.steps} out of range: must be 1 to {MAX_STEPS}")
        if not 0 <= self.smooth <= 10:
            raise EquimeError(f"--smooth {self.smooth:.6g} out of range: must be 0 to 10 pixels")
        if self.method == "fgsm" and self.step_size is not None and self.step_size != self.eps:
            raise EquimeError(
                f"--step-size {self.step_size:.6g}: FGSM takes one step of exactly eps "
                f"({self.eps:.6g}); a step size is for PGD"
            )
        if not 1 <= self.restarts <= MAX_RESTARTS:
            raise EquimeError(
                f"--restarts {self.restarts} out of range: must be 1 to {MAX_RESTARTS}"
            )
        if self.restarts > 1 and not self.random_start:
            raise EquimeError("--restarts needs the random start (drop --no-random-start)")
        if self.step_size is not None and not 0 < self.step_size <= self.eps:
            raise EquimeError(
                f"--step-size {self.step_size:.6g} out of range: must be in (0, eps={self.eps:.6g}]"
            )
        return self


def objective(
    logits: torch.Tensor, labels: torch.Tensor, target: int | None, reduction: str = "sum"
) -> torch.Tensor:
    """What the attack ascends: the true classes' cross-entropy, or minus the target's.

    Summed over the batch: each clip's gradient is its own (eval mode, per-clip z-scoring);
    `reduction="none"` gives each clip's value (to pick the best restart)."""
    if target is None:
        return F.cross_entropy(logits, labels, reduction=reduction)
    return -F.cross_entropy(logits, torch.full_like(labels, target), reduction=reduction)


def sample_seed(seed: int, key: str, restart: int = 0) -> int:
    """A clip's own random stream: from the run seed, the clip's key and the restart."""
    digest = hashlib.sha256(f"{seed}|{key}|{restart}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _blur(gray: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, T, S, S) grayscale frames (reflect padding)."""
    radius = max(1, math.ceil(2.5 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=gray.dtype, device=gray.device)
    kernel = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    b, f, h, w = gray.shape
    planes = F.pad(gray.reshape(b * f, 1, h, w), (radius,) * 4, mode="reflect")
    planes = F.conv2d(F.conv2d(planes, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    return planes.reshape(b, f, h, w)


def _views(spec: AttackSpec, x: torch.Tensor, size: int) -> list[torch.Tensor]:
    """The frames as the recogniser reads them (grayscale at its input size) and, with `smooth`,
    the same blurred (sigma in input pixels): attacking both (an expectation over
    transformations) puts part of the perturbation into low spatial frequencies, which lossy
    codecs keep, instead of pixel noise, which they remove. Grayscale conversion is linear, so
    blurring after it equals blurring the RGB frames, at a fraction of the cost."""
    gray = gray_resize(x, size)
    return [gray] if spec.smooth <= 0 else [gray, _blur(gray, spec.smooth)]


def _objective(
    spec: AttackSpec,
    model: torch.nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    n_frames: int,
    size: int,
    reduction: str = "sum",
) -> torch.Tensor:
    # preprocess = finish(gray_resize(.)): the recogniser's own preprocessing, split in two
    return sum(
        objective(model(finish(view, n_frames)), labels, spec.target, reduction=reduction)
        for view in _views(spec, x, size)
    )


def _gradient(
    spec: AttackSpec,
    model: torch.nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    n_frames: int,
    size: int,
) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(_objective(spec, model, x, labels, n_frames, size), x)
    return grad


@register_attack("fgsm")
def fgsm(
    spec: AttackSpec,
    model: torch.nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    n_frames: int,
    size: int,
    seeds: list[int],
) -> torch.Tensor:
    """Fast Gradient Sign Method (Goodfellow et al. 2015): one signed step of size eps."""
    grad = _gradient(spec, model, x, labels, n_frames, size)
    return (x + spec.alpha * grad.sign()).clamp(0, 1).detach()


@register_attack("pgd")
def pgd(
    spec: AttackSpec,
    model: torch.nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    n_frames: int,
    size: int,
    seeds: list[int],
) -> torch.Tensor:
    """Projected Gradient Descent (Madry et al. 2018): signed steps, projected back into the
    eps-ball around the clean frames and into [0, 1] after each; from a random start per clip
    (uniform in the ball), repeated `restarts` times, keeping each clip's strongest result."""
    best, best_loss = x.clone(), None
    for restart in range(spec.restarts):
        adv = x.clone()
        if spec.random_start:
            # grey noise (one value for R, G and B): the recognisers read grey, so the start
            # lies in the same brightness-only subspace as the signed steps
            noise = torch.stack(
                [
                    torch.rand(
                        (*x.shape[1:-1], 1),
                        generator=torch.Generator().manual_seed(sample_seed(s, "", restart)),
                        dtype=x.dtype,
                    )
                    for s in seeds
                ]
            )
            adv = (x + spec.eps * (noise.to(x.device) * 2 - 1)).clamp(0, 1)
        for _ in range(spec.steps):
            grad = _gradient(spec, model, adv, labels, n_frames, size)
            adv = adv + spec.alpha * grad.sign()
            adv = torch.min(torch.max(adv, x - spec.eps), x + spec.eps).clamp(0, 1).detach()
        if spec.restarts == 1:
            return adv
        with torch.no_grad():
            loss = _objective(spec, model, adv, labels, n_frames, size, reduction="none")
        better = torch.ones_like(loss, dtype=torch.bool) if best_loss is None else loss > best_loss
        best[better] = adv[better]
        best_loss = loss if best_loss is None else torch.where(better, loss, best_loss)
    return best


def quantize(clean: np.ndarray, adversarial: torch.Tensor, levels: int) -> np.ndarray:
    """Adversarial frames in [0, 1] -> uint8, within `levels` of the clean uint8 frames."""
    adv = adversarial.detach().cpu().numpy() * 255.0
    delta = np.clip(np.rint(adv - clean.astype(np.float64)), -levels, levels)
    return np.clip(clean.astype(np.int16) + delta.astype(np.int16), 0, 255).astype(np.uint8)


def perturb(
    spec: AttackSpec,
    model: torch.nn.Module,
    clips: np.ndarray,
    labels: list[int] | np.ndarray,
    n_frames: int,
    size: int,
    device: str | torch.device = "cpu",
    keys: Sequence[str] | None = None,
) -> np.ndarray:
    """Protect a batch of equal-shape clips: (B, T, H, W, 3) uint8 -> perturbed uint8 clips.

    `keys` name the clips (their ids): a clip's random start depends on the seed and its key
    only (default: its position in the batch)."""
    keys = [str(k) for k in (keys if keys is not None else range(len(clips)))]
    if len(keys) != len(clips):
        raise ValueError(f"{len(keys)} keys for {len(clips)} clips")
    seeds = [sample_seed(spec.seed, key) for key in keys]
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(device).float().div(255.0)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=device)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    adv = ATTACKS[spec.method](spec, model, x, y, n_frames, size, seeds)
    return quantize(clips, adv, spec.levels)
