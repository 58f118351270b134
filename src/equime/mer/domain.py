"""Domain-adversarial training (DANN: Ganin and Lempitsky, "Unsupervised Domain Adaptation by
Backpropagation", ICML 2015), as MiE-X trains on simulated clips with real ones (Liu et al.,
"Synthetic Micro-Expressions with Action Units", 2022; github.com/liuyvchi/MiE-X): a small
discriminator tells generated from real clips by the recogniser's features, through a gradient
reversal layer, so the features learn to hide where a clip comes from.

Any registered model works: the features are the input of its last `nn.Linear` (the classifier),
caught by a forward hook, so no model file changes.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from equime.errors import EquimeError


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.weight = weight
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.weight * grad, None


def reverse_gradient(x: torch.Tensor, weight: float) -> torch.Tensor:
    """Identity forward; the gradient times -weight backward."""
    return _Reverse.apply(x, weight)


class DomainHead(nn.Module):
    """The discriminator on the features of `model`'s classifier, and the hook that feeds it."""

    def __init__(self, model: nn.Module, weight: float, hidden: int = 32) -> None:
        super().__init__()
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise EquimeError(f"{type(model).__name__} has no linear classifier to adapt")
        self.weight = weight
        self.features: torch.Tensor | None = None
        self._hook = linears[-1].register_forward_hook(self._catch)
        self.net = nn.Sequential(
            nn.Linear(linears[-1].in_features, hidden), nn.ReLU(), nn.Linear(hidden, 1)
        )

    def _catch(self, _module: nn.Module, inputs: tuple[torch.Tensor, ...], _out: Any) -> None:
        self.features = inputs[0].flatten(1)

    def remove(self) -> None:
        """Unhook from the model (after training: the saved model is the plain recogniser)."""
        self._hook.remove()
        self.features = None

    def loss(self, domain: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy of the discriminator on the last forward's features (1 =
        generated, 0 = real), its gradient reversed into the recogniser."""
        if self.features is None:
            raise EquimeError("domain head: no forward pass yet")
        logit = self.net(reverse_gradient(self.features, self.weight)).squeeze(1)
        return nn.functional.binary_cross_entropy_with_logits(logit, domain)
