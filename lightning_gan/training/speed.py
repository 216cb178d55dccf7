"""Speed switches of the GAN loop, kept out of it: channels-last memory format, ``torch.compile``, and writing step
logs only on the steps the loggers record. ``docs/benchmarks_ablation.md`` measures what each is worth."""

import logging
from dataclasses import dataclass

import torch
from lightning.pytorch import Trainer
from torch import Tensor, nn

from lightning_gan import _compat

log = logging.getLogger(__name__)


@dataclass
class Speed:
    """The loop's speed switches (``model.speed`` in a config).

    Args:
        channels_last: keep G, D and 4-D batches in the channels-last (NHWC) memory format, which convolutions run
            faster in on GPUs with tensor cores and, for some models, on CPUs. No effect on 1-D (audio) networks.
        compile: ``torch.compile`` G and D in place before training (``nn.Module.compile``: checkpoint keys do not
            change). Pays off after a one-time compilation, and not for every model. With a gradient penalty only G
            is compiled, because compiled modules do not support the penalty's double backward.
    """

    channels_last: bool = False
    compile: bool = False


def to_channels_last(tensor: Tensor | None) -> Tensor | None:
    """A 4-D tensor in channels-last (NHWC) memory format; anything else unchanged."""
    if tensor is None or tensor.dim() != 4:
        return tensor
    return tensor.contiguous(memory_format=torch.channels_last)


def compile_networks(generator: nn.Module, discriminator: nn.Module, compile_discriminator: bool = True) -> None:
    """``torch.compile`` G and D in place (``nn.Module.compile``: state-dict keys do not change), once.

    ``compile_discriminator=False`` compiles G only, for objectives with a gradient penalty: compiled modules do not
    support the penalty's double backward through D.
    """
    if _compat.is_compiled(generator):
        return
    generator.compile()
    if compile_discriminator:
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
