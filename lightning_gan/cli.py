"""``python -m lightning_gan {fit,validate,test,predict} --config configs/<x>.yaml [--key value ...]``.

A LightningCLI over :class:`lightning_gan.gan.GAN` and any LightningDataModule (``data: {class_path, init_args}``),
with these changes to its defaults:

- ``parser_mode="omegaconf+"``: ``${...}`` interpolations resolve over the *merged* config, so an override given by a
  later ``--config`` or on the command line reaches every place that interpolates it.
- :class:`RunConfigCallback` writes the resolved config into each run's own folder (beside its checkpoints) instead
  of the logger's shared ``save_dir``, so a second run never aborts on an earlier ``config.yaml``; with W&B it also
  logs the config to the run.
- ``--ckpt_path`` restores the checkpoint's model hyperparameters over the config files (so the architecture matches
  the weights), but model values given explicitly on the command line win over the checkpoint's (Lightning alone
  silently replaces them; Lightning-AI/pytorch-lightning PR #21455).
- Every run gets :class:`~lightning_gan.seeding.EpochSeeding` (per-epoch seeding from (seed, rank, epoch), exact
  resume) and, for local paths, :class:`~lightning_gan.checkpoint.AtomicCheckpointIO`.
"""

import netrc
import os
import signal
import sys
import warnings
from typing import Any

from jsonargparse import Namespace, set_parsing_settings
from lightning.pytorch import Callback, LightningDataModule, Trainer
from lightning.pytorch.cli import LightningArgumentParser, SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import OmegaConf
from typing_extensions import override

import lightning_gan.strategies  # noqa: F401  (registers the `ddp_separate` strategy name)
from lightning_gan import _compat, warnings_filter
from lightning_gan.callbacks import PredictionWriter, run_directory
from lightning_gan.checkpoint import AtomicCheckpointIO
from lightning_gan.cli_help import DESCRIPTION, add_subcommands
from lightning_gan.gan import GAN
from lightning_gan.locations import RunLocations
from lightning_gan.report import HtmlReport, ReportFolderError, expand_report_flag
from lightning_gan.seeding import EpochSeeding


class RunConfigCallback(SaveConfigCallback):
    """Save the fully resolved config as ``<run folder>/config.yaml`` and log it to W&B when W&B is a logger."""

    def __init__(self, parser: LightningArgumentParser, config: Namespace, **kwargs: Any) -> None:
        kwargs.update(save_to_log_dir=False, overwrite=True)
        super().__init__(parser, config, **kwargs)

    @override
    def save_config(self, trainer: Trainer, pl_module: Any, stage: str) -> None:  # rank 0 only
        path = run_directory(trainer) / self.config_filename
        path.parent.mkdir(parents=True, exist_ok=True)
        self.parser.save(self.config, str(path), skip_none=False, overwrite=True, multifile=False)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.experiment.config.update(self.config.clone().as_dict(), allow_val_change=True)


def _wandb_has_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


# omegaconf+ resolves on the main parser, where a subcommand's keys sit under `fit.` etc.; converting each file's
# absolute `${data.x}` into a path relative to the file's root keeps configs readable and correct in both modes.
set_parsing_settings(omegaconf_absolute_to_relative_paths=True)

# `${add:a,b}` in configs, e.g. a conditional discriminator's in_channels = condition + real channels, so channel
# counts come from the data module in one place. (omegaconf 2.4 deprecates register_new_resolver in favour of a
# register_resolver whose 2.1-2.3 namesake has another signature, so keep the old name and silence the warning.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    OmegaConf.register_new_resolver("add", lambda *values: sum(values), replace=True)
_SUBCOMMAND_PARSER_KWARGS = {name: {"parser_mode": "omegaconf+"} for name in ("fit", "validate", "test", "predict")}


class GANCLI(_compat.PrivateCLIHooks):
    """The project's LightningCLI; see the module docstring for what differs from Lightning's."""

    def __init__(self, args: list[str] | None = None, run: bool = True) -> None:
        self._raw_args = list(sys.argv[1:] if args is None else args)
        super().__init__(
            GAN,
            LightningDataModule,
            subclass_mode_data=True,
            save_config_callback=RunConfigCallback,
            auto_configure_optimizers=False,
            parser_kwargs={
                "parser_mode": "omegaconf+",
                "prog": "lightning_gan",
                "description": DESCRIPTION,
                **_SUBCOMMAND_PARSER_KWARGS,
            },
            args=args,
            run=run,
        )

    @override
    def after_parse_ckpt_path(self) -> None:
        explicit = _explicit_model_args(self._raw_args)
        subcommand = self.config.get("subcommand")
        if not explicit or not subcommand:
            return
        ckpt_path = self.config[subcommand].get("ckpt_path")
        if not ckpt_path:
            return
        parser = _compat.subcommand_parser(self, subcommand)
        updated = parser.parse_args(explicit, namespace=self.config[subcommand].clone())
        self.config[subcommand] = updated

    @override
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        # Every subcommand has a prediction writer: `predict ... --prediction_writer.output_dir DIR`.
        parser.add_lightning_class_args(PredictionWriter, "prediction_writer")
        # ... and an HTML report (written by `test`, and by `predict --report`): `--report.folder DIR`.
        parser.add_lightning_class_args(HtmlReport, "report")

    @override
    def add_subcommand_parsers(self, parser: LightningArgumentParser, **kwargs: Any) -> None:
        add_subcommands(self, parser, **kwargs)  # one-line descriptions, and `export` listed

    @override
    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        callbacks = trainer.callbacks  # type: ignore[attr-defined]  # set by Lightning's callback connector
        if not any(isinstance(c, EpochSeeding) for c in callbacks):
            callbacks.append(EpochSeeding())
        if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:  # the default: make its local writes atomic
            trainer.strategy.checkpoint_io = AtomicCheckpointIO()
        overrides = self._explicit_optimizer_args()
        if overrides:
            callbacks.append(ExplicitOptimizerArgs(overrides))
        callbacks.append(RunLocations())  # last: prints where things go once the others resolved it
        return trainer

    def _explicit_optimizer_args(self) -> dict[int, dict[str, Any]]:
        """Optimizer init_args given explicitly on the command line, by optimizer index (0: G, 1: D)."""
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config
        out: dict[int, dict[str, Any]] = {}
        options = [arg for arg in _explicit_model_args(self._raw_args) if arg.startswith("--model")]  # not values
        for arg in options:
            key = arg.split("=", 1)[0].removeprefix("--model.")
            for index, name in enumerate(("g_optimizer", "d_optimizer")):
                prefix = f"{name}.init_args."
                if key.startswith(prefix):
                    param = key.removeprefix(prefix)
                    out.setdefault(index, {})[param] = config.model[name].init_args[param]
        return out

    @override
    def after_run_subcommand(self) -> None:
        # Close the W&B run so that the next job in this process (a notebook, a test) starts its own run instead of
        # silently appending to this one.
        for logger in self.trainer.loggers:
            if isinstance(logger, WandbLogger) and _compat.wandb_run_started(logger):
                logger.experiment.finish()

    @override
    def before_instantiate_classes(self) -> None:
        """Without W&B credentials, W&B runs offline (never prompts) and says once how to upload later.

        ``--trainer.enable_progress_bar false`` also drops the configs' progress bar callback (Lightning would
        refuse the combination).
        """
        config = self.config.get(self.config.get("subcommand") or "", self.config)
        callbacks = config.get("trainer", {}).get("callbacks")
        if config.get("trainer", {}).get("enable_progress_bar") is False and callbacks:
            config.trainer.callbacks = [
                c for c in callbacks if not str(c.get("class_path", "")).endswith("ProgressBar")
            ]
        loggers = config.get("trainer", {}).get("logger")
        uses_wandb = "WandbLogger" in str(loggers)
        if uses_wandb and not os.environ.get("WANDB_MODE") and not _wandb_has_credentials():
            os.environ["WANDB_MODE"] = "offline"
            rank_zero_info(
                "W&B: no API key found (WANDB_API_KEY or `wandb login`), logging offline; "
                "upload later with `wandb sync <save_dir>/wandb/offline-run-*`."
            )


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


def _explicit_model_args(args: list[str]) -> list[str]:
    """The ``--model.*`` options given on the command line, with their values, in order."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--model.") or arg.startswith("--model="):
            out.append(arg)
            if "=" not in arg and i + 1 < len(args):
                out.append(args[i + 1])
                i += 1
        i += 1
    return out


def main(args: list[str] | None = None, run: bool = True) -> Any:
    """Run the CLI (``args`` as on the command line; ``None`` reads ``sys.argv``) and return it.

    With ``run=False`` nothing trains: ``main(["--config", "configs/x.yaml"], run=False).model`` and ``.datamodule``
    are the configured objects. ``export`` is handled by :func:`lightning_gan.export.main` (it needs a checkpoint,
    not a config).
    """
    warnings_filter.install()
    argv = expand_report_flag(list(sys.argv[1:] if args is None else args))
    if args is None:
        sys.argv[1:] = argv  # LightningCLI reads sys.argv itself when args is None
    if run and argv[:1] == ["export"]:
        from lightning_gan.export import main as export_main

        return export_main(argv[1:])
    try:
        return GANCLI(args=None if args is None else argv, run=run)
    except SIGTERMException as stopped:
        # Lightning exits 0 after SIGTERM (once the exception checkpoint is written); a scheduler or a shell `&&`
        # must not take a terminated run for a finished one, so exit as a process terminated by SIGTERM does.
        raise SystemExit(128 + signal.SIGTERM) from stopped
    except ReportFolderError as unwritable:  # raised before testing: the message says all, a traceback would bury it
        print(f"lightning_gan: error: {unwritable}", file=sys.stderr)
        raise SystemExit(2) from unwritable


__all__ = ["GANCLI", "RunConfigCallback", "main"]
