"""Adversarial losses as strategy objects.

Every strategy takes raw discriminator scores (logits, any shape: N x 1 for a global D, N x 1 x 30 x 30 for a
PatchGAN) and returns a 0-dim tensor that averages over all elements, so a patch discriminator gives each patch the
same target, as the pix2pix reference does. Scores are never passed through a sigmoid before a log: the
probabilistic losses use ``binary_cross_entropy_with_logits`` / ``logsigmoid``, which are stable for logits of
+-100 and safe under CUDA autocast (``F.binary_cross_entropy`` is not).

Strategies that need more than scores use the two hooks the GAN loop calls on every discriminator step:

- :meth:`AdversarialLoss.penalty` is added to the discriminator loss (the WGAN-GP gradient penalty);
- :meth:`AdversarialLoss.after_discriminator_step` runs after the discriminator's optimizer stepped (the WGAN
  weight clipping).

Computations run in float32 whatever the autocast dtype: ``autocast`` leaves these element-wise ops alone only for
some of them, so the scores are upcast once here.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lightning_gan.objectives.gradients import input_gradients


class AdversarialLoss(nn.Module):
    """Base class: the contract of a loss strategy. Subclasses implement the two loss methods."""

    #: Whether scores are logits of a probability (then ``probability`` maps them through a sigmoid for logging).
    probabilistic: bool = False

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        """Loss the discriminator minimises, from its scores on real and on generated samples."""
        raise NotImplementedError

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        """Loss the generator minimises, from the discriminator's scores on generated samples."""
        raise NotImplementedError

    def penalty(
        self,
        critic: Callable[[Tensor], Tensor],
        real: Tensor,
        fake: Tensor,
        grad_scale: float = 1.0,
    ) -> Tensor | None:
        """Extra discriminator loss term, or ``None`` (the default) when the strategy has none.

        Args:
            critic: maps a batch of samples to scores; for a conditional model the loop closes over the condition,
                so the condition is attached unchanged to whatever sample is scored.
            real: the real samples of this step.
            fake: generated samples of this step, detached.
            grad_scale: the AMP gradient scaler's current scale (1.0 without a scaler). A penalty built from
                ``torch.autograd.grad`` must scale its output by it and divide the gradients by it, so that fp16
                gradients do not underflow (PyTorch AMP recipe "gradient penalty").
        """
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Called after each discriminator optimizer step (e.g. to clip its weights). Default: nothing."""

    def probability(self, scores: Tensor) -> Tensor:
        """The mean discriminator output in the unit the strategy reasons in: a probability for the probabilistic
        losses, the raw score otherwise. Used for the ``train/d_real`` and ``train/d_fake`` logs."""
        scores = scores.detach().float()
        return (torch.sigmoid(scores) if self.probabilistic else scores).mean()


def check_loss(loss: nn.Module) -> None:
    """Fail at setup when a loss strategy lacks a method the objectives call.

    Why: :class:`AdversarialLoss`'s loss methods raise ``NotImplementedError`` with no message, at the first training
    step; a strategy that does not derive from it fails there with an ``AttributeError``.

    Raises:
        ValueError: naming the class and the methods it must define.
    """
    required = {
        "discriminator_loss": "discriminator_loss(real_scores, fake_scores) -> Tensor",
        "generator_loss": "generator_loss(fake_scores) -> Tensor",
    }
    cls = type(loss)
    missing = [
        signature
        for name, signature in required.items()
        if not callable(getattr(cls, name, None)) or getattr(cls, name) is getattr(AdversarialLoss, name)
    ]
    if missing:
        raise ValueError(
            f"The loss strategy {cls.__module__}.{cls.__qualname__} does not define {' and '.join(missing)}: a loss "
            "strategy derives from lightning_gan.objectives.AdversarialLoss and defines both loss methods "
            "(penalty, after_discriminator_step and probability are optional)"
        )


def _bce(scores: Tensor, target: float) -> Tensor:
    scores = scores.float()
    return F.binary_cross_entropy_with_logits(scores, torch.full_like(scores, target))


def _check_label_smoothing(value: float) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Expected `label_smoothing` in [0, 1), got {value!r}.")
    return value


class MinimaxLoss(AdversarialLoss):
    """The saturating minimax game of Goodfellow et al. 2014 (arXiv 1406.2661).

    .. math::
        L_D = \\mathrm{BCE}(D(x), 1 - s) + \\mathrm{BCE}(D(G(z)), 0), \\qquad L_G = \\log(1 - \\sigma(D(G(z))))

    ``L_G`` saturates when D confidently rejects fakes, which is why :class:`NonSaturatingLoss` exists; keep this one
    for reproducing the original objective. ``log(1 - sigmoid(l))`` is computed as ``logsigmoid(-l)``.

    Args:
        label_smoothing: one-sided smoothing ``s`` of the real target (Salimans et al. 2016 use 0.1); 0 = none.
    """

    probabilistic = True

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return _bce(real_scores, 1.0 - self.label_smoothing) + _bce(fake_scores, 0.0)

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return F.logsigmoid(-fake_scores.float()).mean()


class NonSaturatingLoss(MinimaxLoss):
    """The "modified minimax" generator loss of Goodfellow et al. 2014, pix2pix's ``gan_mode="vanilla"``.

    .. math::
        L_D = \\mathrm{BCE}(D(x), 1 - s) + \\mathrm{BCE}(D(G(z)), 0), \\qquad L_G = \\mathrm{BCE}(D(G(z)), 1)

    The generator target is never smoothed.
    """

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return _bce(fake_scores, 1.0)


class LeastSquaresLoss(AdversarialLoss):
    """Least squares GAN (Mao et al. 2017, arXiv 1611.04076), used by SEGAN (Pascual et al. 2017).

    .. math::
        L_D = \\tfrac12 \\overline{(D(x) - a)^2} + \\tfrac12 \\overline{(D(G(z)) - b)^2}, \\qquad
        L_G = \\tfrac12 \\overline{(D(G(z)) - a)^2}

    The 1/2 factors follow the LSGAN paper; SEGAN's TF code omits them, which halves the L1 weight relative to the
    adversarial term (santi-pdp/segan c88a08d ``model.py``; deNsuh/segan-pytorch 938b6c8 keeps them).

    Args:
        real_label: target ``a`` for real samples (and the generator's target).
        fake_label: target ``b`` for generated samples.
    """

    def __init__(self, real_label: float = 1.0, fake_label: float = 0.0) -> None:
        super().__init__()
        self.real_label = real_label
        self.fake_label = fake_label

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        real = (real_scores.float() - self.real_label).square().mean()
        fake = (fake_scores.float() - self.fake_label).square().mean()
        return 0.5 * (real + fake)

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return 0.5 * (fake_scores.float() - self.real_label).square().mean()


class WassersteinLoss(AdversarialLoss):
    """Wasserstein GAN (Arjovsky et al. 2017, arXiv 1701.07875) with weight clipping.

    .. math::
        L_D = \\overline{D(G(z))} - \\overline{D(x)}, \\qquad L_G = -\\overline{D(G(z))}

    After every critic step each critic parameter is clamped to ``[-clip_value, clip_value]`` (0.01 in the paper,
    which also uses RMSprop 5e-5 and 5 critic steps per generator step: set ``n_critic: 5`` on the GAN module).

    Args:
        clip_value: the clipping bound ``c``; ``None`` disables clipping.
    """

    def __init__(self, clip_value: float | None = 0.01) -> None:
        super().__init__()
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"Expected `clip_value` > 0 or None, got {clip_value!r}.")
        self.clip_value = clip_value

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.float().mean() - real_scores.float().mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.float().mean()

    @torch.no_grad()
    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        if self.clip_value is None:
            return
        for p in discriminator.parameters():
            p.clamp_(-self.clip_value, self.clip_value)


class WassersteinGPLoss(WassersteinLoss):
    """WGAN with the two-sided gradient penalty of Gulrajani et al. 2017 (arXiv 1704.00028).

    .. math::
        L_D = \\overline{D(G(z))} - \\overline{D(x)} + \\lambda\\, \\overline{(\\lVert \\nabla_{\\hat x} D(\\hat x)
        \\rVert_2 - 1)^2}, \\quad \\hat x = \\epsilon x + (1 - \\epsilon) G(z),\\ \\epsilon \\sim U[0, 1]

    One epsilon per sample, broadcast over the other dimensions. No weight clipping. The paper uses lambda = 10,
    Adam(1e-4, betas (0, 0.9)) and 5 critic steps; it also advises against batch norm in the critic.

    Args:
        penalty_weight: lambda.
    """

    def __init__(self, penalty_weight: float = 10.0) -> None:
        super().__init__(clip_value=None)
        self.penalty_weight = penalty_weight

    def penalty(
        self,
        critic: Callable[[Tensor], Tensor],
        real: Tensor,
        fake: Tensor,
        grad_scale: float = 1.0,
    ) -> Tensor:
        eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
        mixed = eps * real.detach() + (1.0 - eps) * fake.detach()
        grads = input_gradients(critic, mixed, grad_scale)
        return self.penalty_weight * (grads.norm(2, dim=1) - 1.0).square().mean()


class HingeLoss(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017, arXiv 1705.02894; Miyato et al. 2018).

    .. math::
        L_D = \\overline{\\max(0, 1 - D(x))} + \\overline{\\max(0, 1 + D(G(z)))}, \\qquad L_G = -\\overline{D(G(z))}
    """

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1.0 - real_scores.float()).mean() + F.relu(1.0 + fake_scores.float()).mean()

    def generator_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.float().mean()
