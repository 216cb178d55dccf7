"""The data modules' user errors: a data file that cannot be used (readable also when a DataLoader worker raised
it), and a batch size larger than the training set.

A file deleted, truncated or rewritten after setup is found only when a batch reads it, usually inside a DataLoader
worker process. The worker cannot send the exception itself: torch re-raises it in the main process by calling the
exception's class with one string, ``"Caught <Class> in DataLoader worker process <n>.\\nOriginal Traceback ..."``,
the whole formatted traceback of the worker (``torch._utils.ExceptionWrapper.reraise``). Printed as it is, that is a
screen of frames with the file named on the last line. :class:`DataFileError` recognises that string when it is
constructed and keeps only the original message, so the command line prints the same one line
(``lightning_gan: error: <message>``) whether the file was read in the main process or in a worker.
"""

from __future__ import annotations

from lightning_gan.errors import ConfigError, InputError

_WORKER_PREFIX = "Caught "
_WORKER_MARKER = "\nOriginal Traceback (most recent call last):\n"


def original_message(cls: type[BaseException], text: str) -> str:
    """The message of the exception a DataLoader worker raised, from the string torch re-raises it with.

    ``text`` is returned unchanged when it is not such a string. In it, the worker's exception is the last line that
    starts with ``<module>.<qualified class name>: `` (how :mod:`traceback` prints an exception of ``cls``); its
    message runs from there to the end, so a message of several lines is kept whole.
    """
    if not (text.startswith(_WORKER_PREFIX) and _WORKER_MARKER in text):
        return text
    heading = f"\n{cls.__module__}.{cls.__qualname__}: "
    at = text.rfind(heading)
    if at < 0:
        return text
    return text[at + len(heading) :].strip()


class DataFileError(InputError):
    """A training, evaluation or prediction file that cannot be used; the message names the file.

    Raised by the datasets' ``__getitem__`` as well as at setup. Constructed from the string a DataLoader worker
    re-raises an exception with (module docstring), it keeps only the worker's original message.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(original_message(type(self), message))


MIN_BATCHES = 4
"""Fewest full training batches an epoch of :class:`~lightning_gan.data.ImageFolderDataModule` draws: a smaller
folder is passed over again (its module docstring, "Small folders")."""


def check_full_batch(batch_size: int, items: int, what: str, source: str) -> None:
    """Stop before training when not one full batch can be drawn.

    The data modules that drop the last incomplete batch (``drop_last=True``: every batch the same size, as virtual
    batch norm and the GAN losses' batch statistics want) would otherwise give Lightning no training batch at all:
    the run ends at once, "successfully", with no checkpoint.

    Args:
        batch_size: the data module's ``batch_size``.
        items: how many training items there are.
        what: what an item is, plural ("images", "digits", "windows of 16384 samples").
        source: where they come from, for the message (a folder, "the digits' training split").

    Raises:
        ConfigError: ``batch_size`` is below 1 or above ``items``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size > items:
        raise ConfigError(
            f"batch_size={batch_size} is more than the {items} training {what} in {source}: incomplete batches are "
            f"dropped, so not one batch would train. Set --data.init_args.batch_size to at most {items}"
            + (", or add training data" if items else "")
        )


__all__ = ["MIN_BATCHES", "DataFileError", "check_full_batch", "original_message"]
