"""Range checks of the parsed config, before anything is built, each naming the key, its value and what is expected.

jsonargparse checks types, not ranges; an out-of-range value otherwise surfaces wherever it is first used: a negative
learning rate inside ``torch.optim.Adam`` (no key named), ``batch_size: 0`` of the SEGAN configs as the virtual
batch norm reference's ``size`` (the config interpolates one from the other), ``max_epochs: -5`` deep in Lightning's
fit loop. :func:`check_config` runs before the CLI instantiates the classes.

The CLI also turns the config faults that jsonargparse and omegaconf report without naming the culprit into one
message each (:class:`~lightning_gan.errors.ConfigError`, printed as one line):

- :func:`yaml_syntax_error`: a ``--config`` file that is not valid YAML (jsonargparse says "in <unicode string>");
- :func:`interpolation_error`: a ``${...}`` that cannot be resolved, e.g. a circular one (omegaconf's traceback
  names one key, in the relative form jsonargparse rewrote it to);
- :func:`check_root_dir`: a ``trainer.default_root_dir`` that is a file, or (for ``fit``) not writable, found before
  anything is built instead of as a traceback from the first ``mkdir`` or, worse, after the first epoch.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from lightning_gan.errors import ConfigError

# key under `trainer`: (lowest allowed value, what it means)
_TRAINER_LIMITS: dict[str, tuple[int, str]] = {
    "max_epochs": (-1, "an integer >= 0, or -1 for no limit"),
    "min_epochs": (0, "an integer >= 0"),
    "max_steps": (-1, "an integer >= 0 (optimizer steps), or -1 for no limit"),
    "min_steps": (0, "an integer >= 0"),
    "check_val_every_n_epoch": (1, "an integer >= 1"),
    "log_every_n_steps": (1, "an integer >= 1"),
    "devices": (-1, "an integer >= 1, -1 for all devices, a list of device ids, or 'auto'"),
    "num_nodes": (1, "an integer >= 1"),
}
# init_args of an optimizer: (lowest allowed value, inclusive)
_OPTIMIZER_LIMITS: dict[str, float] = {"lr": 0.0, "weight_decay": 0.0, "eps": 0.0, "momentum": 0.0, "alpha": 0.0}
# init_args of a data module: lowest allowed value
_DATA_LIMITS: dict[str, int] = {
    "batch_size": 1,
    "eval_batch_size": 1,
    "num_workers": 0,
    "num_predict": 1,
    "image_size": 1,
    "crop_size": 1,
    "load_size": 1,
    "window": 1,
    "hop": 1,
    "sample_rate": 1,
}


def _get(node: Any, key: str) -> Any:
    if node is None:
        return None
    try:
        return node.get(key) if hasattr(node, "get") else getattr(node, key, None)
    except (KeyError, AttributeError):
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_trainer(trainer: Any, problems: list[str]) -> None:
    for key, (low, expected) in _TRAINER_LIMITS.items():
        value = _get(trainer, key)
        if isinstance(value, int) and not isinstance(value, bool) and (value < low or (key == "devices" and not value)):
            problems.append(f"trainer.{key} = {value}: expected {expected}")


def _check_optimizers(model: Any, problems: list[str]) -> None:
    for name in ("g_optimizer", "d_optimizer"):
        args = _get(_get(model, name), "init_args")
        for key, low in _OPTIMIZER_LIMITS.items():
            value = _get(args, key)
            if _is_number(value) and value < low:
                problems.append(f"model.{name}.init_args.{key} = {value}: expected a number >= {low:g}")
        betas = _get(args, "betas")
        if isinstance(betas, list | tuple) and any(_is_number(b) and not 0.0 <= b < 1.0 for b in betas):
            problems.append(f"model.{name}.init_args.betas = {list(betas)}: expected two numbers in [0, 1)")


def _check_data(data: Any, problems: list[str]) -> None:
    args = _get(data, "init_args")
    for key, low in _DATA_LIMITS.items():
        value = _get(args, key)
        if isinstance(value, int) and not isinstance(value, bool) and value < low:
            problems.append(f"data.init_args.{key} = {value}: expected an integer >= {low}")


def check_config(config: Any) -> None:
    """Check the ranges of the trainer's budgets, the optimizers' settings and the data module's sizes.

    Args:
        config: one subcommand's parsed config (``cli.config[subcommand]``).

    Raises:
        ConfigError: listing every out-of-range value (key, value, what was expected).
    """
    problems: list[str] = []
    _check_trainer(_get(config, "trainer"), problems)
    _check_optimizers(_get(config, "model"), problems)
    _check_data(_get(config, "data"), problems)
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))


_SUBCOMMANDS = ("fit", "validate", "test", "predict")


def _config_files(args: list[str], only_config: bool = False) -> list[Path]:
    """The files given as ``--config FILE`` (or ``--config=FILE``) and, unless ``only_config``, YAML files given as
    any option's value."""
    files: list[Path] = []
    for i, arg in enumerate(args):
        value = None
        if arg.startswith("--config="):
            value = arg.split("=", 1)[1]
        elif arg == "--config" and i + 1 < len(args):
            value = args[i + 1]
        elif not only_config and arg.endswith((".yaml", ".yml")) and not arg.startswith("-"):
            value = arg
        if value is not None and Path(value).is_file():
            files.append(Path(value))
    return list(dict.fromkeys(files))


def yaml_syntax_error(args: list[str]) -> ConfigError | None:
    """The first ``--config`` file in ``args`` that is not valid YAML, as an error naming it, or ``None``.

    Called when parsing failed: jsonargparse's message gives the YAML problem "in <unicode string>", without the file.
    """
    for path in _config_files(args):
        try:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.MarkedYAMLError as err:
            where = (
                f", line {err.problem_mark.line + 1}, column {err.problem_mark.column + 1}" if err.problem_mark else ""
            )
            context = ""
            if err.context:
                started = f" at line {err.context_mark.line + 1}" if err.context_mark else ""
                context = f" ({err.context}{started})"
            return ConfigError(f"{path}{where}: not valid YAML: {err.problem}{context}; fix the file's syntax there")
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            return ConfigError(f"{path}: not valid YAML: {err}; fix the file's syntax")
    return None


_REFERENCE = re.compile(r"\$\{(\.*)([A-Za-z_][\w\[\].-]*)?\}")


def _tokens(path: str) -> list[str]:
    return [t for t in path.replace("]", "").replace("[", ".").split(".") if t]


def _shown(parts: list[str]) -> str:
    """A key as the user wrote it: without the subcommand that jsonargparse puts in front."""
    if parts and parts[0] in _SUBCOMMANDS:
        parts = parts[1:]
    return ".".join(parts) or "<the whole config>"


def _references(parts: list[str], value: str) -> list[list[str]]:
    """The keys that ``value`` (the raw value at ``parts``) interpolates, as absolute key paths."""
    out = []
    for match in _REFERENCE.finditer(value):
        dots, rest = len(match.group(1)), _tokens(match.group(2) or "")
        base = [] if dots == 0 else parts[:-1][: len(parts) - dots]
        out.append(base + rest)
    return out


def _raw(tree: Any, parts: list[str]) -> Any:
    node = tree
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return KeyError
    return node


def _trace(tree: Any, start: list[str]) -> tuple[str, list[list[str]]] | None:
    """Follow the interpolations from key ``start`` through ``tree`` (the raw config, interpolations unresolved).

    Returns:
        ``("circular", keys)``: a chain that comes back to a key on it (or to a section holding it), the first key
        repeated at the end; ``("missing", [key, target])``: ``key`` interpolates ``target``, which is not in
        ``tree``; ``None``: neither.
    """
    path: list[list[str]] = []

    def visit(parts: list[str]) -> tuple[str, list[list[str]]] | None:
        for i, earlier in enumerate(path):
            if parts[: len(earlier)] == earlier or earlier[: len(parts)] == parts:
                return "circular", [*path[i:], parts]
        value = _raw(tree, parts)
        if value is KeyError and path:
            return "missing", [path[-1], parts]
        if not isinstance(value, str):
            return None
        path.append(parts)
        for target in _references(parts, value):
            found = visit(target)
            if found:
                return found
        path.pop()
        return None

    return visit(start)


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _files_tree(args: list[str]) -> dict[str, Any]:
    """The ``--config`` files of ``args`` merged in order, interpolations as written."""
    tree: dict[str, Any] = {}
    for path in _config_files(args, only_config=True):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(loaded, dict):
            _merge(tree, loaded)
    return tree


def _omegaconf_tree(err: OmegaConfBaseException) -> Any:
    """The whole config that omegaconf was resolving, interpolations unresolved, or ``None``."""
    parent = getattr(err, "parent_node", None)
    if not isinstance(parent, DictConfig | ListConfig):
        return None  # e.g. a GrammarParseError: omegaconf keeps no node
    try:
        return OmegaConf.to_container(parent._get_root(), resolve=False)
    except Exception:  # the caller falls back to the config files
        return None


def interpolation_error(err: BaseException, args: list[str]) -> ConfigError | None:
    """An omegaconf error in ``err``'s chain as one message naming the key(s), or ``None`` if there is none.

    A circular interpolation names the whole circle (``a -> b -> a``), a reference to a missing key names both keys.
    The keys are followed through the config omegaconf resolved (command-line values included) or, where its error
    keeps no config (a self-reference, which jsonargparse rewrites to the invalid ``${.}``), through the ``--config``
    files of ``args``.
    """
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and not isinstance(current, OmegaConfBaseException) and id(current) not in seen:
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    if not isinstance(current, OmegaConfBaseException):
        return None
    parts = _tokens(str(getattr(current, "full_key", "") or ""))
    reason = str(getattr(current, "msg", "") or current).split("\n")[0].strip()
    tree = _omegaconf_tree(current)
    if tree is not None:
        found = _trace(tree, parts) if parts else None
    else:
        if parts and parts[0] in _SUBCOMMANDS:
            parts = parts[1:]
        found = _trace(_files_tree(args), parts) if parts else None
        if found and found[0] == "missing":  # the files alone lack the parser's defaults: not a verdict
            found = None
    if found and found[0] == "circular":
        keys = found[1]
        if len(keys) == 2:  # a key whose interpolation names the key itself or a section holding it
            circle = f"{_shown(keys[0])} refers to itself (or to the section holding it)"
        else:
            circle = " -> ".join(_shown(p) for p in keys)
        return ConfigError(
            f"circular ${{...}} interpolation: {circle}; give one of these keys a value instead of an interpolation"
        )
    if found:
        key, target = found[1]
        return ConfigError(
            f"{_shown(key)}: its ${{...}} interpolation refers to {_shown(target)}, which is not a key of the config; "
            "fix the key's name (a path from the top of the config, e.g. ${data.init_args.image_size})"
        )
    where = f"{_shown(parts)}: " if parts else ""
    return ConfigError(f"{where}cannot resolve its ${{...}} interpolation: {reason}")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_root_dir(trainer: Any, writes: bool) -> None:
    """Check ``trainer.default_root_dir`` (``None``: the working directory) before anything is built.

    Args:
        trainer: the parsed ``trainer`` section.
        writes: whether the subcommand writes there for sure (``fit``: the run folder, checkpoints, logs).

    Raises:
        ConfigError: the folder (or the nearest existing folder above it) is a file, or, with ``writes``, is not
            writable (permissions or a read-only file system).
    """
    value = _get(trainer, "default_root_dir")
    if value is not None and "://" in str(value):
        return  # remote storage: the logger or checkpoint writer reports its own faults
    root = Path(value if value is not None else os.getcwd()).expanduser().absolute()
    existing = _nearest_existing(root)
    key = f"trainer.default_root_dir = {value if value is not None else root}"
    if not existing.is_dir():
        where = "is a file" if existing == root else f"cannot be created: {existing} is a file"
        raise ConfigError(
            f"{key}: {where}, expected a folder (runs are written in folders under it); give a folder's path (one "
            "that does not exist yet is created)"
        )
    if writes and not os.access(existing, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        why = "is on a read-only file system" if read_only else "is not writable (permission denied)"
        subject = "the folder" if existing == root else f"{existing}, where it would be created,"
        raise ConfigError(
            f"{key}: {subject} {why}; fit writes its run folder (checkpoints, logs, samples) there: make it "
            "writable or give another folder with --trainer.default_root_dir"
        )


__all__ = ["check_config", "check_root_dir", "interpolation_error", "yaml_syntax_error"]
