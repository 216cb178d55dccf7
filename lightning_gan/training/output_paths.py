"""Outputs never overwrite what the user owns: shared checks for the folders and files that commands write.

``predict``, ``export`` and the HTML report write files the user asked for, next to files the user already has
(their inputs, their checkpoints, their project folders). Three rules, each a function here:

- an output folder is never the input folder, inside it, or around it (:func:`relation`, :func:`check_apart`);
  symbolic links, bind mounts and a case-insensitive filesystem are seen through: folders are compared by the file
  they are (``os.path.samefile``), not by their spelling;
- a write never follows a symbolic link out of its output folder (:func:`target_inside`): a link to a *folder* on
  the way out is refused, naming the link; a link in the *file's* place is replaced by the new file (the link, never
  the file it points to, as ``os.replace`` does), because that link is an entry of the output folder, which the
  command owns, while the file it points to may be anything;
- a file is written whole or not at all (:func:`write_atomically`): into a private hidden folder beside it, flushed
  to disk, then renamed over the target. A full disk or any other write error leaves neither a 0-byte nor a
  truncated file (an earlier file of that name stays as it was) and is reported as one line naming the file
  (:class:`OutputWriteError`). A hard link in the target's place is replaced too, so the other names of that file
  (an input hard-linked into the output folder) keep their content.
"""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import soundfile

from lightning_gan.errors import ConfigError, LightningGanError

Relation = Literal["the same folder as", "inside", "around"]

_NEARLY_FULL = 64 * 1024  # bytes free below which a write error without errno is reported as a full disk


class OutputWriteError(LightningGanError, OSError):
    """An output file could not be written (a full disk, a read-only folder); nothing partial was left behind."""


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (or cannot be read): compare the resolved spellings
        return a.resolve() == b.resolve()


def _existing_lineage(path: Path) -> list[Path]:
    """``path`` and its ancestors that exist, innermost first."""
    return [p for p in (path, *path.parents) if p.exists()]


def _within(inner: Path, outer: Path) -> bool:
    """Whether the resolved folder ``inner`` is ``outer`` or lies in it, by spelling or by identity on disk."""
    if inner.is_relative_to(outer):
        return True
    return outer.exists() and any(_same(p, outer) for p in _existing_lineage(inner))


def relation(output: str | os.PathLike[str], source: str | os.PathLike[str]) -> Relation | None:
    """How the folder ``output`` lies to the folder ``source``: ``"the same folder as"``, ``"inside"`` (output is
    in source), ``"around"`` (source is in output), or ``None`` when they are apart. Neither needs to exist."""
    out = Path(output).expanduser().resolve()
    src = Path(source).expanduser().resolve()
    if out == src or (out.exists() and src.exists() and _same(out, src)):
        return "the same folder as"
    if _within(out, src):
        return "inside"
    if _within(src, out):
        return "around"
    return None


def check_apart(
    output: str | os.PathLike[str],
    output_key: str,
    source: str | os.PathLike[str],
    source_key: str,
    suggested_suffix: str = "predictions",
) -> None:
    """Refuse an output folder that is, is inside or is around an input folder (module docstring). The message
    suggests ``<input folder>_<suggested_suffix>`` beside the input folder.

    Raises:
        ConfigError: naming both keys and folders, before anything is written.
    """
    found = relation(output, source)
    if found is None:
        return
    if found == "the same folder as":
        where = f"is the same folder as the input folder {source_key} {source} (both are {Path(source).resolve()})"
        harm = "each output would replace its input"
    elif found == "inside":
        where = f"is inside the input folder {source_key} {source}"
        harm = "the outputs would be written into the input folder"
    else:
        where = f"contains the input folder {source_key} {source}"
        harm = "the outputs would be written into the folder that holds the inputs"
    resolved = Path(source).expanduser().resolve()
    suggestion = resolved.parent / f"{resolved.name or 'inputs'}_{suggested_suffix}"
    raise ConfigError(
        f"{output_key} {output} {where}: {harm}, and outputs never go among their inputs. Nothing was written; "
        f"choose a folder apart from the inputs, e.g. {output_key} {suggestion}"
    )


def target_inside(root: str | os.PathLike[str], name: str | os.PathLike[str], key: str) -> Path:
    """``root / name``, refused when it would lie outside ``root``: ``name`` absolute or with ``..``, or a folder
    on the way that is a symbolic link out of ``root``. The last part may be a link: :func:`write_atomically`
    replaces the link itself.

    Raises:
        ConfigError: naming the link (or the name) and ``key``, the option that sets ``root``.
    """
    root = Path(root)
    relative = Path(name)
    target = root / relative
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError(f"refusing to write {target}: the name {str(name)!r} leaves the output folder {root} ({key})")
    base = root.expanduser().resolve()
    folder = root
    for part in relative.parts[:-1]:
        folder = folder / part
        if folder.is_symlink() and not folder.resolve().is_relative_to(base):
            raise ConfigError(
                f"refusing to write {target}: {folder} is a symbolic link to {os.readlink(folder)}, outside the output "
                f"folder {root} ({key}); outputs are never written through a link out of their folder. Remove the "
                "link or choose another output folder"
            )
    return target


def _reason(err: BaseException, folder: Path) -> tuple[str, bool]:
    """(what went wrong in words, whether the disk is full). libsndfile reports a full disk as "System error.", with
    no errno: a write error in a folder with (nearly) no space left is taken for a full disk."""
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return os.strerror(code), True
    try:
        free: int | None = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if not code and free is not None and free < _NEARLY_FULL:
        return f"{os.strerror(errno.ENOSPC)} ({free} bytes free in {folder})", True
    return (os.strerror(code) if isinstance(code, int) and code else str(err).strip() or type(err).__name__), False


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], None], key: str) -> Path:
    """Call ``write(tmp)`` to write a file of ``path``'s name in a private hidden folder beside ``path``, then rename
    it over ``path``: ``path`` holds its old content or the complete new one, never part of it.

    ``write`` picks the format from the file name, as for ``path`` itself. ``key`` names the option that sets the
    folder (for the message). The temporary folder ``.<name>.<random>.tmp`` is removed on failure; one left by a
    killed process is hidden and holds no input a predict folder scan would read.

    Raises:
        OutputWriteError: ``write`` or the rename failed with an ``OSError`` or an audio write error; the message
            names the file and the reason (``No space left on device``, ``Permission denied``).
    """
    path = Path(path)
    staging: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        tmp = staging / path.name
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except (OSError, soundfile.SoundFileError) as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        advice = "make the folder writable"
        if path.is_dir() and not path.is_symlink():
            reason, full, advice = "a folder of that name is in the way", False, "move that folder away"
        else:
            reason, full = _reason(err, path.parent if path.parent.is_dir() else Path.cwd())
            if staging is not None:  # the reader knows the file by its own name, not the temporary one
                reason = reason.replace(str(staging / path.name), str(path))
        advice = "free some space" if full else advice
        error = OutputWriteError(
            f"cannot write {path}: {reason}. No partial file was left (any earlier {path.name} is as it was; the "
            f"files written before it are complete); {advice} or choose another folder ({key}), and run again"
        )
        error.errno = errno.ENOSPC if full else getattr(err, "errno", None)
        raise error from err
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.rmdir()
    return path


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once symbolic links are resolved, or (both existing)
    the same file on disk, as a hard link or a bind mount makes it."""
    return _same(Path(a).expanduser(), Path(b).expanduser())


def numbered(parent: str | os.PathLike[str], stem: str, suffix: str = "") -> Iterator[Path]:
    """``parent/<stem><suffix>``, then ``<stem>-2<suffix>``, ``<stem>-3<suffix>`` ...: the candidate names every
    "never replace an earlier output" rule of the package walks through (run configs, branches, output folders)."""
    yield Path(parent) / f"{stem}{suffix}"
    for n in itertools.count(2):
        yield Path(parent) / f"{stem}-{n}{suffix}"


def free_folder(parent: str | os.PathLike[str], name: str) -> Path:
    """``parent/name``, else ``name-2``, ``name-3`` ...: the first that does not exist or is an empty folder.

    Why: a default output place (predictions, a test's results) shared by every call let a second call mix its files
    into the first's; each call gets a folder of its own instead.
    """
    return next(f for f in numbered(parent, name) if not f.exists() or (f.is_dir() and not any(f.iterdir())))


__all__ = [
    "OutputWriteError",
    "Relation",
    "check_apart",
    "free_folder",
    "numbered",
    "relation",
    "same_file",
    "target_inside",
    "write_atomically",
]
