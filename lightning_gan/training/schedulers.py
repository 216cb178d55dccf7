"""Learning-rate schedules that a YAML config can name by ``class_path``.

LightningCLI builds a scheduler from its class and keyword arguments, with the optimizer as the only positional
argument, so a schedule that torch expresses as a ``LambdaLR`` with a Python lambda (pix2pix's linear decay) or as a
``SequentialLR`` of other schedulers cannot be written in a config. The classes here take plain numbers instead.
"""

import time
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from typing_extensions import override


class LinearDecay(LRScheduler):
    """Constant learning rate for ``constant_epochs`` epochs, then linear decay towards zero over ``decay_epochs``.

    pix2pix's ``--lr_policy linear`` (Isola et al. 2017; reference junyanz/pytorch-CycleGAN-and-pix2pix at 2a7afba,
    ``models/networks.py`` L56-62, with ``epoch_count = 1``): in epoch ``e`` (counted from 0) the rate is the base
    rate times ``1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1)``. With the defaults 100 / 100, epochs
    1-100 use the base rate (2e-4), epoch 101 uses 100/101 of it, epoch 150 51/101 and epoch 200, the last, 1/101;
    the rate reaches 0 only after the last epoch, as in the reference. Unlike the reference, the factor is clamped
    at 0, so training past ``constant_epochs + decay_epochs`` keeps a zero rate instead of a negative one.

    Step it once per epoch, after the epoch's training (``GAN(scheduler_interval="epoch")``, the default).

    Args:
        optimizer: the optimizer whose rates are scheduled.
        constant_epochs: epochs at the base rate (reference ``--n_epochs 100``).
        decay_epochs: epochs of linear decay after them (reference ``--n_epochs_decay 100``).
        last_epoch: index of the last epoch when resuming; -1 starts fresh (torch's convention).

    Raises:
        ValueError: ``constant_epochs`` or ``decay_epochs`` is negative.
    """

    def __init__(
        self, optimizer: Optimizer, constant_epochs: int = 100, decay_epochs: int = 100, last_epoch: int = -1
    ) -> None:
        for name, value in (("constant_epochs", constant_epochs), ("decay_epochs", decay_epochs)):
            if value < 0:
                raise ValueError(f"LinearDecay: expected `{name}` >= 0, got {value!r}.")
        self.constant_epochs = constant_epochs
        self.decay_epochs = decay_epochs
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch: int) -> float:
        """The multiplier of the base rate in epoch ``epoch`` (counted from 0)."""
        return max(0.0, 1.0 - max(0, epoch + 1 - self.constant_epochs) / (self.decay_epochs + 1))

    @override
    def get_lr(self) -> list[float | Tensor]:  # LRScheduler's type; the rates here are floats
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]


class TimedLinearDecay(LRScheduler):
    """pix2pix's linear policy on a wall-clock budget: the base rate for ``constant_fraction`` of ``total_seconds``
    of training, then linear decay to zero at ``total_seconds``.

    For recipes bounded by ``trainer.max_time`` (``configs/pix2pix_cpu.yaml``): an epoch-based decay completes only
    if the machine is as fast as the one it was sized on, while this one completes at the time limit on any machine,
    whatever else runs on it. The clock counts the time between scheduler steps (``scheduler_interval: step``), and
    is saved with the scheduler's state, so a resumed run continues the schedule where it stopped. The schedule is
    therefore not reproducible across machines (an epoch-based one is); use :class:`LinearDecay` where that matters.

    Args:
        optimizer: the optimizer whose rates are scheduled.
        total_seconds: the training time budget (set it to ``trainer.max_time``).
        constant_fraction: the part of the budget at the base rate (the reference: half).
        last_epoch: torch's step counter when resuming; -1 starts fresh.

    Raises:
        ValueError: ``total_seconds`` is not positive or ``constant_fraction`` is outside [0, 1].
    """

    def __init__(
        self, optimizer: Optimizer, total_seconds: float, constant_fraction: float = 0.5, last_epoch: int = -1
    ) -> None:
        if total_seconds <= 0:
            raise ValueError(f"TimedLinearDecay: expected `total_seconds` > 0, got {total_seconds!r}.")
        if not 0.0 <= constant_fraction <= 1.0:
            raise ValueError(f"TimedLinearDecay: expected `constant_fraction` in [0, 1], got {constant_fraction!r}.")
        self.total_seconds, self.constant_fraction = float(total_seconds), float(constant_fraction)
        self.elapsed = 0.0
        self._last_time: float | None = None
        super().__init__(optimizer, last_epoch)

    def factor(self, elapsed: float) -> float:
        """The multiplier of the base rate after ``elapsed`` seconds of training."""
        start = self.constant_fraction * self.total_seconds
        if elapsed <= start:
            return 1.0
        return max(0.0, 1.0 - (elapsed - start) / max(self.total_seconds - start, 1e-9))

    @override
    def step(self, epoch: int | None = None) -> None:
        now = time.monotonic()
        if self._last_time is not None:
            self.elapsed += now - self._last_time
        self._last_time = now
        super().step()

    @override
    def get_lr(self) -> list[float | Tensor]:  # LRScheduler's type; the rates here are floats
        return [base * self.factor(self.elapsed) for base in self.base_lrs]

    @override
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.pop("_last_time", None)  # a monotonic clock reading means nothing in another process
        return state

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._last_time = None  # the next step restarts the clock: the time the run was stopped does not count


__all__ = ["LinearDecay", "TimedLinearDecay"]
