"""A trained run is the unit of work: ``validate``/``test``/``predict``/``export`` from its checkpoint alone.

Why: a person who trained a model wants to test it, predict with it and export it without repeating every
``--data.init_args.*`` override that ``fit`` got (forgetting ``root`` made the model meet the wrong data and fail with
a message about channels). The run already recorded everything: ``fit`` writes the fully resolved config as
``<run>/config.yaml`` (``config-2.yaml`` ... on resume) beside ``<run>/checkpoints/``.

So, for ``validate``, ``test`` and ``predict`` given ``--ckpt_path`` and no ``--config``:

- ``--ckpt_path`` may be a checkpoint or a run folder (its best checkpoint, as ``<run>/metrics.json`` names it, else
  ``checkpoints/last.ckpt``);
- the run's newest ``config*.yaml`` becomes the command's first ``--config``, so model, data and trainer settings
  are the run's and everything given on the command line still overrides them;
- that config is a file found beside a checkpoint, not one the user chose: every class it names must pass the
  checkpoint allow-list (:mod:`lightning_gan.checkpoints.trust`) before jsonargparse imports anything;
- a recorded data folder that no longer exists stops with one message naming it and the flag to pass.

Outputs stay with the run (:func:`evaluation_folder`): the CLI writes ``test`` and
``validate`` results into ``<run>/<subcommand>/<time>/`` and predictions into ``<run>/predictions/<input folder
name>/`` (``-2``, ``-3`` ... when taken), with no new logger run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from lightning_gan.callbacks.run_summary import SUMMARY_FILE
from lightning_gan.checkpoints import trust
from lightning_gan.errors import CheckpointError, ConfigError, InputError
from lightning_gan.training.output_paths import free_folder

EVALUATING = ("validate", "test", "predict")
_CONFIG_OPTIONS = ("--config", "-c")


@dataclass(frozen=True)
class RunSource:
    """The training run a command works on.

    Attributes:
        folder: the run folder (holds ``checkpoints/`` and ``config.yaml``).
        checkpoint: the checkpoint file.
        config: the run's config file when the command took its settings from it (no ``--config`` given).
    """

    folder: Path
    checkpoint: Path
    config: Path | None


def option_value(argv: list[str], name: str) -> tuple[int, str | None] | None:
    """``(index, value)`` of the last ``name VALUE`` / ``name=VALUE`` in ``argv``, else ``None``."""
    found: tuple[int, str | None] | None = None
    for i, arg in enumerate(argv):
        if arg == name:
            found = (i, argv[i + 1] if i + 1 < len(argv) else None)
        elif arg.startswith(name + "="):
            found = (i, arg.split("=", 1)[1])
    return found


def has_option(argv: list[str], name: str) -> bool:
    """Whether ``name`` or an option under it (``name.x``) is given in ``argv``."""
    return any(arg == name or arg.startswith((name + "=", name + ".")) for arg in argv)


def _set_value(argv: list[str], index: int, name: str, value: str) -> None:
    if argv[index] == name:
        argv[index + 1] = value
    else:
        argv[index] = f"{name}={value}"


def checkpoint_of_folder(folder: Path) -> Path:
    """The checkpoint to use for a run folder: the best one ``metrics.json`` names, else ``checkpoints/last.ckpt``.

    Raises:
        CheckpointError: the folder holds no checkpoint.
    """
    summary = folder / SUMMARY_FILE
    try:
        recorded = json.loads(summary.read_text()) if summary.is_file() else None
    except (OSError, ValueError):
        recorded = None
    best = (recorded or {}).get("best_checkpoint") if isinstance(recorded, dict) else None
    if isinstance(best, str) and Path(best).is_file():
        return Path(best)
    last = folder / "checkpoints" / "last.ckpt"
    if last.is_file():
        return last
    raise CheckpointError(
        f"--ckpt_path {folder} is a folder without a checkpoint (no {SUMMARY_FILE} naming one, no "
        f"checkpoints/last.ckpt): give a run folder written by `lightning_gan fit`, or the checkpoint file itself"
    )


def run_folder_of(checkpoint: Path) -> Path | None:
    """The run folder a checkpoint belongs to: ``<run>`` of ``<run>/checkpoints/x.ckpt``, else the one the checkpoint
    records (``lightning_gan_run.run_dir``) when it still exists, else ``None``."""
    if checkpoint.parent.name == "checkpoints" and checkpoint.parent.parent.is_dir():
        return checkpoint.parent.parent
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # read and reported properly by the checkpoint checker later
        return None
    record = saved.get("lightning_gan_run") if isinstance(saved, dict) else None
    run_dir = record.get("run_dir") if isinstance(record, dict) else None
    return Path(run_dir) if isinstance(run_dir, str) and Path(run_dir).is_dir() else None


def run_config_of(folder: Path) -> Path | None:
    """The run's newest config: ``config.yaml``, or the highest ``config-<n>.yaml`` a resumed run wrote."""
    numbered = []
    for path in folder.glob("config-*.yaml"):
        suffix = path.stem.removeprefix("config-")
        if suffix.isdigit():
            numbered.append((int(suffix), path))
    if numbered:
        return max(numbered)[1]
    path = folder / "config.yaml"
    return path if path.is_file() else None


def _check_config_trusted(config_path: Path, argv: list[str]) -> None:
    """Refuse a found run config that names anything outside the allow-list, before jsonargparse imports it."""
    try:
        loaded = yaml.safe_load(config_path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read the run's config {config_path}: {err}; pass --config <your config>") from err
    if not isinstance(loaded, Mapping):
        raise ConfigError(f"the run's config {config_path} is not a YAML mapping; pass --config <your config>")
    given = option_value(argv, "--trusted_modules")
    found = trust.untrusted_entries(
        {"hyper_parameters": dict(loaded)}, trust.trust_from(given[1] if given is not None else None)
    )
    if not found:
        return
    key, value, why, module = found[0]
    key = key.removeprefix("hyper_parameters.")
    allow = f" --trusted_modules {module}," if module else ""
    raise ConfigError(
        f"the run's config {config_path}, found beside the checkpoint, names {key} = {value!r}, {why}. If you trust "
        f"this run and its code, pass{allow} or --config {config_path} to use it as your own config"
    )


def expand_run_args(argv: list[str]) -> tuple[list[str], RunSource | None]:
    """``argv`` with the run's settings for an evaluating subcommand given ``--ckpt_path`` (module docstring).

    Returns:
        The arguments to parse (a run folder replaced by its checkpoint, the run's config inserted first when no
        ``--config`` is given) and the run they came from (``None``: not a checkpoint inside a run folder).

    Raises:
        CheckpointError: a run folder without a checkpoint; a checkpoint with no run config and no ``--config``.
        ConfigError: the run's config names a class outside the allow-list.
    """
    if not argv or argv[0] not in EVALUATING:
        return argv, None
    out = list(argv)
    given = option_value(out, "--ckpt_path")
    index, value = given if given is not None else (0, None)
    if not value:
        return out, None
    path = Path(value).expanduser()
    if path.is_dir():
        checkpoint = checkpoint_of_folder(path)
        _set_value(out, index, "--ckpt_path", str(checkpoint))
        print(f"--ckpt_path {path} is a run folder: using its checkpoint {checkpoint}")
    elif path.is_file():
        checkpoint = path
    else:
        return out, None  # the checkpoint checker names the missing file
    folder = run_folder_of(checkpoint)
    has_config = any(has_option(out, name) for name in _CONFIG_OPTIONS)
    if folder is None:
        if not has_config:
            raise CheckpointError(
                f"{checkpoint} is not inside a run folder (<run>/checkpoints/) and records none that still exists, "
                f"so there is no run config to rebuild the model and data from: pass the training config with "
                f"--config <config.yaml>"
            )
        return out, None
    if has_config:
        return out, RunSource(folder, checkpoint, None)
    config = run_config_of(folder)
    if config is None:
        raise CheckpointError(
            f"the run folder {folder} of {checkpoint} has no config.yaml (fit writes one there) to rebuild the model "
            f"and data from: pass the training config with --config <config.yaml>"
        )
    _check_config_trusted(config, out)
    print(f"settings from the run's config {config} (options given here override them)")
    return [out[0], "--config", str(config), *out[1:]], RunSource(folder, checkpoint, config)


def export_args(argv: list[str]) -> list[str]:
    """``export``'s arguments with a run folder as ``--ckpt_path`` replaced by its checkpoint and a ``--config``
    dropped: export needs only the checkpoint, and a command line written for the other subcommands still works."""
    out = list(argv)
    for name in _CONFIG_OPTIONS:
        given = option_value(out, name)
        while given is not None:
            index = given[0]
            del out[index : index + (2 if out[index] == name else 1)]
            print(f"export: {name} is not needed (the checkpoint holds the model), ignored")
            given = option_value(out, name)
    given = option_value(out, "--ckpt_path")
    if given is not None and given[1] and Path(given[1]).expanduser().is_dir():
        checkpoint = checkpoint_of_folder(Path(given[1]).expanduser())
        _set_value(out, given[0], "--ckpt_path", str(checkpoint))
        print(f"--ckpt_path {given[1]} is a run folder: using its checkpoint {checkpoint}")
    return out


def evaluation_folder(run: Path, subcommand: str) -> Path:
    """``<run>/<subcommand>/<YYYYmmdd-HHMMSS>``: one folder per ``test``/``validate`` call, never an earlier one."""
    return free_folder(run / subcommand, time.strftime("%Y%m%d-%H%M%S"))


def check_recorded_data(config: Any, source: RunSource, subcommand: str) -> None:
    """A data folder the run recorded that no longer exists: one message naming it and the option to pass.

    Only for settings taken from the run's config, and only for ``validate``/``test`` (``predict`` reads its own
    ``predict_dir``).

    Raises:
        InputError: ``data.init_args.root`` names a path that does not exist.
    """
    if source.config is None or subcommand not in ("validate", "test"):
        return
    data = config.get("data") if hasattr(config, "get") else None
    args = data.get("init_args") if data is not None and hasattr(data, "get") else None
    root = args.get("root") if args is not None and hasattr(args, "get") else None
    if isinstance(root, str) and not Path(root).expanduser().exists():
        raise InputError(
            f"the run's data folder data.init_args.root = {root} (recorded in {source.config}) no longer exists: "
            f"pass the folder's new place with --data.init_args.root <folder>"
        )


__all__ = [
    "EVALUATING",
    "SUMMARY_FILE",
    "RunSource",
    "check_recorded_data",
    "checkpoint_of_folder",
    "evaluation_folder",
    "expand_run_args",
    "export_args",
    "has_option",
    "option_value",
    "run_config_of",
    "run_folder_of",
]
