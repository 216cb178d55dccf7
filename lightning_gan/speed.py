"""Speed switches of the GAN loop, kept out of it: channels-last memory format, ``torch.compile``, and writing step
logs only on the steps the loggers record. ``docs/benchmarks_ablation.md`` measures what each is worth."""

import logging
from collections.abc import Sequence

import torch
from lightning.pytorch import Trainer
from torch import Tensor, nn

from lightning_gan import _compat
from lightning_gan.losses import AdversarialLoss

log = logging.getLogger(__name__)


def to_channels_last(tensor: Tensor | None) -> Tensor | None:
    """A 4-D tensor in channels-last (NHWC) memory format; anything else unchanged."""
    if tensor is None or tensor.dim() != 4:
        return tensor
    return tensor.contiguous(memory_format=torch.channels_last)


def compile_networks(
    generator: nn.Module, discriminator: nn.Module, loss: AdversarialLoss, penalties: Sequence[nn.Module] = ()
) -> None:
    """``torch.compile`` G and D in place (``nn.Module.compile``: state-dict keys do not change), once.

    With a loss that has a gradient penalty, or extra ``penalties`` (:mod:`lightning_gan.penalties`), only G is
    compiled: compiled modules do not support the penalty's double backward.
    """
    if _compat.is_compiled(generator):
        return
    generator.compile()
    if type(loss).penalty is AdversarialLoss.penalty and not penalties:
        discriminator.compile()
    else:
        log.info("Compiling G only: the gradient penalty needs a double backward through D.")


def step_logs_due(trainer: Trainer, global_step: int) -> bool:
    """Whether the loggers write this batch's step values (every ``trainer.log_every_n_steps`` batches).

    ``LightningModule.log`` does its bookkeeping whether or not the value is written, a fixed cost per call that
    counts in a small model's step, so the other batches skip it. An epoch's last batch and the batch that reaches
    ``max_steps`` always log, so a run shorter than the interval still reports its final values. Lightning's
    ``LearningRateMonitor`` asks the same (private) connector.
    """
    if trainer.is_last_batch or 0 <= trainer.max_steps <= global_step:
        return True
    return _compat.should_update_logs(trainer)
