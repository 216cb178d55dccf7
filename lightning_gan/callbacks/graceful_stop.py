"""Ctrl-C and SIGTERM stop a fit at the next point where the run is whole: after a batch, or after an epoch's
validation.

Lightning's own handling leaves three inconsistent histories behind (each reproduced with a signal sent at a chosen
moment, ``tests/training/test_interrupts.py``):

- Ctrl-C raises ``KeyboardInterrupt`` wherever Python happens to be, e.g. between the discriminator's and the
  generator's optimizer step of a batch: the exception checkpoint holds a D step that G never took, and the batch
  runs again on resume (an odd ``global_step``, a duplicated log row);
- SIGTERM during an epoch's last batch or its validation stops the validation half-way, and on resume Lightning takes
  the last-batch checkpoint for one written after validation: that epoch is never validated, so never a candidate
  for ``best-*.ckpt``;
- the same happens to Ctrl-C before or during validation.

:class:`GracefulStop` takes over both signals while the training loop runs. The first one only records the request;
the callback passes it on to Lightning's SIGTERM flag (:func:`lightning_gan._compat.request_graceful_stop`) at the
first whole point: at the end of a batch after which no validation is due, after the validation that follows it, or
at the end of the epoch when the batch was the epoch's last. Lightning then stops as after a SIGTERM: its counters
and logs include the batch, and ``ModelCheckpoint(save_on_exception=True)`` writes the checkpoint to resume from.
A second Ctrl-C stops at once (Python's ``KeyboardInterrupt``); the batch in progress may then be half done, and
resuming from that checkpoint repeats it. The process exits with 128 + the signal's number (130 for Ctrl-C, 143 for
SIGTERM), as a process killed by the signal would, so a scheduler or ``&&`` never takes it for a finished run.

The CLI installs it in every ``fit``; with a bare ``Trainer``, pass ``callbacks=[GracefulStop()]``. Signals can
only be handled in the main thread; elsewhere (a notebook's worker thread) the callback does nothing.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_info
from typing_extensions import override

from lightning_gan import _compat

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: int | None = None  # the signal that stopped the last fit in this process, for the exit status


def stopping_signal() -> int | None:
    """The signal that stopped the most recent fit of this process gracefully, or ``None``."""
    return _received


class GracefulStop(Callback):
    """Defer Ctrl-C and SIGTERM to the next batch or validation boundary; see the module docstring."""

    def __init__(self) -> None:
        self.requested: int | None = None
        self._previous: dict[int, Any] = {}
        self._at_epoch_end = False

    # ------------------------------------------------------------------------------------------------ signal handling
    def _handle(self, signum: int, frame: FrameType | None) -> None:
        global _received
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now
        if self.requested is None:
            name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
            print(
                f"\n{name}: stopping after the current batch (and its validation, if one is due) with a checkpoint "
                "to resume from; press Ctrl-C again to stop at once.",
                flush=True,
            )
        self.requested = signum
        _received = signum

    def _install(self) -> None:
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for signum in _SIGNALS:
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN:  # e.g. SIGINT of a job started in the background: keep ignoring it
                continue
            self._previous[signum] = current
            signal.signal(signum, self._handle)

    def _uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    # ---------------------------------------------------------------------------------------------------- hooks
    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # After Lightning registered its own SIGTERM handler (Trainer._run), which this one replaces while training;
        # Lightning restores the handlers it found at teardown, and so does this callback.
        global _received
        _received = None
        self.requested = None
        self._at_epoch_end = False
        self._install()

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.requested is None:
            return
        if _compat.validation_due_after_batch(trainer):
            return  # on_validation_end passes it on
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._at_epoch_end = True  # on_train_epoch_end passes it on
            return
        _compat.request_graceful_stop(trainer)

    @override
    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.requested is None or trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        if trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._at_epoch_end = True
            return
        _compat.request_graceful_stop(trainer)

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.requested is not None:
            rank_zero_info(f"Stopping at the end of epoch {trainer.current_epoch} (global step {trainer.global_step})")
            _compat.request_graceful_stop(trainer)

    @override
    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._uninstall()

    @override
    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        self._uninstall()


__all__ = ["GracefulStop", "stopping_signal"]
