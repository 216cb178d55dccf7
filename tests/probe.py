"""A callback for multi-process tests: each rank writes what the test compares across ranks."""

import os
from pathlib import Path

import torch
from lightning.pytorch import Callback


class RankProbe(Callback):
    """Per rank, into ``out_dir/rank<R>.pt``: final weights, the noise stream at the first batch, val metrics."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = Path(out_dir)
        self.noise: torch.Tensor | None = None
        self.val_metrics: list[dict[str, float]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.noise is None:  # peek at the global RNG (which draws z) without consuming it
            peek = torch.Generator()
            peek.set_state(torch.get_rng_state())
            self.noise = torch.randn(8, generator=peek)

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.val_metrics.append({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")})

    def on_train_end(self, trainer, pl_module) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        torch.save(
            {"state": state, "noise": self.noise, "val": self.val_metrics, "global_step": trainer.global_step},
            self.out_dir / f"rank{trainer.global_rank}.pt",
        )


class SignalAt(Callback):
    """Sends ``signum`` to this very process after training batch ``batch`` of epoch ``epoch``: a real OS signal
    through Lightning's and Python's handlers, at a point the test knows (mid-epoch, after a given optimizer step),
    where a signal from outside would land at a random one."""

    def __init__(self, signum: int, epoch: int, batch: int) -> None:
        self.signum, self.epoch, self.batch = signum, epoch, batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            print(f"signalling at global step {trainer.global_step}", flush=True)
            os.kill(os.getpid(), self.signum)


class InterruptAt(Callback):
    """Sends ``signum`` to this process at one named moment of training batch ``batch`` of epoch ``epoch``:

    - ``"between_d_and_g"``: after D's optimizer step, before G's (the generator's ``on_before_optimizer_step``);
    - ``"batch_end"``: after the batch (``on_train_batch_end``);
    - ``"before_validation"``: after the epoch's last batch, before its validation (``on_validation_start``;
      ``batch`` is ignored);
    - ``"mid_validation"``: after the first validation batch (``batch`` is ignored).

    The moments a signal from outside can hit at random, made repeatable.
    """

    def __init__(self, signum: int, where: str, epoch: int, batch: int = 0) -> None:
        self.signum, self.where, self.epoch, self.batch = signum, where, epoch, batch
        self._sent = False

    def _send(self, trainer) -> None:
        if not self._sent and not trainer.sanity_checking:
            self._sent = True
            print(f"interrupting ({self.where}) at global step {trainer.global_step}", flush=True)
            os.kill(os.getpid(), self.signum)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        generator_step = optimizer is trainer.optimizers[0]
        batch_idx = trainer.fit_loop.epoch_loop.batch_idx
        here = trainer.current_epoch == self.epoch and batch_idx == self.batch
        if self.where == "between_d_and_g" and generator_step and here:
            self._send(trainer)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.where == "batch_end" and trainer.current_epoch == self.epoch and batch_idx == self.batch:
            self._send(trainer)

    def on_validation_start(self, trainer, pl_module) -> None:
        if self.where == "before_validation" and trainer.current_epoch == self.epoch:
            self._send(trainer)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self.where == "mid_validation" and trainer.current_epoch == self.epoch and batch_idx == 0:
            self._send(trainer)
