"""Range checks of the parsed config, before anything is built, each naming the key, its value and what is expected.

jsonargparse checks types, not ranges; an out-of-range value otherwise surfaces wherever it is first used: a negative
learning rate inside ``torch.optim.Adam`` (no key named), ``batch_size: 0`` of the SEGAN configs as the virtual
batch norm reference's ``size`` (the config interpolates one from the other), ``max_epochs: -5`` deep in Lightning's
fit loop. :func:`check_config` runs before the CLI instantiates the classes.
"""

from __future__ import annotations

from typing import Any

from lightning_gan.errors import ConfigError

# key under `trainer`: (lowest allowed value, what it means)
_TRAINER_LIMITS: dict[str, tuple[int, str]] = {
    "max_epochs": (-1, "an integer >= 0, or -1 for no limit"),
    "min_epochs": (0, "an integer >= 0"),
    "max_steps": (-1, "an integer >= 0 (optimizer steps), or -1 for no limit"),
    "min_steps": (0, "an integer >= 0"),
    "check_val_every_n_epoch": (1, "an integer >= 1"),
    "log_every_n_steps": (1, "an integer >= 1"),
    "devices": (1, "an integer >= 1, a list of device ids, or 'auto'"),
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
        if isinstance(value, int) and not isinstance(value, bool) and value < low:
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


__all__ = ["check_config"]
