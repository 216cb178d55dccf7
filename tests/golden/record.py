"""Golden values of every shipped experiment config at tiny size, recorded before the loop/objective refactor.

For each experiment of ``tests/experiments.py`` (its config files and tiny overrides): the values logged after one
training batch, a fingerprint of every model state tensor after it, and the same after a short fit (2 batches and one
validation batch). The refactor must reproduce them bit for bit
on the machine that recorded them; ``tests/test_golden.py`` compares.

Record (only when a behaviour change is intended, and say so in the commit)::

    python -m tests.golden.record            # every experiment
    python -m tests.golden.record dcgan_digits
"""

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback

from tests.experiments import EXPERIMENTS as REGISTRY
from tests.experiments import NAMES as EXPERIMENTS

GOLDEN = Path(__file__).resolve().parent


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in sorted(metrics.items())}


def fingerprint(tensor: torch.Tensor) -> dict[str, Any]:
    """A tensor's exact identity (sha256 of its bytes) and two sums that a tolerance can compare across machines."""
    t = tensor.detach().cpu().contiguous()
    wide = t.double() if t.is_floating_point() else t.long().double()
    return {
        "shape": list(t.shape),
        "dtype": str(t.dtype),
        "sha256": hashlib.sha256(t.view(-1).view(torch.uint8).numpy().tobytes()).hexdigest() if t.numel() else "",
        "sum": float(wide.sum()),
        "norm": float(wide.norm()),
    }


def _leaves(key: str, value: Any) -> list[tuple[str, torch.Tensor]]:
    """The tensors of a state-dict entry: the entry itself, or, for a module's extra state (e.g. MetricGAN+'s replay
    buffer: lists of tensors, a generator state, counts), each tensor and number inside it, keyed by its path."""
    if isinstance(value, torch.Tensor):
        return [(key, value)]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(f"{key}.{k}", v)]
    if isinstance(value, (list, tuple)):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(f"{key}.{i}", v)]
    return [(key, torch.tensor(float(value), dtype=torch.float64))]


def _state(module: torch.nn.Module) -> dict[str, dict[str, Any]]:
    return {k: fingerprint(t) for key, v in module.state_dict().items() for k, t in _leaves(key, v)}


class _Capture(Callback):
    def __init__(self) -> None:
        self.first: dict[str, Any] = {}

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if batch_idx == 0:
            self.first = {"logged": _scalars(trainer.callback_metrics), "state": _state(pl_module)}


def run(name: str, root: Path) -> dict[str, Any]:
    """One tiny fit of experiment ``name``'s config files (``tests/experiments.py``; CPU, one thread): what it logged
    and its state."""
    from lightning_gan.cli import main

    torch.set_num_threads(1)
    args = [
        *REGISTRY[name].config_args(), *REGISTRY[name].tiny,
        "--trainer.default_root_dir", str(root), "--trainer.logger", "false",
        "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
        "--trainer.check_val_every_n_epoch", "1",
        "--trainer.num_sanity_val_steps", "0", "--trainer.enable_progress_bar", "false",
        "--trainer.accelerator", "cpu", "--trainer.log_every_n_steps", "1",
    ]  # fmt: skip
    cli = main(args, run=False)
    capture = _Capture()
    cli.trainer.callbacks.append(capture)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return {
        "first_batch": capture.first,
        "fit": {"logged": _scalars(cli.trainer.callback_metrics), "state": _state(cli.model)},
        "torch": torch.__version__,
        "cpu": torch.backends.cpu.get_cpu_capability(),
    }


def main(names: list[str]) -> None:
    os.environ.setdefault("WANDB_MODE", "offline")
    for name in names or EXPERIMENTS:
        with tempfile.TemporaryDirectory() as tmp:
            record = run(name, Path(tmp))
        (GOLDEN / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
        print(name, record["first_batch"]["logged"])


if __name__ == "__main__":
    main(sys.argv[1:])
