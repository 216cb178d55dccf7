"""Every use of Lightning's (and torch's) private API in this package, in one place.

Private names change between releases without a deprecation. Each one used here is reached through this module,
with no ``getattr(..., default)`` fallback: when a release renames or removes one, the call fails with an
:class:`AttributeError` that names it (and ``tests/test_compat.py`` fails the same way on the next CI run), instead
of silently changing behaviour (e.g. logging every step). The names, and why each is needed:

- ``Trainer._logger_connector.should_update_logs``: whether this step's logs are written; Lightning's own
  ``LearningRateMonitor`` asks it. There is no public equivalent.
- ``LightningModule._trainer``: the trainer if one is attached; the public ``trainer`` property raises when none is.
- ``nn.Module._compiled_call_impl``: whether ``nn.Module.compile`` already compiled a module in place.
- ``LightningCLI._parse_ckpt_path``, ``LightningCLI._run_subcommand``, ``LightningCLI._subcommand_parsers``: the CLI
  checks ``--ckpt_path`` before Lightning reads it, re-applies command-line model values over a checkpoint's
  hyperparameters, checks the checkpoint's weights against the model before a subcommand, and closes the W&B run
  after it (:mod:`lightning_gan.cli`).
- ``LightningCLI._prepare_subcommand_parser`` also adds the arguments of one subcommand only (``fit --new_run``,
  ``predict --untrained``, ``predict --skip_bad_inputs``).
- ``CSVLogger._version`` / ``TensorBoardLogger._version``: the version folder a run claimed (or resumes), set before
  the logger creates it; the constructor's ``version`` is the only public way, and the logger exists by then
  (:mod:`lightning_gan.training.run_folders`).
- ``LightningCLI._add_subcommands``, ``LightningCLI._prepare_subcommand_parser``: the CLI lists its subcommands with
  its own one-line descriptions, ``export`` included (:mod:`lightning_gan.cli.help`).
- ``WandbLogger._experiment``: whether a W&B run was started (the public ``experiment`` property starts one).
- ``lightning.pytorch.overrides.distributed._sync_module_states`` and ``DDPStrategy._setup_model``: broadcast the
  module's state and wrap one network in ``DistributedDataParallel`` (:mod:`lightning_gan.training.ddp`).
- ``lightning.fabric.utilities.cloud_io._is_local_file_protocol``: local path or remote URL
  (:mod:`lightning_gan.checkpoints.atomic`).
"""

from collections.abc import Callable
from typing import Any

import lightning
from lightning.fabric.utilities import cloud_io
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.overrides import distributed as _distributed
from lightning.pytorch.strategies import DDPStrategy
from torch import nn
from typing_extensions import override


def _require(owner: Any, name: str) -> Any:
    """``owner.name``, or an AttributeError that says which private attribute this Lightning release lacks."""
    try:
        return getattr(owner, name)
    except AttributeError as missing:
        what = owner.__name__ if isinstance(owner, type) or hasattr(owner, "__file__") else type(owner).__name__
        raise AttributeError(
            f"lightning_gan relies on the private `{what}.{name}`, which Lightning {lightning.__version__} (or this "
            f"torch) does not have; update lightning_gan/_compat.py for this release."
        ) from missing


def should_update_logs(trainer: Trainer) -> bool:
    """Whether the loggers write this step's values (every ``trainer.log_every_n_steps`` steps)."""
    return bool(_require(_require(trainer, "_logger_connector"), "should_update_logs"))


def attached_trainer(module: LightningModule) -> Trainer | None:
    """The trainer ``module`` is attached to, or ``None`` (e.g. a module loaded for inference)."""
    return _require(module, "_trainer")


def is_compiled(module: nn.Module) -> bool:
    """Whether ``module.compile()`` already compiled ``module`` in place."""
    return _require(module, "_compiled_call_impl") is not None


def wandb_run_started(logger: WandbLogger) -> bool:
    """Whether ``logger`` started a W&B run (asking ``logger.experiment`` would start one)."""
    return _require(logger, "_experiment") is not None


def subcommand_parser(cli: LightningCLI, subcommand: str) -> Any:
    """The argument parser of ``subcommand`` (``fit``, ``validate``, ...)."""
    return _require(cli, "_subcommand_parsers")[subcommand]


def sync_module_states(module: nn.Module) -> None:
    """Broadcast ``module``'s parameters and buffers from rank 0 (what DDP does for the modules it wraps)."""
    _require(_distributed, "_sync_module_states")(module)


def ddp_wrapper(strategy: DDPStrategy) -> Callable[[nn.Module], nn.Module]:
    """The strategy's function that wraps one module in ``DistributedDataParallel`` with its settings."""
    return _require(strategy, "_setup_model")


def logger_version(logger: Any) -> int | str | None:
    """A CSV or TensorBoard logger's version as given or set (``None``: not chosen yet; ``logger.version`` would
    choose one by listing the folder)."""
    return _require(logger, "_version")


def set_logger_version(logger: Any, version: int | str) -> None:
    """Make a CSV or TensorBoard logger write to ``version`` (``version_<n>`` for an int, else that folder name)."""
    _require(logger, "_version")
    logger._version = version


def request_graceful_stop(trainer: Trainer) -> None:
    """Ask the fit loop to stop at its next SIGTERM check, exactly as Lightning's own SIGTERM handler does.

    Lightning checks the flag after each training batch (after its counters and logs) and after each epoch, and
    then raises ``SIGTERMException``, so the exception checkpoint holds a whole number of batches.
    """
    _require(_require(trainer, "_signal_connector"), "received_sigterm")
    trainer._signal_connector.received_sigterm = True


def validation_due_after_batch(trainer: Trainer) -> bool:
    """Whether the fit loop validates right after the training batch that just ended (Lightning's own rule)."""
    loop = trainer.fit_loop.epoch_loop
    return bool(_require(loop, "_should_check_val_fx")(_require(trainer.fit_loop, "_data_fetcher")))


def is_local_path(path: Any) -> bool:
    """Whether ``path`` is on the local filesystem (not an ``s3://``, ``gs://``, ... URL)."""
    return bool(_require(cloud_io, "_is_local_file_protocol")(path))


class PrivateCLIHooks(LightningCLI):
    """Public-named hooks around the three private ``LightningCLI`` steps the project's CLI extends.

    Subclasses override :meth:`after_parse_ckpt_path`, :meth:`after_run_subcommand` and
    :meth:`add_subcommand_parsers` (with :meth:`prepare_subcommand_parser`) instead of the private methods, so a
    rename in Lightning breaks here (at import, below) rather than silently skipping the override.
    """

    @override
    def _prepare_subcommand_parser(self, klass: type, subcommand: str, **kwargs: Any) -> Any:
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        self.add_subcommand_arguments(parser, subcommand)
        return parser

    @override
    def _parse_ckpt_path(self) -> None:
        self.before_parse_ckpt_path()
        super()._parse_ckpt_path()
        self.after_parse_ckpt_path()

    @override
    def _run_subcommand(self, subcommand: str) -> None:
        try:
            self.before_run_subcommand(subcommand)
            super()._run_subcommand(subcommand)
        finally:
            self.after_run_subcommand()

    def add_subcommand_arguments(self, parser: Any, subcommand: str) -> None:
        """Add arguments to one subcommand's parser (``add_arguments_to_parser`` adds to every subcommand's)."""

    def before_parse_ckpt_path(self) -> None:
        """Runs before Lightning reads ``--ckpt_path``'s hyperparameters into the parsed config."""

    def _add_subcommands(self, parser: Any, **kwargs: Any) -> None:
        self.add_subcommand_parsers(parser, **kwargs)

    def add_subcommand_parsers(self, parser: Any, **kwargs: Any) -> None:
        """Registers one parser per subcommand under ``parser`` (by default Lightning's, with its descriptions)."""
        super()._add_subcommands(parser, **kwargs)

    def prepare_subcommand_parser(self, subcommand: str, **kwargs: Any) -> Any:
        """Lightning's parser for ``subcommand``, recorded where Lightning looks it up later."""
        parser = self._prepare_subcommand_parser(self.trainer_class, subcommand, **kwargs)  # type: ignore[arg-type]
        if not hasattr(self, "_subcommand_parsers"):
            self._subcommand_parsers = {}
        self._subcommand_parsers[subcommand] = parser
        return parser

    def after_parse_ckpt_path(self) -> None:
        """Runs after Lightning applied ``--ckpt_path``'s hyperparameters to the parsed config."""

    def before_run_subcommand(self, subcommand: str) -> None:
        """Runs after the classes are instantiated, before the subcommand (``fit``, ...)."""

    def after_run_subcommand(self) -> None:
        """Runs after a subcommand (``fit``, ...), whether it finished or raised."""


# Overriding a method that no longer exists would silently never run: check the overridden names at import.
for _name in ("_parse_ckpt_path", "_run_subcommand", "_add_subcommands", "_prepare_subcommand_parser"):
    _require(LightningCLI, _name)
_require(DDPStrategy, "_setup_model")
del _name
