"""Every ``fit`` owns its run folder, and ``fit --ckpt_path`` continues the run the checkpoint came from.

The run folder holds ``checkpoints/``, ``config.yaml`` and ``samples/`` (and the CSV/TensorBoard logs when one of
those is the first logger). Where it is:

- first logger W&B: ``<save_dir>/<project>/<run id>/``; the CLI draws the W&B run id itself, so the folder is known
  before anything is written;
- first logger CSV or TensorBoard: ``<save_dir>/<name>/version_<n>/``, the next free ``n`` *claimed* with an
  exclusive ``mkdir`` (Lightning picks ``n`` by listing the folder, so two runs started together took the same one);
- no logger: ``<default_root_dir>/<run id>/``, ``<run id>`` = ``run-<date>-<time>-<random>``;
- a ``ModelCheckpoint`` with an explicit ``dirpath``: its parent; a new run refuses a folder that already holds files.

Nothing of an earlier or a concurrent run is overwritten: each run writes into a folder it created, and a run that
fails at setup leaves only its own folder. ``config.yaml`` is never replaced: a resumed run writes ``config-2.yaml``,
``config-3.yaml`` ... beside the first.

Resume (``fit --ckpt_path CKPT``)
    :class:`RunFolder` stores the run folder, the W&B run id and project, and each CSV/TensorBoard logger's folder in
    every checkpoint (key ``lightning_gan_run``). Resuming from it logs into the same W&B run (``id`` and
    ``resume="allow"``, offline too), the same CSV/TensorBoard version folder (``metrics.csv`` is appended to, where
    Lightning's CSV writer would delete it) and the same run folder; Lightning restores the step counters, so the
    step axis continues where the checkpoint was taken. ``fit --ckpt_path CKPT --new_run true`` instead starts a new
    run from the checkpoint's weights (fine-tuning): new folder, new W&B run, step 0, fresh optimizers.

DDP
    Under the ``ddp`` launcher every rank runs the command line again; the main process passes its run folder to
    them in ``LIGHTNING_GAN_RUN_DIR`` (and the W&B id in ``LIGHTNING_GAN_WANDB_ID``), so they claim nothing.
"""

from __future__ import annotations

import csv
import os
import secrets
import string
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn

from lightning_gan import _compat
from lightning_gan.checkpoints.atomic import remove_stale_temporaries
from lightning_gan.errors import CheckpointError, ConfigError
from lightning_gan.training.output_paths import numbered

RUN_KEY = "lightning_gan_run"
BRANCH_KEY = "branch"
RUN_DIR_VARIABLE = "LIGHTNING_GAN_RUN_DIR"
WANDB_ID_VARIABLE = "LIGHTNING_GAN_WANDB_ID"
_ID_CHARS = string.ascii_lowercase + string.digits


def run_directory(trainer: Trainer) -> Path:
    """The folder of this run, which holds ``checkpoints/``, ``config.yaml`` and ``samples/``.

    The parent of the checkpoint folder, resolved as ``ModelCheckpoint`` resolves it when it has no ``dirpath``
    (``<save_dir>/<logger name>/<version>`` of the first logger, e.g. ``runs/x/lightning_gan/<wandb run id>``), so
    it is known before ``ModelCheckpoint.setup`` ran. Makes no collective call: safe on rank 0 alone. Under the CLI
    a :class:`lightning_gan.training.run_folders.RunFolder` callback knows the folder ``fit`` claimed, and wins.
    """
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if getattr(callback, "run_folder", None) is not None:
            return Path(callback.run_folder)
    checkpoint = trainer.checkpoint_callback
    dirpath = getattr(checkpoint, "dirpath", None)  # ModelCheckpoint's; other Checkpoint classes may lack it
    if dirpath:
        return Path(dirpath).parent
    if trainer.loggers:
        logger = trainer.loggers[0]
        save_dir = logger.save_dir if logger.save_dir is not None else trainer.default_root_dir
        version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
        return Path(save_dir) / str(logger.name) / version
    return Path(trainer.default_root_dir)


def new_run_id() -> str:
    """``run-YYYYmmdd-HHMMSS-xxxx``: sortable by start time, unique with the random suffix and the exclusive mkdir."""
    return f"run-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def new_wandb_id() -> str:
    """An 8-character W&B run id (lower-case letters and digits, as W&B's own)."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(8))


def free_config_path(folder: Path, filename: str = "config.yaml") -> Path:
    """``folder/config.yaml``, else ``config-2.yaml``, ``config-3.yaml`` ...: an earlier one is never replaced."""
    name = Path(filename)
    return next(path for path in numbered(folder, name.stem, name.suffix) if not path.exists())


def _logger_nodes(config: Any) -> list[Any]:
    """The logger entries (``class_path``/``init_args`` namespaces) of a parsed config's trainer."""
    logger = config.get("trainer", {}).get("logger") if config is not None else None
    nodes = logger if isinstance(logger, list) else [logger]
    return [n for n in nodes if n is not None and not isinstance(n, bool) and hasattr(n, "get")]


def _is_wandb(node: Any) -> bool:
    return str(node.get("class_path", "")).endswith("WandbLogger")


# ------------------------------------------------------------------------------------------------ before instantiation
def prepare_fit_config(config: Any, ckpt_path: str | None, checkpoint: dict[str, Any] | None, new_run: bool) -> Any:
    """Point the W&B logger of a ``fit`` config at its run: the checkpoint's run on resume, else a fresh id.

    Returns:
        The checkpoint's run record when this fit resumes a recorded run, else ``None``.

    Raises:
        ConfigError: the checkpoint's W&B run belongs to another project than the config logs to.
    """
    record = checkpoint.get(RUN_KEY) if (checkpoint is not None and ckpt_path and not new_run) else None
    if ckpt_path and not new_run and checkpoint is not None and record is None:
        rank_zero_warn(
            f"{ckpt_path} records no run folder (it was written by an older lightning_gan or another program): "
            "training continues from it in a new run folder and logger run."
        )
    if record is not None and ckpt_path and checkpoint is not None:
        record = _branch_if_older(ckpt_path, checkpoint, record)
    inherited = os.environ.get(WANDB_ID_VARIABLE)
    for node in _logger_nodes(config):
        if not _is_wandb(node):
            continue
        args = node.get("init_args")
        if args is None:
            continue
        given = args.get("id") or args.get("version")
        wandb_record = (record or {}).get("wandb") or {}
        if record is not None and BRANCH_KEY in record:  # a branch is a run of its own
            if not given:
                args["id"] = inherited or new_wandb_id()
        elif wandb_record.get("id"):
            project, saved = args.get("project") or "lightning_logs", wandb_record.get("project")
            if saved and project != saved:
                raise ConfigError(
                    f"{ckpt_path} comes from W&B run {wandb_record['id']} of project {saved!r}, but the config logs "
                    f"to project {project!r}: resume it with --trainer.logger.init_args.project {saved}, or start "
                    "a new run from its weights with --new_run true"
                )
            if given and given != wandb_record["id"]:
                raise ConfigError(
                    f"trainer.logger.init_args.id = {given!r}, but {ckpt_path} belongs to W&B run "
                    f"{wandb_record['id']!r}: drop the id to continue that run, or add --new_run true"
                )
            args["id"] = wandb_record["id"]
            args["resume"] = "allow"
        elif not given:
            args["id"] = inherited or new_wandb_id()
    return record


def _latest_step(ckpt_path: str, record: dict[str, Any]) -> int | None:
    """The ``global_step`` of the run's ``last.ckpt`` when it is another file than ``ckpt_path``, else ``None``."""
    last = _resume_folder(ckpt_path, record) / "checkpoints" / "last.ckpt"
    if not last.is_file() or last.resolve() == Path(ckpt_path).expanduser().resolve():
        return None
    try:
        latest = torch.load(last, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # an unreadable last.ckpt decides nothing; resuming it would fail on its own
        return None
    step = latest.get("global_step") if isinstance(latest, dict) else None
    return int(step) if isinstance(step, int) else None


def _branch_if_older(ckpt_path: str, checkpoint: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """``record`` marked as a branch when the run went on past ``ckpt_path`` (its ``last.ckpt`` is later).

    Continuing the run itself from an older checkpoint would write a second history over steps it already logged
    (duplicate rows in metrics.csv, TensorBoard and W&B) and replace its later checkpoints; a branch is a new run
    (own folder, own logger run) that starts at the checkpoint's step and leaves the original run as it is.
    """
    step = int(checkpoint.get("global_step", 0))
    latest = _latest_step(ckpt_path, record)
    if latest is None or latest <= step:
        return record
    return {**record, BRANCH_KEY: {"from_step": step, "latest_step": latest}}


# ------------------------------------------------------------------------------------------------ after instantiation
def _claim(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        return False
    return True


def _claim_version(logger: CSVLogger | TensorBoardLogger) -> Path:
    root = Path(logger.root_dir)
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name.split("_", 1)[1]) for p in root.glob("version_*") if p.name.split("_", 1)[1].isdigit()]
    n = max(taken, default=-1) + 1
    while not _claim(root / f"version_{n}"):
        n += 1
    _compat.set_logger_version(logger, n)
    return root / f"version_{n}"


def _log_dir(logger: Logger) -> Path | None:
    if isinstance(logger, CSVLogger | TensorBoardLogger):
        version = _compat.logger_version(logger)
        if version is None:
            return None
        return Path(logger.root_dir) / (version if isinstance(version, str) else f"version_{version}")
    if isinstance(logger, WandbLogger) and logger.version:
        return Path(logger.save_dir or ".") / str(logger.name) / str(logger.version)
    return None


def _resume_folder(ckpt_path: str, record: dict[str, Any]) -> Path:
    """The run folder of ``ckpt_path``: where it lies (``<run>/checkpoints/x.ckpt``), else the recorded one."""
    ckpt = Path(ckpt_path).expanduser().resolve()
    recorded = Path(record.get("run_dir", ""))
    if ckpt.parent.name == "checkpoints" and ckpt.parent.parent.name == recorded.name:
        return ckpt.parent.parent
    return recorded


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _claim_branch(trainer: Trainer, parent: Path, branch: dict[str, int]) -> Path:
    """Claim ``<parent>-from-step<N>`` (``-2``, ``-3`` ... if taken) beside the run folder ``parent``, point the
    CSV/TensorBoard loggers that wrote ``parent`` at it, and say what happens."""
    folder = next(f for f in numbered(parent.parent, f"{parent.name}-from-step{branch['from_step']}") if _claim(f))
    for each in trainer.loggers:
        if isinstance(each, CSVLogger | TensorBoardLogger) and Path(each.root_dir).resolve() == parent.parent.resolve():
            _compat.set_logger_version(each, folder.name)
    rank_zero_warn(
        f"The checkpoint is at global step {branch['from_step']}, but run {parent.name} went on to step "
        f"{branch['latest_step']} (its last.ckpt): training continues from step {branch['from_step']} as a new "
        f"branch in {folder}, with its own logs; {parent} is left as it is. To continue that run instead, resume "
        f"from {parent / 'checkpoints' / 'last.ckpt'}."
    )
    return folder


def assign_run_folder(
    trainer: Trainer, default_root_dir: str | Path, ckpt_path: str | None, record: dict[str, Any] | None
) -> Path:
    """Decide, claim and install this fit's run folder (module docstring); returns it.

    Sets every ``ModelCheckpoint`` without a ``dirpath`` to ``<run folder>/checkpoints`` and appends a
    :class:`RunFolder` callback.

    Raises:
        ConfigError: a new run would write into a folder that already holds another run's files.
    """
    checkpoints = [cb for cb in trainer.callbacks if isinstance(cb, ModelCheckpoint)]  # type: ignore[attr-defined]
    explicit = next((Path(cb.dirpath) for cb in checkpoints if cb.dirpath), None)
    inherited = os.environ.get(RUN_DIR_VARIABLE)
    logger = trainer.loggers[0] if trainer.loggers else None
    if record is not None and BRANCH_KEY in record and not inherited:  # a new run continuing an older checkpoint
        folder = _claim_branch(trainer, _resume_folder(ckpt_path or "", record), record[BRANCH_KEY])
    elif record is not None and BRANCH_KEY in record:  # a DDP rank of a branch: the folder the main process claimed
        folder = Path(inherited)  # type: ignore[arg-type]  # set: checked above
        for each in trainer.loggers:
            if isinstance(each, CSVLogger | TensorBoardLogger) and Path(each.root_dir) == folder.parent:
                _compat.set_logger_version(each, folder.name)
    elif record is not None:  # resume: the checkpoint's run
        folder = _resume_folder(ckpt_path or "", record)
        _resume_loggers(trainer, record, folder, keep_csv=not inherited)
        rank_zero_info(f"Resuming run {folder.name} in {folder}")
    elif inherited:  # a DDP rank started by the main process
        folder = Path(inherited)
        for each in trainer.loggers:
            unset = isinstance(each, CSVLogger | TensorBoardLogger) and _compat.logger_version(each) is None
            if unset and each.root_dir is not None and Path(each.root_dir) == folder.parent:
                _compat.set_logger_version(each, folder.name)
    elif explicit is not None:
        folder = explicit.parent
        if _has_files(explicit):
            raise ConfigError(
                f"ModelCheckpoint dirpath {explicit} already holds files of another run: give this run its own "
                f"folder (another dirpath, or none: each run then gets <root>/<run id>/), or resume that run with "
                f"--ckpt_path {explicit}/last.ckpt"
            )
    elif isinstance(logger, CSVLogger | TensorBoardLogger):
        existing = _log_dir(logger)
        if existing is not None:
            if _has_files(existing):
                raise ConfigError(
                    f"logger version folder {existing} already holds another run's files: drop "
                    "trainer.logger.init_args.version (each run then gets the next free version), or resume that "
                    f"run with --ckpt_path {existing}/checkpoints/last.ckpt"
                )
            folder = existing
        else:
            folder = _claim_version(logger)
    elif isinstance(logger, WandbLogger):
        folder = _log_dir(logger) or Path(default_root_dir) / new_run_id()
        if _has_files(folder):
            raise ConfigError(f"W&B run folder {folder} already holds another run's files: drop the logger's id")
    else:
        root = Path(default_root_dir)
        folder = root / new_run_id()
        while not _claim(folder):
            folder = root / new_run_id()
    fresh = record is None or BRANCH_KEY in record
    for each in trainer.loggers[1:] if fresh and not inherited else []:
        if isinstance(each, CSVLogger | TensorBoardLogger) and _compat.logger_version(each) is None:
            _claim_version(each)
    folder.mkdir(parents=True, exist_ok=True)
    for cb in checkpoints:
        if not cb.dirpath:
            # Absolute, as ModelCheckpoint makes a dirpath given to it: Lightning restores a resumed callback's state
            # (its last.ckpt, best scores, top-k files) only when the dirpath equals the checkpoint's, and a relative
            # one (`runs/x`) never equals the absolute path it stored (last.ckpt then stays behind as last-v1.ckpt).
            cb.dirpath = str((folder / "checkpoints").resolve())
        for stale in remove_stale_temporaries(cb.dirpath):  # left by a save that was killed
            rank_zero_info(f"Removed {stale}, the temporary file of an interrupted checkpoint save")
    trainer.callbacks.append(RunFolder(folder))  # type: ignore[attr-defined]
    return folder


def _resume_loggers(trainer: Trainer, record: dict[str, Any], folder: Path, keep_csv: bool) -> None:
    """Give each CSV/TensorBoard logger the version folder it wrote before (by position and class); with
    ``keep_csv`` (the main process) keep the CSV logger's ``metrics.csv`` to append to (:func:`_keep_csv_metrics`)."""
    saved = record.get("loggers", [])
    for index, logger in enumerate(trainer.loggers):
        if not isinstance(logger, CSVLogger | TensorBoardLogger) or _compat.logger_version(logger) is not None:
            continue
        entry = saved[index] if index < len(saved) else {}
        log_dir = Path(entry.get("log_dir", "")) if entry.get("class") == type(logger).__name__ else None
        if index == 0 and log_dir is not None and log_dir.name == folder.name:
            log_dir = folder  # the run folder as found now (it may have been moved since)
        if log_dir is not None and Path(logger.root_dir).resolve() == log_dir.parent.resolve():
            _compat.set_logger_version(logger, log_dir.name)
            if keep_csv and isinstance(logger, CSVLogger):
                _keep_csv_metrics(logger)
        else:
            rank_zero_warn(
                f"The {type(logger).__name__} of this config writes under {logger.root_dir}, not where the resumed run "
                f"logged ({log_dir}); its logs start a new version there."
            )


class RunFolder(Callback):
    """Knows the run folder (:func:`run_directory` asks it) and records the run in every
    checkpoint, so that ``fit --ckpt_path`` continues it (module docstring).

    Args:
        path: the run folder.
    """

    def __init__(self, path: Path) -> None:
        self.run_folder = Path(path)

    def on_save_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        loggers = []
        wandb = None
        for logger in trainer.loggers:
            log_dir = _log_dir(logger)
            loggers.append({"class": type(logger).__name__, "log_dir": str(log_dir.resolve()) if log_dir else None})
            if isinstance(logger, WandbLogger) and wandb is None and logger.version:
                wandb = {"id": str(logger.version), "project": logger.name}
        checkpoint[RUN_KEY] = {
            "run_dir": str(self.run_folder.resolve()),
            "run_id": self.run_folder.name,
            "wandb": wandb,
            "loggers": loggers,
        }

    def on_load_checkpoint(self, trainer: Trainer, pl_module: LightningModule, checkpoint: dict[str, Any]) -> None:
        """Point the checkpoint callbacks' saved state at this run folder as it is now.

        ``ModelCheckpoint`` restores its state (``last.ckpt``, best scores, the top-k files it may delete) only when
        its ``dirpath`` equals the one saved, as a string. Checkpoints of a run folder given as a relative path, or
        of a run folder moved since, saved another string for the same folder; rewriting it (and the file paths in
        the state) before Lightning compares them keeps ``last.ckpt`` and the top-k bookkeeping going. A branch or
        a new run (another folder name) keeps the saved state as it is, so Lightning starts its checkpoints afresh.
        """
        record = checkpoint.get(RUN_KEY) or {}
        if record.get("run_id") != self.run_folder.name:
            return
        new = str((self.run_folder / "checkpoints").resolve())
        for state in (checkpoint.get("callbacks") or {}).values():
            old = state.get("dirpath") if isinstance(state, dict) else None
            if not old or old == new or Path(old).name != "checkpoints" or Path(old).parent.name != record["run_id"]:
                continue
            state["dirpath"] = new
            for field in ("best_model_path", "kth_best_model_path", "last_model_path"):
                if isinstance(state.get(field), str):
                    state[field] = _moved(state[field], old, new)
            if isinstance(state.get("best_k_models"), dict):
                state["best_k_models"] = {_moved(k, old, new): v for k, v in state["best_k_models"].items()}


def _moved(path: str, old: str, new: str) -> str:
    """``path`` with the folder ``old`` replaced by ``new`` when it lies in it, else unchanged."""
    prefix = old.rstrip("/\\") + os.sep
    return new + os.sep + path[len(prefix) :] if path.startswith(prefix) else path


def _keep_csv_metrics(logger: CSVLogger) -> None:
    """Create the logger's writer now, without letting it delete the version's ``metrics.csv`` (Lightning's writer
    removes the file of a non-empty version folder), and make it append with the file's columns."""
    metrics = Path(logger.log_dir) / "metrics.csv"
    if not metrics.is_file():
        return
    aside = metrics.with_name(f".{metrics.name}.resume")
    os.replace(metrics, aside)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*exists and is not empty")
            writer = logger.experiment  # creates the writer, which would have deleted metrics.csv
    finally:
        os.replace(aside, metrics)
    with metrics.open(newline="") as f:
        header = next(csv.reader(f), [])
    writer.metrics_keys = sorted(set(header))  # appended rows keep the old columns


def check_resumable(ckpt_path: str, checkpoint: dict[str, Any]) -> None:
    """Fail early when the checkpoint was not written by a ``fit`` (no loop state to resume)."""
    if "loops" not in checkpoint or "optimizer_states" not in checkpoint:
        raise CheckpointError(
            f"{ckpt_path} holds weights but no training state (optimizers, loop counters), e.g. a weights-only "
            "checkpoint: training cannot resume from it; start a new run from its weights with --new_run true"
        )


__all__ = [
    "RUN_DIR_VARIABLE",
    "RUN_KEY",
    "WANDB_ID_VARIABLE",
    "RunFolder",
    "assign_run_folder",
    "check_resumable",
    "free_config_path",
    "new_run_id",
    "prepare_fit_config",
]
