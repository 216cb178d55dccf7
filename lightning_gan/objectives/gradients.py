"""The one core of every gradient penalty (WGAN-GP, R1, R2): D's gradient with respect to its input, differentiable,
AMP-safe."""

from collections.abc import Callable

import torch
from torch import Tensor


def input_gradients(critic: Callable[[Tensor], Tensor], x: Tensor, grad_scale: float = 1.0) -> Tensor:
    """``d sum(critic(x)) / d x`` per sample, flattened to N x (C*H*W), in float32, with its graph (``create_graph``)
    so that D's backward differentiates the penalty.

    Under mixed precision the critic's forward runs under the caller's autocast and ``torch.autograd.grad`` outside
    it, as PyTorch's AMP "gradient penalty" recipe does: the scores are multiplied by the AMP scaler's
    ``grad_scale`` before differentiating (so fp16 gradients do not underflow) and the gradients divided by it after.

    D's score is summed over its outputs, so a patch discriminator's gradient is that of the sum of its patch logits.
    """
    x = x.detach().requires_grad_(True)
    scores = critic(x)
    with torch.autocast(x.device.type, enabled=False):
        (grads,) = torch.autograd.grad(scores.float().sum() * grad_scale, x, create_graph=True)
    return grads.float().flatten(1) / grad_scale


__all__ = ["input_gradients"]
