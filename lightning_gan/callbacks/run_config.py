"""The fully resolved config of a run, saved in the run's own folder and logged to W&B."""

from typing import Any

from jsonargparse import Namespace
from lightning.pytorch import Trainer
from lightning.pytorch.cli import LightningArgumentParser, SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger
from typing_extensions import override

from lightning_gan.training import run_folders


def _reusable(config: Namespace) -> Namespace:
    """``config`` without the W&B run ``id`` and ``resume`` the CLI set for this run.

    Why: the saved config is also the recipe of the run, given to ``fit --config <run>/config.yaml`` for a new run;
    with this run's id in it, that new run would claim this run's W&B folder (and be refused). The run's id stays in
    its folder name and in every checkpoint (``lightning_gan_run``), from which ``fit --ckpt_path`` resumes it.
    """
    out = config.clone()
    for key in ("trainer.logger", *(f"{sub}.trainer.logger" for sub in ("fit", "validate", "test", "predict"))):
        logger = out.get(key)
        for node in logger if isinstance(logger, list) else [logger]:
            if isinstance(node, Namespace) and str(node.get("class_path", "")).endswith("WandbLogger"):
                args = node.get("init_args")
                if isinstance(args, Namespace):
                    for name in ("id", "resume"):
                        if name in args:
                            args[name] = None
    return out


class RunConfigCallback(SaveConfigCallback):
    """Save the fully resolved config as ``<run folder>/config.yaml`` and log it to W&B when W&B is a logger."""

    def __init__(self, parser: LightningArgumentParser, config: Namespace, **kwargs: Any) -> None:
        kwargs.update(save_to_log_dir=False, overwrite=True)
        super().__init__(parser, config, **kwargs)

    @override
    def save_config(self, trainer: Trainer, pl_module: Any, stage: str) -> None:  # rank 0 only
        folder = run_folders.run_directory(trainer)
        path = run_folders.free_config_path(folder, self.config_filename)  # never replaces an earlier one
        path.parent.mkdir(parents=True, exist_ok=True)
        self.parser.save(_reusable(self.config), str(path), skip_none=False, overwrite=True, multifile=False)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.experiment.config.update(self.config.clone().as_dict(), allow_val_change=True)
