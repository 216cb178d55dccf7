"""Checkpoints that are either complete or absent: never a truncated ``last.ckpt``.

Lightning's default writer stages the file in the system temp folder and moves it into place; when that folder is
on another filesystem (a tmpfs ``/tmp``, a node-local disk) the move is a copy, and a crash during the copy leaves
a truncated checkpoint behind. :class:`AtomicCheckpointIO` writes to a temporary file *beside* the target, flushes it
to disk, and renames it over the target (``os.replace`` is atomic within a filesystem). The CLI installs it by
default on local paths; remote URLs (s3://, gs://) keep Lightning's writer.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from typing_extensions import override

from lightning_gan import _compat


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` such that ``path`` holds either its old content or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's ``TorchCheckpointIO`` with atomic local writes (see the module docstring)."""

    @override
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or not _compat.is_local_path(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        atomic_torch_save(checkpoint, path)
