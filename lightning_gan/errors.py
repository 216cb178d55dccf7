"""Errors of ours print as one message, ``lightning_gan: error: <message>``, with exit status 2; others keep theirs.

A user who mistypes a key, points ``--ckpt_path`` at the wrong file or feeds a broken WAV needs the key, the value
and what was expected, not a screen of frames from jsonargparse, Lightning and torch. :func:`run_reporting_errors`
runs the command line and turns the errors that *are* such messages into one line on stderr:

- :class:`LightningGanError` (and its subclasses, e.g. :class:`CheckpointError`, :class:`InputError`) wherever
  raised, also as the cause or context of another exception;
- else ``ValueError``, ``OSError`` (``FileNotFoundError`` ...), ``RuntimeError`` and ``FloatingPointError`` *raised
  by lightning_gan's own code* (the innermost frame is in this package), anywhere in the exception's cause chain, so a
  ``ValueError`` of ours that jsonargparse wraps in its own is still reported with our message;
- Lightning's ``MisconfigurationException`` (e.g. "`max_epochs` must be a non-negative integer or -1");
- jsonargparse's parse errors (``argparse.ArgumentError``: an unknown key, a value of the wrong type, a missing
  config file).

Anything else (a bug, a torch error we did not anticipate) keeps its traceback. ``LIGHTNING_GAN_DEBUG=1`` shows
the traceback of every error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent
DEBUG_VARIABLE = "LIGHTNING_GAN_DEBUG"
EXIT_STATUS = 2
_OURS_WHEN_RAISED_HERE = (ValueError, OSError, RuntimeError, FloatingPointError)


class LightningGanError(Exception):
    """Base of the project's user-facing errors: the message says what is wrong and what to do."""


class CheckpointError(LightningGanError, ValueError):
    """A ``--ckpt_path`` that is missing, unreadable, not a lightning_gan checkpoint, or of another model."""


class InputError(LightningGanError, ValueError):
    """Input files (a predict folder) that cannot be used; the message lists every bad file."""


class ConfigError(LightningGanError, ValueError):
    """A configuration value out of range; the message names the key, the value and what was expected."""


class NotWritableError(LightningGanError, OSError):
    """A folder the run writes to refused a write (permissions, a read-only file system); the message names it."""


def _raised_in_package(err: BaseException) -> bool:
    tb = err.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    try:
        return Path(last.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)
    except (OSError, ValueError):
        return False


def _is_ours(err: BaseException) -> bool:
    if isinstance(err, LightningGanError):
        return True
    if type(err).__name__ == "MisconfigurationException" and type(err).__module__.startswith("lightning"):
        return True
    if isinstance(err, argparse.ArgumentError):  # jsonargparse raises argparse's (the CLI's exit_on_error=False)
        return True
    return isinstance(err, _OURS_WHEN_RAISED_HERE) and _raised_in_package(err)


def user_error(err: BaseException) -> BaseException | None:
    """The exception in ``err``'s cause/context chain whose message is for the user (innermost first), or ``None``."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    crafted = next((e for e in chain if isinstance(e, LightningGanError)), None)
    if crafted is not None:  # written for the user, e.g. a disk-full message over the OSError it explains
        return crafted
    parse = next((e for e in chain if isinstance(e, argparse.ArgumentError)), None)
    if parse is not None:  # the outermost names the key ("Parser key "model.generator": ... 'ngff' ...")
        return parse
    for candidate in reversed(chain):  # the innermost of ours: a wrapper's message adds only its own frames
        if _is_ours(candidate):
            return candidate
    return None


def message(err: BaseException) -> str:
    """``err``'s message as printed: its text, or its type when it has none."""
    text = str(err.args[0] if isinstance(err, KeyError) and err.args else err).strip()
    return text or type(err).__name__


def run_reporting_errors(run: Callable[[list[str] | None], Any], args: list[str] | None = None) -> Any:
    """Call ``run(args)``; on an error of ours print ``lightning_gan: error: <message>`` and exit with status 2.

    ``LIGHTNING_GAN_DEBUG=1`` in the environment re-raises instead, traceback included.
    """
    try:
        return run(args)
    except Exception as err:
        ours = user_error(err)
        if ours is None or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
            raise
        sys.stderr.write(f"lightning_gan: error: {message(ours)}\n")
        if isinstance(ours, argparse.ArgumentError):
            sys.stderr.write("(`lightning_gan <subcommand> --help` lists the options)\n")
        sys.stderr.write(f"(set {DEBUG_VARIABLE}=1 to see the traceback)\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_STATUS) from None


__all__ = [
    "DEBUG_VARIABLE",
    "CheckpointError",
    "ConfigError",
    "InputError",
    "LightningGanError",
    "NotWritableError",
    "message",
    "run_reporting_errors",
    "user_error",
]
