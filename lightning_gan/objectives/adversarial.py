"""The real-versus-fake objective that DCGAN, pix2pix and SEGAN share: D scores real samples against G's, under an
adversarial loss strategy, with optional gradient penalties and differentiable augmentation of D's inputs.

:class:`~lightning_gan.objectives.Synthesis` (samples from noise) and
:class:`~lightning_gan.objectives.PairedTranslation` (a condition to its paired target) differ only in what a batch
holds and in G's extra terms.
"""

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from lightning_gan.nets.contract import check_channels, check_networks
from lightning_gan.nets.labels import check_labels, class_inputs
from lightning_gan.objectives.base import Batch, Loop, Objective, Terms, run_generator
from lightning_gan.objectives.losses import AdversarialLoss, NonSaturatingLoss, check_loss
from lightning_gan.objectives.penalties import GradientPenalty, check_penalties


class RealVersusFake(Objective):
    """D tells real samples from G's; G makes D score its samples as real.

    Args:
        loss: the adversarial loss strategy; default :class:`~lightning_gan.objectives.NonSaturatingLoss`.
        penalties: gradient penalties added to D's loss on every D step, whatever the loss (R1, R2, lazy or not).
        augment: differentiable augmentation applied to every input of D during training
            (:class:`~lightning_gan.objectives.DiffAugment`); default: none.
        discriminator_loss_weight: multiplies D's adversarial loss (pix2pix halves it "to slow down the rate at
            which D learns relative to G", Isola et al. 2017, arXiv 1611.07004, section 3.3).
        postprocess: applied to outputs, targets and conditions before metrics, samples and prediction writers
            (SEGAN: :class:`~lightning_gan.data.DeEmphasis`); default: identity.
    """

    def __init__(
        self,
        loss: AdversarialLoss | None = None,
        penalties: list[GradientPenalty] | None = None,
        augment: nn.Module | None = None,
        discriminator_loss_weight: float = 1.0,
        postprocess: nn.Module | None = None,
    ) -> None:
        super().__init__(postprocess)
        self.loss = loss if loss is not None else NonSaturatingLoss()
        self.penalties = nn.ModuleList(penalties or [])
        check_penalties(self.loss, list(self.penalties))
        self.augment = augment if augment is not None else nn.Identity()
        self.discriminator_loss_weight = discriminator_loss_weight

    @property
    def double_backward_through_discriminator(self) -> bool:
        """Whether D's loss differentiates D's gradients (a gradient penalty), which compiled modules cannot."""
        return type(self.loss).penalty is not AdversarialLoss.penalty or len(self.penalties) > 0

    #: Whether G gets a condition (paired objectives) before its noise.
    conditional: ClassVar[bool] = False

    def check_data(self, datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
        """The loss strategy's methods, the networks' calling contract, and the data's channels and classes against
        the networks' (:mod:`lightning_gan.nets.contract`)."""
        check_loss(self.loss)
        check_networks(generator, discriminator, conditional=self.conditional)
        check_channels(datamodule, generator, discriminator)
        check_labels(datamodule, generator, discriminator)

    def real_and_condition(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        """The batch's real samples and what G and D are conditioned on (``None``: nothing)."""
        return batch["real"], None

    def discriminate(
        self, call: nn.Module, discriminator: nn.Module, sample: Tensor, condition: Tensor | None, labels: Tensor | None
    ) -> Tensor:
        """D's scores for ``sample`` through ``call`` (D or its DDP wrapper): a conditional D sees
        ``cat([condition, sample], dim=1)``, through ``augment``; a class-conditional D also gets ``labels``."""
        x = self.augment(sample if condition is None else torch.cat([condition, sample], dim=1))
        return call(x, *class_inputs(discriminator, labels, "discriminator"))

    def fakes(self, loop: Loop, batch: Batch) -> Tensor:
        real, condition = self.real_and_condition(batch)
        call = loop.training_network("generator")
        return run_generator(call, loop.generator, condition, real.shape[0], batch.get("label"), loop.device)

    def discriminator_loss(self, loop: Loop, batch: Batch, fakes: Tensor, d_step: int) -> Terms:
        real, condition = self.real_and_condition(batch)
        labels, fake, discriminator = batch.get("label"), fakes.detach(), loop.discriminator
        call = loop.training_network("discriminator")
        real_scores = self.discriminate(call, discriminator, real, condition, labels)
        fake_scores = self.discriminate(call, discriminator, fake, condition, labels)
        d_loss = self.discriminator_loss_weight * self.loss.discriminator_loss(real_scores, fake_scores)
        logs: dict[str, Tensor] = {}
        scale = loop.gradient_scale()

        def critic(x: Tensor) -> Tensor:  # the bare D: a penalty's double backward does not go through DDP
            return self.discriminate(discriminator, discriminator, x, condition, labels)

        penalty = self.loss.penalty(critic, real, fake, scale)
        if penalty is not None:
            d_loss = d_loss + penalty
            logs["train/gradient_penalty"] = penalty.detach()
        for extra in self.penalties:
            term = extra(critic, real, fake, scale, d_step)
            if term is not None:
                d_loss = d_loss + term
                logs[f"train/penalty_{extra.name}"] = term.detach()
        logs["train/discrim_loss"] = d_loss.detach()
        logs["train/d_real"] = self.loss.probability(real_scores)
        logs["train/d_fake"] = self.loss.probability(fake_scores)
        return Terms(d_loss, logs)

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        self.loss.after_discriminator_step(discriminator)

    def generator_loss(self, loop: Loop, batch: Batch, fakes: Tensor) -> Terms:
        _, condition = self.real_and_condition(batch)
        # The bare D: frozen in the G step, so a DDP wrapper would wait for gradients that never come.
        scores = self.discriminate(loop.discriminator, loop.discriminator, fakes, condition, batch.get("label"))
        g_adversarial = self.loss.generator_loss(scores)
        return Terms(g_adversarial, {"train/gen_loss_GAN": g_adversarial.detach()})

    def generate(
        self,
        generator: nn.Module,
        condition: Tensor | None,
        batch_size: int | None,
        labels: Tensor | None,
        device: torch.device,
    ) -> Tensor:
        return run_generator(generator, generator, condition, batch_size, labels, device)


__all__ = ["RealVersusFake"]
