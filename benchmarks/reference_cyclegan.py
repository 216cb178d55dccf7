"""The CycleGAN reference's training update in plain PyTorch: the parity check of ``CycleConsistency`` and the speed
baseline of ``python -m benchmarks.cyclegan``.

Written by us from junyanz/pytorch-CycleGAN-and-pix2pix's ``models/cycle_gan_model.py`` (``optimize_parameters``,
``backward_G``, ``backward_D_basic``) and ``util/image_pool.py``: one forward of both generators; D frozen; G step on
``L_GAN(D_A(fake_B)) + L_GAN(D_B(fake_A)) + 10 |rec_A - A| + 10 |rec_B - B| + 0.5 x 10 (|G_A(B) - B| + |G_B(A) - A|)``
with LSGAN's ``MSE(D(x), 1)``; then ``backward_D_A`` and ``backward_D_B``, each ``0.5 (MSE(D(real), 1) +
MSE(D(pool(fake)), 0))``, and one D step. The pools draw from torch's RNG (the reference uses Python's ``random``), as
:class:`lightning_gan.objectives.ImagePool` does, so both take the same draws from the same seed.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ReferencePool:
    """The reference's ``ImagePool.query``, written out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[Tensor] = []

    def query(self, batch: Tensor) -> Tensor:
        if self.size == 0:
            return batch.detach()
        out = []
        for image in batch.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand(()).item() > 0.5:
                i = int(torch.randint(0, self.size, ()).item())
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)


class ReferenceCycleGANStep:
    """``optimize_parameters`` on G_A, G_B, D_A, D_B (any modules), with Adams built by ``optimizer``."""

    def __init__(
        self,
        g_a: nn.Module,
        g_b: nn.Module,
        d_a: nn.Module,
        d_b: nn.Module,
        pool_size: int = 50,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        lambda_a: float = 10.0,
        lambda_b: float = 10.0,
        lambda_identity: float = 0.5,
    ) -> None:
        self.g_a, self.g_b, self.d_a, self.d_b = g_a, g_b, d_a, d_b
        self.opt_g = torch.optim.Adam([*g_a.parameters(), *g_b.parameters()], lr=lr, betas=betas)
        self.opt_d = torch.optim.Adam([*d_a.parameters(), *d_b.parameters()], lr=lr, betas=betas)
        self.fake_a_pool, self.fake_b_pool = ReferencePool(pool_size), ReferencePool(pool_size)
        self.lambda_a, self.lambda_b, self.lambda_identity = lambda_a, lambda_b, lambda_identity

    @staticmethod
    def gan(scores: Tensor, real: bool) -> Tensor:
        return F.mse_loss(scores, torch.full_like(scores, 1.0 if real else 0.0))

    def _set_d_requires_grad(self, flag: bool) -> None:
        for p in [*self.d_a.parameters(), *self.d_b.parameters()]:
            p.requires_grad_(flag)

    def step(self, batch: dict[str, Tensor]) -> float:
        """One update on ``batch["a"]``, ``batch["b"]``; returns G's loss."""
        real_a, real_b = batch["a"], batch["b"]
        fake_b = self.g_a(real_a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        self._set_d_requires_grad(False)
        self.opt_g.zero_grad()
        loss_g = self.gan(self.d_a(fake_b), True) + self.gan(self.d_b(fake_a), True)
        loss_g = loss_g + F.l1_loss(rec_a, real_a) * self.lambda_a + F.l1_loss(rec_b, real_b) * self.lambda_b
        if self.lambda_identity > 0:
            idt_a = F.l1_loss(self.g_a(real_b), real_b) * self.lambda_b * self.lambda_identity
            idt_b = F.l1_loss(self.g_b(real_a), real_a) * self.lambda_a * self.lambda_identity
            loss_g = loss_g + idt_a + idt_b
        loss_g.backward()
        self.opt_g.step()
        self._set_d_requires_grad(True)
        self.opt_d.zero_grad()
        for d, real, fake in ((self.d_a, real_b, self.fake_b_pool.query(fake_b)),
                              (self.d_b, real_a, self.fake_a_pool.query(fake_a))):  # fmt: skip
            loss_d = (self.gan(d(real), True) + self.gan(d(fake.detach()), False)) * 0.5
            loss_d.backward()
        self.opt_d.step()
        return loss_g.item()
