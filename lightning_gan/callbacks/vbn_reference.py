"""SEGAN's virtual batch norm reference batch, drawn from the data and handed to the discriminator.

Virtual batch norm (Salimans et al. 2016, section 3.4) normalises each discriminator batch with statistics mixed
from a *reference batch*. Which batch that is differs between the references (``docs/references.md``,
"SEGAN: networks and parameter counts"):

- the authors' TF code recomputes it at every step from the current real (clean, noisy) batch, in the same graph;
- deNsuh's PyTorch port draws ``batch_size`` real training slices once, before training, and keeps them fixed.

:class:`VirtualBatchNormReference` does the fixed one by default (``every_n_steps=None``); ``every_n_steps=1``
takes the current real training batch before each step, as TF does (without TF's gradient through the reference
pass: :class:`~lightning_gan.nets.segan.VirtualBatchNorm1d` stores its statistics without gradient).
"""

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch import Tensor
from typing_extensions import override


def discriminator_input(condition: Tensor, sample: Tensor) -> Tensor:
    """What a conditional discriminator sees: ``cat([condition, sample], dim=1)``, the order of
    :meth:`lightning_gan.objectives.RealVersusFake.discriminate` (TF concatenates clean first; only the first
    layer's channel order differs)."""
    return torch.cat([condition, sample], dim=1)


class VirtualBatchNormReference(Callback):
    """Give a VBN discriminator (``set_reference(x)``, e.g. :class:`~lightning_gan.nets.segan.SEGANDiscriminator`)
    its reference statistics from real (noisy, clean) training pairs.

    At fit start it asks the DataModule for ``reference_batch(size, seed)`` (a training batch dict, see
    :meth:`lightning_gan.data.speech.NoisyCleanSpeechDataModule.reference_batch`), builds the discriminator input
    exactly as the training loop does and calls ``discriminator.set_reference`` on it. Every DDP rank draws the
    same batch (same seed, same data), so the ranks' discriminators stay identical.

    The statistics are buffers of the discriminator, so they are saved in checkpoints: a run resumed with
    ``--ckpt_path`` keeps the checkpoint's reference and draws nothing, unless ``redraw_on_resume`` is set.

    Args:
        size: reference batch size; 100, TF's per-GPU batch (``train_segan.sh`` ``--batch_size 100``, santi-pdp/segan
            c88a08d), which is also deNsuh's choice of "one batch". It sets how much a live batch moves the
            statistics (its weight is ``1 / (size + 1)``).
        seed: seed of the draw; the same on every rank and every resume.
        every_n_steps: ``None`` (default): the fixed batch drawn at fit start (deNsuh). ``n``: instead, before every
            ``n``-th training batch of an epoch (the first included), take the reference from that real batch
            (``1`` is the TF choice, santi-pdp/segan c88a08d ``model.py``). Under DDP the wrapper broadcasts
            buffers from rank 0 before every training step, so all ranks then use rank 0's batch.
        redraw_on_resume: draw a new fixed reference at fit start even when the resumed checkpoint already has one.

    Raises:
        ValueError: on ``size < 1`` or ``every_n_steps < 1``; at fit start, when the DataModule has no
            ``reference_batch`` method (and ``every_n_steps`` is ``None``).
    """

    def __init__(
        self, size: int = 100, seed: int = 0, every_n_steps: int | None = None, redraw_on_resume: bool = False
    ) -> None:
        if size < 1:
            raise ValueError(f"VirtualBatchNormReference: expected `size` >= 1, got {size!r}.")
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"VirtualBatchNormReference: expected `every_n_steps` >= 1 or None, got {every_n_steps}.")
        self.size = size
        self.seed = seed
        self.every_n_steps = every_n_steps
        self.redraw_on_resume = redraw_on_resume

    @staticmethod
    def _set(pl_module: LightningModule, batch: dict[str, Any]) -> bool:
        discriminator = pl_module.discriminator
        set_reference = getattr(discriminator, "set_reference", None)
        if set_reference is None:
            rank_zero_warn(
                f"VirtualBatchNormReference: the discriminator ({type(discriminator).__name__}) has no "
                "`set_reference`; nothing to do (remove the callback, or use a VBN discriminator)."
            )
            return False
        if "condition" not in batch or "real" not in batch:
            raise ValueError(
                f"VirtualBatchNormReference: expected a batch dict with 'condition' and 'real', got {list(batch)}."
            )
        x = discriminator_input(batch["condition"], batch["real"]).to(pl_module.device)
        set_reference(x)
        return True

    @override
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.every_n_steps is not None:
            return  # drawn from the live batches instead
        resumed = trainer.ckpt_path is not None and getattr(pl_module.discriminator, "has_reference", False)
        if resumed and not self.redraw_on_resume:
            rank_zero_info("VirtualBatchNormReference: keeping the reference statistics of the checkpoint.")
            return
        datamodule = trainer.datamodule  # type: ignore[attr-defined]  # set by Lightning's data connector
        draw = getattr(datamodule, "reference_batch", None)
        if draw is None:
            raise ValueError(
                f"VirtualBatchNormReference: the DataModule ({type(datamodule).__name__}) has no "
                "`reference_batch(size, seed)` method to draw the VBN reference from; use "
                "lightning_gan.data.speech.NoisyCleanSpeechDataModule, or set `every_n_steps` to take it from the "
                "training batches."
            )
        self._set(pl_module, draw(self.size, self.seed))

    @override
    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        if self.every_n_steps is not None and batch_idx % self.every_n_steps == 0:
            self._set(pl_module, batch)
