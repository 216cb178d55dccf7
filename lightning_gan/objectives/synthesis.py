"""Samples from noise: G(z) against real samples, or G(z, class) for class-conditional networks (DCGAN, Radford et
al. 2016, arXiv 1511.06434; the projection discriminator, Miyato and Koyama 2018, arXiv 1802.05637)."""

from typing import Any

from torch import nn

from lightning_gan.objectives.adversarial import RealVersusFake
from lightning_gan.objectives.base import Batch, Loop, Scored


class Synthesis(RealVersusFake):
    """Unconditional (or class-conditional) generation: a batch holds ``real`` samples and, for class-conditional
    networks (those with ``num_classes``), their ``label``. Evaluation scores sample quality (FID/KID) of fixed-noise
    samples, drawn by the loop's ``sample_quality`` at the end of each validation.

    Args: as :class:`~lightning_gan.objectives.adversarial.RealVersusFake`.
    """

    def check_data(self, datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
        condition = getattr(datamodule, "condition_channels", None)
        if condition is not None:
            raise ValueError(
                f"model.objective: Synthesis generates from noise, but the data module {type(datamodule).__name__} "
                f"yields conditions (condition_channels = {condition}); expected unpaired samples, or use "
                "lightning_gan.objectives.PairedTranslation for paired data."
            )
        super().check_data(datamodule, generator, discriminator)

    def evaluate(self, loop: Loop, batch: Batch, infer: Any, need_output: bool) -> Scored:
        return Scored(None, self.postprocess(batch["real"]))


__all__ = ["Synthesis"]
