"""Checkpoints that are either complete or absent: never a truncated ``last.ckpt``.

Lightning's default writer stages the file in the system temp folder and moves it into place; when that folder is
on another filesystem (a tmpfs ``/tmp``, a node-local disk) the move is a copy, and a crash during the copy leaves
a truncated checkpoint behind. :class:`AtomicCheckpointIO` writes to a temporary file *beside* the target, flushes it
to disk, and renames it over the target (``os.replace`` is atomic within a filesystem). The CLI installs it by
default on local paths; remote URLs (s3://, gs://) keep Lightning's writer.

Faults:

- A full disk stops the run with one message, "no space left on <folder>: need about N MB (M MB free)"
  (:class:`DiskFullError`) instead of torch's "unexpected pos" from its zip writer; the temporary file is removed and
  the earlier checkpoints are untouched (the target is replaced only by a complete file).
- A save killed half-way (SIGKILL, a power cut) leaves its temporary file ``.<name>.<pid>.<random>.tmp``; the next
  save into that folder, and the next ``fit`` of the run, remove those whose process is gone
  (:func:`remove_stale_temporaries`).
- Checkpoints get the permissions the umask gives (``mkstemp`` would make them owner-only, 0600).
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from typing_extensions import override

from lightning_gan import _compat
from lightning_gan.errors import LightningGanError

_MB = 1024 * 1024


class DiskFullError(LightningGanError, OSError):
    """The disk filled up while a checkpoint was written; the earlier checkpoints are intact."""


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (``/proc/self/status``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but checkpoints are written from one)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed saves left in ``folder``; returns them.

    A temporary file is ``.<name>.<pid>.<random>.tmp``; it is stale when process ``pid`` no longer runs (or is this
    process, which is not writing it). Files of the older ``.<name>.<random>.tmp`` form, which named no process, are
    stale too.
    """
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.glob(".*.tmp"):
        parts = path.name[1:-4].rsplit(".", 2)
        pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
        if pid is not None and pid != os.getpid() and _pid_alive(pid):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _tensor_bytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


def _is_disk_full(err: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _disk_full(path: Path, obj: Any, err: BaseException) -> DiskFullError:
    need = max(_tensor_bytes(obj), 1)
    try:
        free = f", {shutil.disk_usage(path.parent).free / _MB:.1f} MB free"
    except OSError:
        free = ""
    error = DiskFullError(
        f"no space left on {path.parent}: need about {max(need / _MB, 0.1):.1f} MB for {path.name}{free}. The "
        "earlier checkpoints are intact; free some space (or set ModelCheckpoint's dirpath elsewhere) and resume "
        "with --ckpt_path <run>/checkpoints/last.ckpt"
    )
    error.errno = errno.ENOSPC
    return error


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` such that ``path`` holds either its old content or the complete new one.

    Raises:
        DiskFullError: the disk filled up (the message names the folder and the space needed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it 0600
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, Exception) and _is_disk_full(err):
            raise _disk_full(path, obj, err) from err
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
