"""The one gradient-penalty core, against gradients known in closed form."""

import torch

from lightning_gan.objectives.gradients import input_gradients


def test_input_gradients_of_a_quadratic_critic_are_its_analytic_gradient() -> None:
    """critic(x) = sum_i a_i x_i^2 per sample: d/dx = 2 a x, flattened per sample, with a graph to differentiate."""
    torch.manual_seed(0)
    a = torch.rand(1, 2, 3, 3)
    x = torch.randn(4, 2, 3, 3)
    grads = input_gradients(lambda v: (a * v.square()).flatten(1).sum(1, keepdim=True), x, grad_scale=1024.0)
    torch.testing.assert_close(grads, (2 * a * x).flatten(1))
    assert grads.requires_grad and grads.dtype == torch.float32 and not x.requires_grad
