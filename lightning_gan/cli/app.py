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
- ``--trainer.devices N`` (N > 1) or ``--trainer.num_nodes N`` with the default ``strategy: auto`` trains with
  ``ddp_separate`` instead of Lightning's ``ddp``, which cannot train a GAN
  (:func:`lightning_gan.training.ddp.gan_strategy`).
- A broken ``--config`` file, a circular ``${...}``, a ``default_root_dir`` that is a file or read-only, and a run
  folder that turns read-only during training each stop with one message naming the file, key or folder.
- ``validate``/``test``/``predict`` given ``--ckpt_path`` (a checkpoint or a run folder) and no ``--config`` take
  the run's ``config.yaml`` (:mod:`lightning_gan.cli.run_reuse`); of a checkpoint inside a run folder they write
  into that folder (``<run>/test/<time>/``, ``<run>/predictions/<inputs>/``) with no logger run of their own; every
  subcommand accepts a run's ``config.yaml``; ``fit`` ends with :class:`~lightning_gan.callbacks.RunSummary`'s
  lines and ``<run>/metrics.json``.
- Every run gets :class:`~lightning_gan.callbacks.epoch_seeding.EpochSeeding` (per-epoch seeding from (seed, rank,
epoch), exact
  resume) and, for local paths, :class:`~lightning_gan.checkpoints.atomic.AtomicCheckpointIO`.
"""

import errno
import netrc
import os
import re
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

from jsonargparse import set_parsing_settings
from lightning.pytorch import LightningDataModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import ArgsType, LightningArgumentParser
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import OmegaConf
from typing_extensions import override

import lightning_gan.training.ddp  # registers the `ddp_separate` strategy name
from lightning_gan import _compat
from lightning_gan.callbacks.epoch_seeding import EpochSeeding
from lightning_gan.callbacks.explicit_optimizer_args import ExplicitOptimizerArgs
from lightning_gan.callbacks.graceful_stop import GracefulStop, stopping_signal
from lightning_gan.callbacks.html_report import HtmlReport, ReportFolderError, expand_report_flag
from lightning_gan.callbacks.prediction_writer import PredictionWriter
from lightning_gan.callbacks.run_config import RunConfigCallback
from lightning_gan.callbacks.run_locations import RunLocations
from lightning_gan.callbacks.run_summary import RunSummary
from lightning_gan.checkpoints import reading, trust
from lightning_gan.checkpoints.atomic import AtomicCheckpointIO
from lightning_gan.cli import run_reuse, warnings_filter
from lightning_gan.cli.config_validation import check_config, check_root_dir, interpolation_error, yaml_syntax_error
from lightning_gan.cli.help import DESCRIPTION, add_subcommands
from lightning_gan.cli.moved import check_moved
from lightning_gan.cli.run_reuse import RunSource
from lightning_gan.data.predict_folder import report_skipped
from lightning_gan.errors import ConfigError, LightningGanError, NotWritableError, run_reporting_errors
from lightning_gan.gan import GAN
from lightning_gan.training import run_folders
from lightning_gan.training.output_paths import free_folder


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
# exit_on_error=False: a parse error is raised (jsonargparse's ArgumentError) for `console` to print as one line,
# instead of jsonargparse printing the whole usage before it.
_SUBCOMMAND_PARSER_KWARGS = {
    name: {"parser_mode": "omegaconf+", "exit_on_error": False} for name in ("fit", "validate", "test", "predict")
}


class GANCLI(_compat.PrivateCLIHooks):
    """The project's LightningCLI; see the module docstring for what differs from Lightning's."""

    def __init__(self, args: list[str] | None = None, run: bool = True, run_source: RunSource | None = None) -> None:
        self._raw_args = list(sys.argv[1:] if args is None else args)
        self._run_source = run_source  # the training run an evaluating subcommand's checkpoint belongs to
        self._checkpoint: dict[str, Any] | None = None  # the --ckpt_path checkpoint, checked
        self._run_record: dict[str, Any] | None = None  # the run a resumed fit continues
        super().__init__(
            GAN,
            LightningDataModule,
            subclass_mode_data=True,
            save_config_callback=RunConfigCallback,
            auto_configure_optimizers=False,
            parser_kwargs={
                "parser_mode": "omegaconf+",
                "prog": "lightning_gan",
                "exit_on_error": False,
                "description": DESCRIPTION,
                **_SUBCOMMAND_PARSER_KWARGS,
            },
            args=args,
            run=run,
        )

    @override
    def add_subcommand_arguments(self, parser: LightningArgumentParser, subcommand: str) -> None:
        parser.add_argument(
            "--trusted_modules",
            type=str | None,
            default=None,
            help="Comma-separated module prefixes whose classes a --ckpt_path checkpoint may name, beyond "
            "lightning_gan, torch.optim, torch.nn, torchmetrics, Lightning's callbacks and loggers, "
            "$LIGHTNING_GAN_TRUSTED_MODULES and the classes this config names (docs/security.md). Trust only files "
            "you trust.",
        )
        # Every subcommand accepts new_run, so that a run's saved config.yaml (which holds it) loads into any of them.
        parser.add_argument(
            "--new_run",
            type=bool,
            default=False,
            help="With --ckpt_path: start a new run from the checkpoint's weights (fine-tuning: new run folder "
            "and logger run, step 0, fresh optimizers) instead of continuing the checkpoint's run."
            if subcommand == "fit"
            else "fit only; accepted (and ignored) here so that a run's config.yaml loads into every subcommand.",
        )
        if subcommand != "fit":
            parser.add_argument(
                "--untrained",
                type=bool,
                default=False,
                help=f"Run {subcommand} without --ckpt_path, on the config's untrained (randomly initialised) model.",
            )
        if subcommand == "predict":
            parser.add_argument(
                "--overwrite",
                type=bool,
                default=False,
                help="Write into a --prediction_writer.output_dir that already holds files (outputs of the same name "
                "are replaced); by default such a folder is refused.",
            )
            parser.add_argument(
                "--skip_bad_inputs",
                type=bool,
                default=False,
                help="Skip the predict folder's unreadable or empty files (a warning each, listed at the end) "
                "instead of stopping before anything is written.",
            )

    @override
    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        """Lightning's parsing; a broken ``--config`` file or ``${...}`` becomes one message naming it.

        jsonargparse reports a YAML syntax error "in <unicode string>" (not the file) and lets omegaconf's
        interpolation errors through as tracebacks; the config files are looked at only once parsing failed.
        """
        try:
            super().parse_arguments(parser, args)
        except Exception as err:
            named = yaml_syntax_error(self._raw_args) or interpolation_error(err, self._raw_args)
            if named is None:
                raise
            raise named from err

    @override
    def before_parse_ckpt_path(self) -> None:
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        # Checked before Lightning reads its hparams; an alias names a file too when one of that name exists.
        if ckpt_path and (ckpt_path not in _LIGHTNING_CKPT_ALIASES or Path(ckpt_path).is_file()):
            config = self.config[subcommand]
            trusted = (  # a config is code (docs/security.md): the classes it names would be built anyway
                *trust.config_class_paths(config),
                *trust.split_entries(config.get("trusted_modules"), "--trusted_modules"),
            )
            self._checkpoint = reading.read_checkpoint(ckpt_path, trusted)
            reading.check_architecture(ckpt_path, self._checkpoint, config.get("model"))

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
        source = self._run_source if self.subcommand in run_reuse.EVALUATING else None
        if source is not None:  # the run's config.yaml is there already; this call writes only its results
            self.save_config_callback = None
        trainer = super().instantiate_trainer(**kwargs)
        callbacks = trainer.callbacks  # type: ignore[attr-defined]  # set by Lightning's callback connector
        if not any(isinstance(c, EpochSeeding) for c in callbacks):
            callbacks.append(EpochSeeding())
        if self.subcommand == "fit" and not any(isinstance(c, GracefulStop) for c in callbacks):
            callbacks.append(GracefulStop())
        if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:  # the default: make its local writes atomic
            trainer.strategy.checkpoint_io = AtomicCheckpointIO()
        if self.subcommand == "fit":
            config = self.config.fit
            resumed = None if config.get("new_run") else config.get("ckpt_path")
            self._run_folder = run_folders.assign_run_folder(
                trainer, trainer.default_root_dir, resumed, self._run_record
            )
            callbacks.append(RunSummary(print_lines=False))  # printed by after_run_subcommand, after the loggers
        if self.subcommand == "predict" and self.config.predict.get("overwrite"):
            for callback in callbacks:
                if isinstance(callback, PredictionWriter):
                    callback.overwrite = True
        if source is not None:
            for callback in callbacks:  # they save nothing here; the run's folder keeps their restored state valid
                if isinstance(callback, ModelCheckpoint) and not callback.dirpath:
                    callback.dirpath = str((source.folder / "checkpoints").resolve())
            callbacks.append(run_folders.RunFolder(source.folder))  # run_directory: the training run's folder
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
    def before_run_subcommand(self, subcommand: str) -> None:
        ckpt_path = self.config[subcommand].get("ckpt_path")
        if self._checkpoint is not None:
            reading.check_weights_fit(ckpt_path, self._checkpoint, self.model)
            if subcommand == "fit" and not self.config.fit.get("new_run"):
                run_folders.check_resumable(ckpt_path, self._checkpoint)

    def fit(self, model: GAN, **kwargs: Any) -> None:  # LightningCLI runs `self.fit` when defined
        """``Trainer.fit``; with ``--new_run true`` the checkpoint gives the weights only (a new run, step 0)."""
        config = self.config.fit
        if config.get("new_run") and kwargs.get("ckpt_path") and self._checkpoint is not None:
            model.load_state_dict(self._checkpoint["state_dict"])
            rank_zero_info(f"New run from the weights of {kwargs['ckpt_path']} (--new_run): step 0, fresh optimizers")
            kwargs["ckpt_path"] = None
        # Ranks started by the DDP launcher re-run this command line: they take this run's folder, not a new one.
        inherited = {run_folders.RUN_DIR_VARIABLE: str(self._run_folder)}
        wandb = next((lg for lg in self.trainer.loggers if isinstance(lg, WandbLogger)), None)
        if wandb is not None and wandb.version:
            inherited[run_folders.WANDB_ID_VARIABLE] = str(wandb.version)
        previous = {k: os.environ.get(k) for k in inherited}
        os.environ.update(inherited)
        try:
            self.trainer.fit(model, **kwargs)
        finally:
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    @override
    def after_run_subcommand(self) -> None:
        # Close the W&B run so that the next job in this process (a notebook, a test) starts its own run instead of
        # silently appending to this one.
        for logger in self.trainer.loggers:
            if isinstance(logger, WandbLogger) and _compat.wandb_run_started(logger):
                logger.experiment.finish()
        for callback in self.trainer.callbacks:  # type: ignore[attr-defined]
            if isinstance(callback, RunSummary) and callback.lines:
                rank_zero_info("\n".join(callback.lines))

    def after_predict(self) -> None:  # LightningCLI calls `after_<subcommand>` when defined
        summary = report_skipped(self.datamodule)
        if summary:
            rank_zero_warn(summary)

    @override
    def before_instantiate_classes(self) -> None:
        """Range checks (:mod:`lightning_gan.cli.config_validation`); evaluation refuses an untrained model unless
        asked;
        ``fit`` points W&B at its run (:func:`lightning_gan.training.run_folders.prepare_fit_config`).

        Without W&B credentials, W&B runs offline (never prompts) and says once how to upload later.
        ``--trainer.enable_progress_bar false`` also drops the configs' progress bar callback (Lightning would
        refuse the combination).
        """
        subcommand = self.config.get("subcommand")
        config = self.config.get(subcommand or "", self.config)
        check_config(config)
        trainer_config = config.get("trainer")
        if subcommand and trainer_config is not None:
            check_root_dir(trainer_config, writes=subcommand == "fit")
            self._choose_strategy(trainer_config)
        evaluates = subcommand in ("validate", "test", "predict")
        if evaluates and not config.get("ckpt_path") and not config.get("untrained"):
            raise ConfigError(
                f"{subcommand} needs --ckpt_path (e.g. <run>/checkpoints/last.ckpt): without one it would run the "
                "config's untrained, randomly initialised model; add --untrained true to do that on purpose"
            )
        if subcommand in run_reuse.EVALUATING and self._run_source is not None:
            self._keep_with_run(subcommand, config, self._run_source)
        if subcommand == "predict" and config.get("skip_bad_inputs"):
            data_args = config.get("data", {}).get("init_args")
            if data_args is None or "skip_bad_inputs" not in data_args:
                raise ConfigError(
                    f"--skip_bad_inputs: the data module {config.get('data', {}).get('class_path')} reads no predict "
                    "folder to skip files of"
                )
            data_args["skip_bad_inputs"] = True
        if subcommand == "fit":
            self._run_record = run_folders.prepare_fit_config(
                config, config.get("ckpt_path"), self._checkpoint, bool(config.get("new_run"))
            )
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

    def _keep_with_run(self, subcommand: str, config: Any, source: RunSource) -> None:
        """An evaluation of a training run's checkpoint writes into that run's folder, with no logger run of its own.

        Why: a new logger run (and run folder) per ``test``/``predict`` call filled ``runs/`` with near-empty runs
        and put results far from the model they describe. Results go to ``<run>/<subcommand>/<time>/`` (the report,
        ``metrics.json``) and ``<run>/predictions/<input folder name>/``; ``--trainer.logger`` given on the command
        line still logs (docs/after_training.md).
        """
        run_reuse.check_recorded_data(config, source, subcommand)
        if not run_reuse.has_option(self._raw_args, "--trainer.logger") and config.get("trainer") is not None:
            config.trainer.logger = False
        report = config.get("report")
        explicit_report = run_reuse.has_option(self._raw_args, "--report.folder")
        writer = config.get("prediction_writer")
        if subcommand == "predict" and writer is not None:
            if not run_reuse.has_option(self._raw_args, "--prediction_writer.output_dir"):
                data_args = config.get("data", {}).get("init_args") or {}
                inputs = data_args.get("predict_dir") if hasattr(data_args, "get") else None
                name = Path(str(inputs)).resolve().name if inputs else "samples"
                writer.output_dir = str(free_folder(source.folder / "predictions", name))
            if report is not None and not explicit_report:
                name = f"{Path(writer.output_dir).name}-report"
                report.folder = str(free_folder(source.folder / "predictions", name))
        elif report is not None and not explicit_report:
            report.folder = str(run_reuse.evaluation_folder(source.folder, subcommand))

    @staticmethod
    def _choose_strategy(trainer_config: Any) -> None:
        """``strategy: auto`` with several processes: ``ddp_separate`` (said once); a DDP that cannot train: refused."""
        chosen = lightning_gan.training.ddp.gan_strategy(trainer_config)
        if chosen is None:
            return
        trainer_config.strategy = chosen
        nodes = trainer_config.get("num_nodes") or 1
        rank_zero_info(
            f"trainer.devices = {trainer_config.get('devices')}"
            + (f", trainer.num_nodes = {nodes}" if nodes != 1 else "")
            + f": training with strategy {chosen} (G and D in separate DistributedDataParallel wrappers; Lightning's "
            "default `ddp` cannot train a GAN, docs/training.md)"
        )


_LIGHTNING_CKPT_ALIASES = ("last", "best", "hpc", "registry")  # ckpt_path values Lightning resolves itself


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


_TEMPORARY = re.compile(r"\.(?P<name>.+)\.\d+\.[^.]+\.tmp")  # AtomicCheckpointIO's `.<name>.<pid>.<random>.tmp`


def _refused_write(err: BaseException) -> bool:
    """Whether ``err`` is a write that the file system refused, not a read: EACCES alone does not say which."""
    if not isinstance(err, OSError) or not err.filename:
        return False
    if err.errno == errno.EROFS:
        return True
    if err.errno not in (errno.EACCES, errno.EPERM):
        return False
    path = Path(os.fsdecode(err.filename))
    try:
        exists = path.exists()
    except OSError:
        return False  # a folder that cannot even be searched: reading fails as much as writing
    return not exists or (os.access(path, os.R_OK) and not os.access(path, os.W_OK))  # creating, or a read-only file


def _latest_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint in ``folder`` or in the ``checkpoints`` folder of ``folder`` or a folder above it."""
    for candidate in [folder, *(f / "checkpoints" for f in [folder, *list(folder.parents)[:2]])]:
        try:
            found = [p for p in candidate.glob("*.ckpt") if not p.name.startswith(".") and p.is_file()]
        except OSError:
            continue
        if found:
            return max(found, key=lambda p: p.stat().st_mtime)
    return None


def _not_writable(err: BaseException, fitting: bool) -> NotWritableError | None:
    """A refused write in ``err``'s chain (permissions, a read-only file system) as one message, or ``None``.

    The run folder can turn read-only while a run trains (a quota, a remount, a changed permission); the first write
    after that, usually a checkpoint, fails deep in Lightning. The message names the folder and the OSError and, in
    ``fit``, the newest checkpoint: :class:`~lightning_gan.checkpoints.atomic.AtomicCheckpointIO` replaces a
    checkpoint only by a complete file, so that one is intact and the run can resume from it.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, LightningGanError):
            return None  # its message was written for the user already
        if _refused_write(current):
            break
        current = current.__cause__ or current.__context__
    if not isinstance(current, OSError) or not _refused_write(current):
        return None
    path = Path(os.fsdecode(current.filename)).absolute()
    folder = path.parent
    temporary = _TEMPORARY.fullmatch(path.name)
    name = temporary.group("name") if temporary else path.name
    text = f"cannot write {name} in {folder}: [Errno {current.errno}] {current.strerror}"
    if fitting:
        checkpoint = _latest_checkpoint(folder)
        if checkpoint is None:
            text += "; no checkpoint of this run had been written yet. Make the folder writable and start again"
        else:
            text += (
                f". The last checkpoint written, {checkpoint}, is intact (a checkpoint is replaced only by a complete "
                f"file); make the folder writable and resume with --ckpt_path {checkpoint}"
            )
    else:
        text += "; make the folder writable or choose another one"
    error = NotWritableError(text)
    error.errno = current.errno
    return error


def main(args: list[str] | None = None, run: bool = True) -> Any:
    """Run the CLI (``args`` as on the command line; ``None`` reads ``sys.argv``) and return it.

    With ``run=False`` nothing trains: ``main(["--config", "configs/x.yaml"], run=False).model`` and ``.datamodule``
    are the configured objects. ``export`` is handled by :func:`lightning_gan.deploy.export.main` (it needs a
    checkpoint,
    not a config).
    """
    warnings_filter.install()
    argv = expand_report_flag(list(sys.argv[1:] if args is None else args))
    check_moved(argv)
    if run and argv[:1] == ["export"]:
        from lightning_gan.deploy.export import main as export_main

        return export_main(run_reuse.export_args(argv[1:]))
    argv, source = run_reuse.expand_run_args(argv)
    if args is None:
        sys.argv[1:] = argv  # LightningCLI reads sys.argv itself when args is None
    try:
        return GANCLI(args=None if args is None else argv, run=run, run_source=source)
    except SIGTERMException as stopped:
        # Lightning exits 0 after SIGTERM (once the exception checkpoint is written); a scheduler or a shell `&&`
        # must not take a terminated run for a finished one, so exit as a process terminated by SIGTERM does.
        raise SystemExit(128 + (stopping_signal() or signal.SIGTERM)) from stopped
    except ReportFolderError as unwritable:  # raised before testing: the message says all, a traceback would bury it
        print(f"lightning_gan: error: {unwritable}", file=sys.stderr)
        raise SystemExit(2) from unwritable
    except Exception as err:
        refused = _not_writable(err, fitting=argv[:1] == ["fit"])
        if refused is None:
            raise
        raise refused from err


def console(args: list[str] | None = None) -> None:
    """The ``lightning_gan`` command: :func:`main`, with errors of ours printed as one line and exit status 2.

    See :mod:`lightning_gan.errors`; ``LIGHTNING_GAN_DEBUG=1`` shows their tracebacks.
    """
    run_reporting_errors(lambda argv: main(argv), args)


__all__ = ["GANCLI", "RunConfigCallback", "console", "main"]
