"""A new GAN as one objective class: the relativistic average GAN (RaSGAN).

Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element missing from standard GAN", arXiv
1807.00734, section 4.2 (equations 13-14, with the sigmoid cross-entropy). D estimates how much more realistic a real
sample is than the average fake, and the other way round; G's loss uses D's scores of the real batch too, so it
cannot be written as a loss of D(fake) alone, which is why it is an objective and not an
:class:`~lightning_gan.objectives.AdversarialLoss`.

    L_D = -E_r[log sigmoid(C(x_r) - E_f C(x_f))] - E_f[log(1 - sigmoid(C(x_f) - E_r C(x_r)))]
    L_G = -E_f[log sigmoid(C(x_f) - E_r C(x_r))] - E_r[log(1 - sigmoid(C(x_r) - E_f C(x_f)))]

Trained with ``python -m lightning_gan fit --config configs/dcgan_digits.yaml --config
examples/relativistic_digits.yaml`` (docs/write_your_own_gan.md).
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from lightning_gan.objectives import Synthesis, Terms
from lightning_gan.objectives.base import Batch, Loop


def relativistic_average_losses(real_scores: Tensor, fake_scores: Tensor) -> tuple[Tensor, Tensor]:
    """(L_D, L_G) from D's raw scores of a real and a fake batch (any shape; averaged over everything)."""
    real_vs_fake = real_scores - fake_scores.mean()
    fake_vs_real = fake_scores - real_scores.mean()
    # -log sigmoid(a) = softplus(-a);  -log(1 - sigmoid(a)) = softplus(a)
    d_loss = F.softplus(-real_vs_fake).mean() + F.softplus(fake_vs_real).mean()
    g_loss = F.softplus(-fake_vs_real).mean() + F.softplus(real_vs_fake).mean()
    return d_loss, g_loss


class RelativisticAverage(Synthesis):
    """DCGAN-style synthesis with the relativistic average discriminator. Everything else (noise, class labels,
    penalties, augmentation, evaluation) is :class:`~lightning_gan.objectives.Synthesis`'s; the ``loss`` argument is
    not used."""

    def _scores(self, loop: Loop, batch: Batch, fakes: Tensor, training_d: bool) -> tuple[Tensor, Tensor]:
        call = loop.training_network("discriminator") if training_d else loop.discriminator
        labels = batch.get("label")
        real = self.discriminate(call, loop.discriminator, batch["real"], None, labels)
        fake = self.discriminate(call, loop.discriminator, fakes, None, labels)
        return real, fake

    def discriminator_loss(self, loop: Loop, batch: Batch, fakes: Tensor, d_step: int) -> Terms:
        real, fake = self._scores(loop, batch, fakes.detach(), training_d=True)
        d_loss, _ = relativistic_average_losses(real, fake)
        logs = {
            "train/discrim_loss": d_loss.detach(),
            # D's belief that a real sample is more realistic than the average fake
            "train/d_real": torch.sigmoid(real - fake.mean()).mean().detach(),
            "train/d_fake": torch.sigmoid(fake - real.mean()).mean().detach(),
        }
        return Terms(d_loss, logs)

    def generator_loss(self, loop: Loop, batch: Batch, fakes: Tensor) -> Terms:
        real, fake = self._scores(loop, batch, fakes, training_d=False)  # D is frozen here: the bare network
        _, g_loss = relativistic_average_losses(real, fake)
        return Terms(g_loss, {"train/gen_loss_GAN": g_loss.detach()})
