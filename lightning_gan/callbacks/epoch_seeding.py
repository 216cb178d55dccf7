"""Per-epoch seeding of a training run: each DDP rank its own random stream, and exact resume at epoch boundaries.

``seed_everything`` gives every DDP rank the same seed, hence the same noise ``z``. :class:`EpochSeeding` reseeds
Python, NumPy and torch at the start of every epoch from (run seed, rank, epoch): each rank draws its own stream,
runs stay reproducible, and an epoch's randomness (data order, noise, dropout) does not depend on what ran before
it, so a run resumed at an epoch boundary continues exactly as an uninterrupted one would.

It is training engineering, so it is a callback rather than part of the GAN module: restoring its state happens
only when a ``Trainer`` resumes a run, never when a checkpoint is loaded for inference
(``GAN.load_from_checkpoint``, :func:`lightning_gan.deploy.api.load_generator`), which leaves the caller's random state
and
environment alone. The CLI installs it in every run (:mod:`lightning_gan.cli`); with a bare ``Trainer``, pass
``callbacks=[EpochSeeding()]``.
"""

import os
import random
from typing import Any

import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override


def epoch_seed(base_seed: int, rank: int, epoch: int) -> int:
    """The seed of one (run, rank, epoch)."""
    return (base_seed * 1_000_003 + rank * 7919 + epoch) % 2**32


class EpochSeeding(Callback):
    """Reseed Python, NumPy and torch at every epoch start from (run seed, rank, epoch); see the module docstring.

    The run seed is taken from ``torch.initial_seed()`` (what ``seed_everything`` set) at the first epoch and kept
    in the checkpoint (:meth:`state_dict`).
    """

    def __init__(self) -> None:
        self.base_seed: int | None = None
        self._seeded_epoch: int | None = None

    def seed(self, rank: int, epoch: int) -> int:
        """Reseed Python, NumPy and torch for (rank, epoch) of this run; returns the seed."""
        if self.base_seed is None:
            self.base_seed = torch.initial_seed() % 2**31
        seed = epoch_seed(self.base_seed, rank, epoch)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        return seed

    @override
    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._seeded_epoch == trainer.current_epoch:  # seeded on restore, before this epoch's data iterator
            self._seeded_epoch = None
            return
        self.seed(trainer.global_rank, trainer.current_epoch)

    @override
    def state_dict(self) -> dict[str, Any]:
        return {"base_seed": self.base_seed}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.base_seed = state_dict["base_seed"]

    @override
    def on_load_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        """Seed the epoch the run resumes into, as :meth:`on_train_epoch_start` would have.

        Lightning skips that hook for the epoch it resumes into (when the checkpoint was taken at an epoch's end)
        and builds the epoch's data iterator before any later hook; it also reseeds from ``PL_GLOBAL_SEED`` after
        its sanity check. So the seed is set here, and ``PL_GLOBAL_SEED`` with it, and that epoch's hook skips it.
        This hook runs just before :meth:`load_state_dict`, so it reads this callback's entry from the checkpoint
        itself.
        """
        state = checkpoint.get("callbacks", {}).get(self.state_key, {})
        self.base_seed = state.get("base_seed")
        self._seeded_epoch = int(checkpoint.get("epoch", -1)) + 1
        os.environ["PL_GLOBAL_SEED"] = str(self.seed(trainer.global_rank, self._seeded_epoch))
