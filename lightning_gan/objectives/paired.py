"""A condition to its paired target: pix2pix (Isola et al. 2017, arXiv 1611.07004) and SEGAN (Pascual et al. 2017,
arXiv 1703.09452). D is conditional: it scores ``cat([condition, sample])``; G's loss adds a weighted
reconstruction term (L1 in both papers, weight 100)."""

from typing import Any, ClassVar

from torch import Tensor, nn

from lightning_gan.objectives.adversarial import RealVersusFake
from lightning_gan.objectives.augment import DiffAugment
from lightning_gan.objectives.base import Batch, Loop, Scored, Terms
from lightning_gan.objectives.losses import AdversarialLoss
from lightning_gan.objectives.penalties import GradientPenalty
from lightning_gan.objectives.reconstruction import L1Loss, ReconstructionLoss


class PairedTranslation(RealVersusFake):
    """G(condition[, z]) against the paired target: a batch holds ``condition`` and ``real``.

    ``L_G = adversarial_weight * loss.generator_loss(D(c, G(c))) + reconstruction_weight * reconstruction(G(c), real)``.

    The pix2pix paper's ablation (arXiv 1611.07004, section 4.2, Table 1) compares the three objectives at equal
    settings: "L1" (``adversarial_weight: 0``: D still trains, on the same schedule, but G ignores it), "cGAN"
    (``reconstruction_weight: 0``) and "L1+cGAN" (both; the default).

    Args:
        reconstruction_weight: weight of ``reconstruction(G(condition), real)`` in G's loss (pix2pix's
            ``--lambda_L1`` 100; SEGAN's lambda 100); 0 trains with the adversarial term alone (pix2pix's "cGAN"
            ablation).
        adversarial_weight: weight of the adversarial term in G's loss (default 1); 0 trains with the reconstruction
            term alone (pix2pix's "L1" ablation).
        reconstruction: the reconstruction loss strategy (:mod:`lightning_gan.objectives.reconstruction`); default
            :class:`~lightning_gan.objectives.L1Loss`. Logged as ``train/gen_loss_<its log_name>``.
        log_input_baseline: also score the condition itself against the target once per run
            (``val/input_<name>``), so an enhancement's improvement over its noisy input is visible.
        loss, penalties, augment, discriminator_loss_weight, postprocess: as
            :class:`~lightning_gan.objectives.adversarial.RealVersusFake`.
    """

    conditional: ClassVar[bool] = True

    def __init__(
        self,
        loss: AdversarialLoss | None = None,
        reconstruction_weight: float = 100.0,
        reconstruction: ReconstructionLoss | None = None,
        penalties: list[GradientPenalty] | None = None,
        augment: DiffAugment | None = None,
        discriminator_loss_weight: float = 1.0,
        postprocess: nn.Module | None = None,
        log_input_baseline: bool = False,
        adversarial_weight: float = 1.0,
    ) -> None:
        super().__init__(loss, penalties, augment, discriminator_loss_weight, postprocess)
        if reconstruction_weight < 0 or adversarial_weight < 0:
            raise ValueError(
                f"Expected `reconstruction_weight` and `adversarial_weight` >= 0, got {reconstruction_weight!r} and "
                f"{adversarial_weight!r}."
            )
        if reconstruction_weight == 0 and adversarial_weight == 0:
            raise ValueError("`reconstruction_weight` and `adversarial_weight` are both 0: G would have no loss.")
        self.reconstruction_weight = reconstruction_weight
        self.adversarial_weight = adversarial_weight
        self.reconstruction = reconstruction if reconstruction is not None else L1Loss()
        self.log_input_baseline = log_input_baseline

    @property
    def progress_bar_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*RealVersusFake.progress_bar_keys, f"train/gen_loss_{self.reconstruction.log_name}")

    def check_data(self, datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
        real = getattr(datamodule, "real_channels", None)
        if real is not None and getattr(datamodule, "condition_channels", None) is None:
            raise ValueError(
                f"model.objective: PairedTranslation needs paired batches (a 'condition' per target), but the data "
                f"module {type(datamodule).__name__} yields unpaired samples (no condition_channels); use paired "
                "data (e.g. lightning_gan.data.PairedImageDataModule) or lightning_gan.objectives.Synthesis."
            )
        super().check_data(datamodule, generator, discriminator)

    def real_and_condition(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        if "condition" not in batch:
            raise KeyError(f"PairedTranslation expects batches with 'real' and 'condition' keys, got {list(batch)}.")
        return batch["real"], batch["condition"]

    def generator_loss(self, loop: Loop, batch: Batch, fakes: Tensor) -> Terms:
        g_loss, logs = super().generator_loss(loop, batch, fakes)
        if self.adversarial_weight != 1.0:  # 1: the loss as before, bit for bit
            g_loss = self.adversarial_weight * g_loss
        if self.reconstruction_weight > 0:
            rec = self.reconstruction(fakes, batch["real"])
            g_loss = g_loss + self.reconstruction_weight * rec
            logs[f"train/gen_loss_{self.reconstruction.log_name}"] = rec.detach()
        return Terms(g_loss, logs)

    def evaluate(self, loop: Loop, batch: Batch, infer: Any, need_output: bool) -> Scored:
        real, condition = self.real_and_condition(batch)
        target = self.postprocess(real)
        if not need_output:
            return Scored(None, target)
        output = self.postprocess(infer(condition, batch.get("label")))
        shown = self.postprocess(condition)
        return Scored(output, target, shown, shown if self.log_input_baseline else None)


__all__ = ["PairedTranslation"]
