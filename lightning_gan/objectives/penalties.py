"""Gradient penalties on the discriminator that compose with any adversarial loss: R1 and R2.

Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?" (arXiv 1801.04406),
section 4.1: penalising D's gradient on the data makes simultaneous gradient descent converge locally for the
unregularised (non-saturating) GAN, where WGAN-GP and instance noise do not,

.. math::
    R_1 = \\frac{\\gamma}{2}\\, \\mathbb{E}_{x \\sim p_D} \\lVert \\nabla_x D(x) \\rVert^2, \\qquad
    R_2 = \\frac{\\gamma}{2}\\, \\mathbb{E}_{x \\sim p_G} \\lVert \\nabla_x D(x) \\rVert^2.

StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN", arXiv 1912.04958,
section 3.1) computes R1 only every ``k`` discriminator steps ("lazy regularization", k = 16) and multiplies it by
``k`` so the regulariser keeps its strength on average, which saves most of the double backward's cost.

Composition: the GAN module takes a list,
``model.penalties: [{class_path: lightning_gan.objectives.penalties.R1Penalty}]``,
and adds every penalty's term to D's loss on each D step, after the loss strategy's own
:meth:`~lightning_gan.objectives.losses.AdversarialLoss.penalty`. Any loss works (non-saturating + R1 is the StyleGAN2
recipe); :func:`check_penalties` refuses combinations that have no meaning.

D's score is summed over its outputs before differentiating, so a patch discriminator's gradient is that of the
sum of its patch logits (a global D: one logit per image, the paper's setting). The gradient is taken of the
critic as the loop calls it, so with differentiable augmentation it is the gradient with respect to the image
before augmentation, as in the StyleGAN2-ADA and DiffAugment reference code.
"""

from collections.abc import Callable, Sequence

from torch import Tensor, nn

from lightning_gan.objectives.gradients import input_gradients
from lightning_gan.objectives.losses import AdversarialLoss


def squared_gradient_norm(critic: Callable[[Tensor], Tensor], x: Tensor, grad_scale: float = 1.0) -> Tensor:
    """The batch mean of ``||d sum(critic(x_i)) / d x_i||^2``, differentiable for D's backward
    (:func:`~lightning_gan.objectives.gradients.input_gradients`, the core WGAN-GP shares)."""
    return input_gradients(critic, x, grad_scale).square().sum(dim=1).mean()


class GradientPenalty(nn.Module):
    """A penalty ``gamma / 2 * E ||grad_x D(x)||^2`` on some samples, optionally lazy.

    Args:
        gamma: the weight ``gamma`` (Mescheder et al. use 10 on CelebA/LSUN, 0.1-1 on small images; StyleGAN2
            scales it with the resolution).
        every: apply it only on every ``every``-th discriminator step, multiplied by ``every`` (StyleGAN2's lazy
            regularization, ``k = 16``); 1 = every step.

    Raises:
        ValueError: ``gamma`` < 0 or ``every`` < 1.
    """

    #: Which samples the gradient is taken at: ``"real"`` or ``"fake"``.
    samples: str = "real"
    #: Logged as ``train/penalty_<name>``.
    name: str = "gp"

    def __init__(self, gamma: float = 10.0, every: int = 1) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f"{type(self).__name__}: expected `gamma` >= 0, got {gamma!r}.")
        if every < 1:
            raise ValueError(
                f"{type(self).__name__}: expected `every` >= 1 (lazy regularization interval), got {every!r}."
            )
        self.gamma = gamma
        self.every = every

    def applies_at(self, step: int) -> bool:
        """Whether the penalty is computed at discriminator step ``step`` (counted from 0 over the run)."""
        return step % self.every == 0

    def forward(
        self, critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, grad_scale: float = 1.0, step: int = 0
    ) -> Tensor | None:
        """The penalty term for D step ``step``, or ``None`` on the steps a lazy penalty skips.

        Args:
            critic: samples -> D's scores (the loop closes over the condition and labels).
            real: this step's real samples.
            fake: this step's generated samples (detached).
            grad_scale: the AMP gradient scaler's scale, 1.0 without one (see :func:`squared_gradient_norm`).
            step: the index of this discriminator step in the run.
        """
        if not self.applies_at(step):
            return None
        x = real if self.samples == "real" else fake
        return (0.5 * self.gamma * self.every) * squared_gradient_norm(critic, x, grad_scale)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, every={self.every}"


class R1Penalty(GradientPenalty):
    """R1: the gradient penalty on real samples (Mescheder et al. 2018, eq. 9)."""

    samples = "real"
    name = "r1"


class R2Penalty(GradientPenalty):
    """R2: the gradient penalty on generated samples (Mescheder et al. 2018, eq. 10)."""

    samples = "fake"
    name = "r2"


def check_penalties(loss: AdversarialLoss, penalties: Sequence[nn.Module]) -> None:
    """Refuse combinations of a loss and penalties that have no meaning, with a message naming them.

    - A loss with a gradient penalty of its own (WGAN-GP): its two-sided penalty already constrains the same
      gradient to norm 1 between reals and fakes, and a second penalty pulling it to 0 on reals contradicts it.
    - The same penalty twice: one penalty with the summed ``gamma`` does the same.

    Raises:
        ValueError: on either; TypeError: an entry that is not a :class:`GradientPenalty`.
    """
    seen: set[type] = set()
    for penalty in penalties:
        if not isinstance(penalty, GradientPenalty):
            raise TypeError(
                f"penalties: expected lightning_gan.objectives.GradientPenalty objects (R1Penalty, R2Penalty), "
                f"got {type(penalty).__name__}."
            )
        if type(penalty) in seen:
            raise ValueError(f"model.penalties lists {type(penalty).__name__} twice; use one with the summed `gamma`.")
        seen.add(type(penalty))
    if penalties and type(loss).penalty is not AdversarialLoss.penalty:
        names = ", ".join(type(p).__name__ for p in penalties)
        raise ValueError(
            f"model.penalties [{names}] on model.loss {type(loss).__name__}, which has a gradient penalty of its own: "
            "its two-sided penalty already constrains D's gradient (to norm 1 between reals and fakes), and a second "
            "one pulling it towards 0 contradicts it. Use R1/R2 with a loss without a penalty (e.g. "
            "NonSaturatingLoss, HingeLoss, WassersteinLoss(clip_value: null)), or WassersteinGPLoss alone."
        )
