"""Checkpoints: atomic local writes (:mod:`.atomic`), the one reader that checks a checkpoint before anything
is built from it (:mod:`.reading`), and the allow-list of what a checkpoint may name (:mod:`.trust`)."""

from lightning_gan.checkpoints.atomic import AtomicCheckpointIO, DiskFullError
from lightning_gan.checkpoints.reading import CheckpointNotFoundError, read_checkpoint
from lightning_gan.checkpoints.trust import DEFAULT_TRUSTED_MODULES, TRUSTED_MODULES_VARIABLE

__all__ = [
    "DEFAULT_TRUSTED_MODULES",
    "TRUSTED_MODULES_VARIABLE",
    "AtomicCheckpointIO",
    "CheckpointNotFoundError",
    "DiskFullError",
    "read_checkpoint",
]
