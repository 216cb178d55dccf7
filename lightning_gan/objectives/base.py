"""The objective contract: what one GAN computes from a batch, separate from the loop that optimises it.

The loop (:class:`lightning_gan.gan.GAN`) owns the networks, the two optimizers and everything every GAN shares:
``n_critic``, freezing the other side, AMP, clipping, finite-loss checks, the EMA of G, DDP wrappers and the logging
cadence. An :class:`Objective` says what a particular GAN computes: its fakes, D's loss terms, G's loss terms, and
what evaluation scores. A new GAN is a new objective class plus a YAML file; ``docs/write_your_own_gan.md`` walks
through one.

One training step, as the loop runs it::

    repeat n_critic times:
        fakes = objective.fakes(loop, batch)                 # the last one keeps its graph; earlier: no_grad
        L_D, logs = objective.discriminator_loss(loop, batch, fakes, d_step)
        D step (G frozen), then objective.after_discriminator_step(D)
    L_G, logs = objective.generator_loss(loop, batch, fakes)
    G step (D frozen), then the EMA update of G

With ``generator_first = True`` (CycleGAN's order) the G step runs before the D steps and D sees the same fakes.

Several networks on one side (CycleGAN's G_A and G_B) are one composite ``nn.Module`` under one optimizer, as the
reference implementation does; the objective reaches its parts by attribute. State the objective must keep between
steps (an image pool, a replay buffer) belongs in the objective's ``state_dict`` (buffers, or
``get_extra_state``/``set_extra_state``), so it is saved in checkpoints and an interrupted fit resumes exactly.
"""

from abc import ABC, abstractmethod
from typing import Any, ClassVar, NamedTuple, Protocol

import torch
from torch import Tensor, nn

from lightning_gan.nets.labels import class_inputs

Batch = dict[str, Any]


class Loop(Protocol):
    """What an objective may use of the training loop."""

    generator: nn.Module
    discriminator: nn.Module

    @property
    def device(self) -> torch.device: ...

    def training_network(self, name: str) -> nn.Module:
        """The network ``"generator"`` or ``"discriminator"`` as training calls it (its DDP wrapper, if any)."""
        ...

    def gradient_scale(self) -> float:
        """The AMP loss scale now (1.0 without a scaler), for gradient penalties computed inside the loss."""
        ...


class Terms(NamedTuple):
    """A side's loss and the values to log with it (``{"train/<name>": detached tensor}``)."""

    loss: Tensor
    logs: dict[str, Tensor]


class Scored(NamedTuple):
    """What evaluation scores for one batch, post-processed (e.g. de-emphasised): G's ``output`` against the
    ``target``; ``condition`` is shown beside them; ``baseline``, when set, is scored as ``<stage>/input_<metric>``
    (the input itself as an answer). ``output`` is ``None`` when G's outputs are drawn elsewhere (unconditional
    sample quality draws fixed-noise samples at the epoch's end). ``values``: scores the objective computes itself
    (CycleGAN's cycle-reconstruction L1 of both directions), logged as ``<stage>/<name>`` averaged over the epoch."""

    output: Tensor | None
    target: Tensor
    condition: Tensor | None = None
    baseline: Tensor | None = None
    values: dict[str, Tensor] | None = None


class Objective(nn.Module, ABC):
    """What a GAN computes from a batch; see the module docstring for the order the loop calls it in."""

    #: Run the G step before the D steps of each batch (CycleGAN's order) instead of after them.
    generator_first: ClassVar[bool] = False
    #: Log keys shown in the progress bar when present.
    progress_bar_keys: ClassVar[tuple[str, ...]] = ("train/discrim_loss", "train/gen_loss_GAN")

    def __init__(self, postprocess: nn.Module | None = None) -> None:
        super().__init__()
        self.postprocess = postprocess if postprocess is not None else nn.Identity()

    @property
    def double_backward_through_discriminator(self) -> bool:
        """Whether D's loss differentiates D's gradients (a gradient penalty); ``torch.compile`` then leaves D alone,
        since compiled modules do not support the double backward."""
        return False

    def check_data(self, datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
        """Fail at setup, naming the key, value and what is expected, when the data cannot feed this objective."""

    @abstractmethod
    def fakes(self, loop: Loop, batch: Batch) -> Any:
        """G's outputs for this batch, computed once per D step; the loop runs all but the last under ``no_grad``."""

    @abstractmethod
    def discriminator_loss(self, loop: Loop, batch: Batch, fakes: Any, d_step: int) -> Terms:
        """D's loss; ``d_step`` counts D steps so far (lazy regularisation)."""

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """After each D optimizer step (WGAN's weight clipping)."""

    @abstractmethod
    def generator_loss(self, loop: Loop, batch: Batch, fakes: Any) -> Terms:
        """G's loss, on the fakes of the last D step (which kept their graph)."""

    @abstractmethod
    def generate(
        self,
        generator: nn.Module,
        condition: Tensor | None,
        batch_size: int | None,
        labels: Tensor | None,
        device: torch.device,
    ) -> Tensor:
        """Outside training: G's outputs for a condition batch, or ``batch_size`` samples (noise drawn on
        ``device``); not post-processed."""

    @abstractmethod
    def evaluate(self, loop: Loop, batch: Batch, infer: Any, need_output: bool) -> Scored:
        """What validation and test score; ``infer(condition, labels)`` runs the inference G on whole inputs.
        ``need_output=False``: no metric needs G's output, so it is not computed."""


def sample_noise(
    generator: nn.Module, batch_size: int, condition: Tensor | None, device: torch.device
) -> Tensor | None:
    """Draw G's noise ``z`` for one batch (shape from G's ``latent_shape``), or ``None`` when G takes none.

    Noise comes from the global RNG, which :class:`~lightning_gan.callbacks.EpochSeeding` reseeds per (seed, rank,
    epoch) in training: every DDP rank draws different noise, and a resumed run draws the same noise as an
    uninterrupted one.
    """
    latent_shape = getattr(generator, "latent_shape", None)
    shape = latent_shape(batch_size, condition) if latent_shape is not None else None
    if shape is None:
        return None
    return torch.randn(shape, device=device if condition is None else condition.device)


def run_generator(
    call: nn.Module,
    generator: nn.Module,
    condition: Tensor | None,
    batch_size: int | None,
    labels: Tensor | None,
    device: torch.device,
) -> Tensor:
    """One forward pass of G through ``call`` (G itself, or its DDP wrapper) following the nets' contract
    (:mod:`lightning_gan.nets`): ``G(condition, z, labels)`` with the parts G takes."""
    if condition is None and batch_size is None:
        raise ValueError("An unconditional generator needs `batch_size`.")
    n = condition.shape[0] if condition is not None else int(batch_size)  # type: ignore[arg-type]
    z = sample_noise(generator, n, condition, device)
    inputs = [t for t in (condition, z) if t is not None]
    return call(*inputs, *class_inputs(generator, labels, "generator"))


__all__ = ["Batch", "Loop", "Objective", "Scored", "Terms", "run_generator", "sample_noise"]
