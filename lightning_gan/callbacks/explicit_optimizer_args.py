"""On resume, the optimizer settings given on the command line win over the checkpoint's."""

from typing import Any

from lightning.pytorch import Callback, Trainer
from lightning.pytorch.utilities import rank_zero_info
from typing_extensions import override


class ExplicitOptimizerArgs(Callback):
    """On resume, re-apply the optimizer settings given explicitly on the command line.

    Restoring a checkpoint restores each optimizer's state, learning rate included, over whatever the config said;
    a learning rate given on this command line would be silently lost. This sets those values in every parameter
    group (and, for ``lr``, the schedulers' base learning rate) once the state is restored.
    """

    def __init__(self, overrides: dict[int, dict[str, Any]]) -> None:
        self.overrides = overrides

    @override
    def on_train_start(self, trainer: Trainer, pl_module: Any) -> None:
        if trainer.ckpt_path is None:
            return
        for index, values in self.overrides.items():
            optimizer = trainer.optimizers[index]
            for group in optimizer.param_groups:
                group.update(values)
                if "lr" in values:
                    group["initial_lr"] = values["lr"]
            for config in trainer.lr_scheduler_configs:
                if config.scheduler.optimizer is optimizer and "lr" in values and hasattr(config.scheduler, "base_lrs"):
                    config.scheduler.base_lrs = [values["lr"]] * len(config.scheduler.base_lrs)
            rank_zero_info(f"Resumed with optimizer {index} settings from the command line: {values}")
