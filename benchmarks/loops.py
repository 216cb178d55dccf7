"""The plain PyTorch training step the benchmark races against ``GAN.training_step``, and what it trains.

:class:`Family` is one configuration's networks, loss, optimizers and batch (built from the shipped YAML in
``benchmarks/families.py``); :class:`PlainLoop` is ``GAN.training_step`` written as a bare loop, with
:class:`LoopOptions` switching single ingredients for the ablation; :class:`Run` is the device and precision.
``tests/benchmarks/test_parity.py`` checks that one plain step equals one Lightning step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from lightning_gan.objectives.losses import AdversarialLoss

OptimizerFactory = Callable[[Any], torch.optim.Optimizer]


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


@dataclass(frozen=True)
class LoopOptions:
    """Switches of :class:`PlainLoop`; the defaults are what ``GAN.training_step`` does (the ablation's baseline).

    Attributes:
        channels_last: networks and 4-D inputs in ``torch.channels_last`` (images only).
        foreach, fused: passed to the optimizer factory when not ``None``. ``None`` keeps torch's default, which on
            CPU is the single-tensor for-loop: torch defaults to ``foreach`` only for CUDA/XPU/MTIA parameters.
        set_to_none: ``zero_grad(set_to_none=...)``.
        freeze_d_in_g_step: D's parameters ``requires_grad=False`` during G's step, so G's backward skips D's weight
            gradients (``toggled_optimizer`` does this in ``GAN``).
        reuse_fake: one G forward per batch, reused by D's step (detached) and G's step; ``False``: D's step gets a
            ``no_grad`` forward and G's step a second forward with a graph.
        compile: ``torch.compile`` G and D with this backend (``"inductor"``, the default one; ``"eager"`` only
            traces, for tests); ``None``: eager PyTorch.
    """

    channels_last: bool = False
    foreach: bool | None = None
    fused: bool | None = None
    set_to_none: bool = True
    freeze_d_in_g_step: bool = True
    reuse_fake: bool = True
    compile: str | None = None

    def optimizer_kwargs(self) -> dict[str, bool]:
        return {k: v for k, v in (("foreach", self.foreach), ("fused", self.fused)) if v is not None}


@dataclass
class Family:
    """Everything one benchmark configuration needs, built fresh (seeded) per run.

    Attributes:
        generator, discriminator: the networks, as the family's config builds them.
        loss: the adversarial loss strategy.
        g_optimizer, d_optimizer: optimizer factories taking parameters, as the config's.
        reconstruction_weight, discriminator_loss_weight: as ``GAN``'s arguments of the same names.
        batch: one fixed training batch (``{"real": ...}`` plus ``"condition"`` when paired).
        datamodule: builds the family's DataModule on bundled data, or ``None`` to skip the data benchmark.
        shipped: the speed switches its shipped config turns on (fused Adam, channels_last), which the main
            benchmark's Lightning and plain loops both use; the ablation's baseline ignores them.
    """

    generator: nn.Module
    discriminator: nn.Module
    loss: AdversarialLoss
    g_optimizer: OptimizerFactory
    d_optimizer: OptimizerFactory
    batch: dict[str, Tensor]
    reconstruction_weight: float = 0.0
    discriminator_loss_weight: float = 1.0
    datamodule: Callable[[], Any] | None = None
    shipped: LoopOptions = field(default_factory=lambda: LoopOptions())


@dataclass(frozen=True)
class Run:
    """Where and in which precision a benchmark trains: the Lightning ``Trainer``'s ``accelerator`` (``"cpu"`` or
    ``"cuda"``) and ``precision`` (``"32-true"``, ``"bf16-mixed"``, or ``"16-mixed"`` on CUDA), mirrored by the plain
    loop: autocast around the forwards and losses, and for ``16-mixed`` a ``GradScaler`` that steps and updates after
    each optimizer's backward, as Lightning's ``MixedPrecision`` plugin does under manual optimization."""

    accelerator: str = "cpu"
    precision: str = "32-true"

    @property
    def gpu(self) -> bool:
        return self.accelerator == "cuda"

    @property
    def device(self) -> torch.device:
        return torch.device("cuda" if self.gpu else "cpu")

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "32-true":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16-mixed" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def sync(self) -> None:
        """Wait for queued GPU work, so a host clock measures it (no-op on the CPU, which is synchronous)."""
        if self.gpu:
            torch.cuda.synchronize()


class PlainLoop:
    """The GAN step of :meth:`lightning_gan.gan.GAN.training_step` (``n_critic`` 1) in plain PyTorch, no logging;
    ``options`` switch single ingredients for the ablation."""

    def __init__(
        self,
        family: Family,
        generator: nn.Module,
        discriminator: nn.Module,
        options: LoopOptions = LoopOptions(),
        run: Run = Run(),
    ) -> None:
        self.f, self.options, self.run = family, options, run
        self.g, self.d = generator.train().to(run.device), discriminator.train().to(run.device)
        self.scaler = torch.amp.GradScaler(run.device.type) if run.precision == "16-mixed" else None
        if options.channels_last:
            self.g, self.d = self.g.to(memory_format=torch.channels_last), self.d.to(memory_format=torch.channels_last)
        self.opt_g = family.g_optimizer(self.g.parameters(), **options.optimizer_kwargs())
        self.opt_d = family.d_optimizer(self.d.parameters(), **options.optimizer_kwargs())
        # compiled wrappers share the parameters of self.g / self.d, which stay the ones frozen and optimized
        self.run_g = torch.compile(self.g, backend=options.compile) if options.compile else self.g
        self.run_d = torch.compile(self.d, backend=options.compile) if options.compile else self.d

    def _input(self, x: Tensor | None) -> Tensor | None:
        if x is not None and self.options.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def _discriminate(self, x: Tensor, condition: Tensor | None) -> Tensor:
        return self.run_d(x if condition is None else torch.cat([condition, x], dim=1))

    def step(self, batch: dict[str, Tensor]) -> float:
        o = self.options
        real, condition = self._input(batch["real"]), self._input(batch.get("condition"))
        latent_shape = getattr(self.g, "latent_shape", None)
        shape = latent_shape(real.shape[0], condition) if latent_shape is not None else None
        noise = self._input(torch.randn(shape, device=real.device)) if shape is not None else None
        inputs = [t for t in (condition, noise) if t is not None]
        with self.run.autocast():
            if o.reuse_fake:
                fake = self.run_g(*inputs)
                d_fake = fake.detach()
            else:
                with torch.no_grad():
                    d_fake = self.run_g(*inputs)

            _set_requires_grad(self.g, False)
            d_loss = self.f.discriminator_loss_weight * self.f.loss.discriminator_loss(
                self._discriminate(real, condition), self._discriminate(d_fake, condition)
            )
        self._update(self.opt_d, d_loss)
        self.f.loss.after_discriminator_step(self.d)
        _set_requires_grad(self.g, True)

        with self.run.autocast():
            if not o.reuse_fake:
                fake = self.run_g(*inputs)
            _set_requires_grad(self.d, not o.freeze_d_in_g_step)
            g_loss = self.f.loss.generator_loss(self._discriminate(fake, condition))
            if self.f.reconstruction_weight > 0:
                g_loss = g_loss + self.f.reconstruction_weight * F.l1_loss(fake.float(), real.float())
        self._update(self.opt_g, g_loss)
        _set_requires_grad(self.d, True)
        return float(g_loss)

    def _update(self, optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
        """zero_grad, backward, step; through the GradScaler under ``16-mixed``."""
        optimizer.zero_grad(set_to_none=self.options.set_to_none)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()


class _SameBatch(Dataset):
    """``length`` times the same batch (for a ``batch_size=None`` loader): Lightning's data cost is nil, as plain's."""

    def __init__(self, batch: dict[str, Tensor], length: int) -> None:
        self.batch, self.length = batch, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.batch
