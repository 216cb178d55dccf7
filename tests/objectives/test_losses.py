"""Loss strategies against hand-computed values (plain Python math, independent of torch.nn.functional)."""

import math

import pytest
import torch
from torch import nn

from lightning_gan.objectives.losses import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)

REAL = [2.0, -1.0, 0.5, 3.0]
FAKE = [0.5, -3.0, -0.25, 1.5]


def softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def bce(logit: float, target: float) -> float:
    return max(logit, 0.0) - logit * target + math.log1p(math.exp(-abs(logit)))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


EXPECTED = {
    # strategy: (discriminator loss, generator loss)
    "minimax": (mean([bce(r, 1) for r in REAL]) + mean([bce(f, 0) for f in FAKE]), mean([-softplus(f) for f in FAKE])),
    "minimax_smooth": (
        mean([bce(r, 0.9) for r in REAL]) + mean([bce(f, 0) for f in FAKE]),
        mean([-softplus(f) for f in FAKE]),
    ),
    "nonsaturating": (
        mean([bce(r, 1) for r in REAL]) + mean([bce(f, 0) for f in FAKE]),
        mean([bce(f, 1) for f in FAKE]),
    ),
    "nonsaturating_smooth": (
        mean([bce(r, 0.9) for r in REAL]) + mean([bce(f, 0) for f in FAKE]),
        mean([bce(f, 1) for f in FAKE]),  # G is never smoothed
    ),
    "lsgan": (
        0.5 * mean([(r - 1) ** 2 for r in REAL]) + 0.5 * mean([f**2 for f in FAKE]),
        0.5 * mean([(f - 1) ** 2 for f in FAKE]),
    ),
    "lsgan_labels": (
        0.5 * mean([(r - 0.9) ** 2 for r in REAL]) + 0.5 * mean([(f + 1) ** 2 for f in FAKE]),
        0.5 * mean([(f - 0.9) ** 2 for f in FAKE]),
    ),
    "wgan": (mean(FAKE) - mean(REAL), -mean(FAKE)),
    "hinge": (
        mean([max(0.0, 1 - r) for r in REAL]) + mean([max(0.0, 1 + f) for f in FAKE]),
        -mean(FAKE),
    ),
}

STRATEGIES = {
    "minimax": MinimaxLoss(),
    "minimax_smooth": MinimaxLoss(label_smoothing=0.1),
    "nonsaturating": NonSaturatingLoss(),
    "nonsaturating_smooth": NonSaturatingLoss(label_smoothing=0.1),
    "lsgan": LeastSquaresLoss(),
    "lsgan_labels": LeastSquaresLoss(real_label=0.9, fake_label=-1.0),
    "wgan": WassersteinLoss(),
    "hinge": HingeLoss(),
}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_values_match_hand_computation(name: str) -> None:
    loss = STRATEGIES[name]
    real, fake = torch.tensor(REAL, dtype=torch.float64), torch.tensor(FAKE, dtype=torch.float64)
    d, g = loss.discriminator_loss(real, fake), loss.generator_loss(fake)
    assert d.dim() == 0 and g.dim() == 0
    assert d.item() == pytest.approx(EXPECTED[name][0], rel=1e-6)
    assert g.item() == pytest.approx(EXPECTED[name][1], rel=1e-6)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_any_score_shape_gives_the_same_mean(name: str) -> None:
    """A PatchGAN's N x 1 x H x W map is averaged over every element, like a flat vector."""
    loss = STRATEGIES[name]
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    flat = loss.discriminator_loss(real, fake), loss.generator_loss(fake)
    patches = (
        loss.discriminator_loss(real.view(1, 1, 2, 2), fake.view(1, 1, 2, 2)),
        loss.generator_loss(fake.view(1, 1, 2, 2)),
    )
    torch.testing.assert_close(flat, patches)


@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_finite_for_extreme_logits_in_low_precision(name: str, dtype: torch.dtype) -> None:
    loss = STRATEGIES[name]
    extreme = torch.tensor([100.0, -100.0, 60.0, -60.0], dtype=dtype)
    for real, fake in [(extreme, extreme.flip(0)), (extreme, extreme)]:
        d, g = loss.discriminator_loss(real, fake), loss.generator_loss(fake)
        assert torch.isfinite(d) and torch.isfinite(g)
        assert d.dtype == torch.float32 or dtype == torch.float64


def test_probabilistic_losses_saturate_exactly_not_to_inf() -> None:
    """log(1 - sigmoid(100)) = -100 (to 1e-6), where a sigmoid-then-log implementation returns -inf."""
    assert MinimaxLoss().generator_loss(torch.tensor([100.0])).item() == pytest.approx(-100.0)
    assert NonSaturatingLoss().generator_loss(torch.tensor([-100.0])).item() == pytest.approx(100.0)
    assert MinimaxLoss().discriminator_loss(torch.tensor([-100.0]), torch.tensor([100.0])).item() == pytest.approx(
        200.0
    )


def test_wasserstein_clips_every_discriminator_parameter() -> None:
    net = nn.Linear(8, 1)
    nn.init.normal_(net.weight, std=1.0)
    WassersteinLoss(clip_value=0.01).after_discriminator_step(net)
    assert all(p.abs().max() <= 0.01 for p in net.parameters())
    assert any((p.abs() == 0.01).any() for p in net.parameters())
    untouched = nn.Linear(8, 1)
    before = [p.clone() for p in untouched.parameters()]
    WassersteinLoss(clip_value=None).after_discriminator_step(untouched)
    assert all(torch.equal(a, b) for a, b in zip(before, untouched.parameters(), strict=True))


@pytest.mark.parametrize("grad_scale", [1.0, 65536.0])
def test_gradient_penalty_of_a_linear_critic(grad_scale: float) -> None:
    """For D(x) = w . x the input gradient is w everywhere, so the penalty is lambda * (|w| - 1)^2 exactly,
    whatever the AMP scale (the scale multiplies the output and divides the gradients)."""
    w = torch.tensor([3.0, 4.0])  # |w| = 5

    def critic(x: torch.Tensor) -> torch.Tensor:
        return x @ w

    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    penalty = WassersteinGPLoss(penalty_weight=10.0).penalty(critic, real, fake, grad_scale=grad_scale)
    assert penalty.item() == pytest.approx(10.0 * (5.0 - 1.0) ** 2)


def test_gradient_penalty_is_differentiable_wrt_critic_parameters() -> None:
    critic = nn.Linear(2, 1)
    penalty = WassersteinGPLoss().penalty(critic, torch.randn(4, 2), torch.randn(4, 2))
    penalty.backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0


def test_no_penalty_by_default() -> None:
    assert HingeLoss().penalty(lambda x: x, torch.zeros(1), torch.zeros(1)) is None


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_label_smoothing_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match="label_smoothing"):
        NonSaturatingLoss(label_smoothing=bad)


def test_probability_for_logging() -> None:
    assert NonSaturatingLoss().probability(torch.zeros(3)).item() == pytest.approx(0.5)
    assert WassersteinLoss().probability(torch.tensor([1.0, 3.0])).item() == pytest.approx(2.0)
