"""Checkpoints: atomic local writes (:mod:`.atomic`) and the one reader that checks a checkpoint before anything
is built from it (:mod:`.reading`)."""

from lightning_gan.checkpoints.atomic import AtomicCheckpointIO, DiskFullError
from lightning_gan.checkpoints.reading import CheckpointNotFoundError, read_checkpoint

__all__ = ["AtomicCheckpointIO", "CheckpointNotFoundError", "DiskFullError", "read_checkpoint"]
