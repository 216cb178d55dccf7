"""Setup-time checks that the data and the networks fit together, and that the networks keep the contract of
:mod:`lightning_gan.nets`, failing early with one message naming the class and what it must provide.

Why: a network that breaks the contract (a generator that takes ``z`` but has no ``latent_shape``, a discriminator
that wants labels without ``num_classes``) otherwise fails at the first training step, deep in the loop, with
Python's ``TypeError: forward() missing 1 required positional argument: 'z'``, which names neither the rule nor the
fix.
"""

import inspect
from typing import Any

from torch import nn

_CONTRACT = "(the network contract: lightning_gan.nets, docs/write_your_own_gan.md)"


def _positional(network: nn.Module) -> tuple[list[str], int | None]:
    """The names of ``network.forward``'s required positional parameters, and how many it takes at most
    (``None``: ``*args``, any number)."""
    try:
        parameters = list(inspect.signature(network.forward).parameters.values())
    except (TypeError, ValueError):  # a builtin or C-implemented forward: nothing to read
        return [], None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return [p.name for p in positional if p.default is p.empty], None
    return [p.name for p in positional if p.default is p.empty], len(positional)


def _check_inputs(role: str, network: nn.Module, passed: list[str], hints: list[str]) -> None:
    required, most = _positional(network)
    name = f"{role} {type(network).__module__}.{type(network).__qualname__}"
    what = f"({', '.join(passed)})" if passed else "no inputs"
    if len(required) > len(passed):
        missing = ", ".join(required[len(passed) :])
        raise ValueError(
            f"The {name}.forward requires ({', '.join(required)}) but the GAN loop calls it with {what}, so "
            f"{missing} would be missing. " + " ".join(hints) + f" {_CONTRACT}"
        )
    if most is not None and len(passed) > most:
        raise ValueError(
            f"The {name}.forward takes at most {most} input(s) but the GAN loop calls it with {what}. "
            + " ".join(hints)
            + f" {_CONTRACT}"
        )


def check_networks(generator: nn.Module, discriminator: nn.Module, conditional: bool) -> None:
    """Fail at setup when G or D cannot be called the way the GAN loop calls them (:mod:`lightning_gan.nets`).

    G is called ``G(condition?, z?, labels?)``: ``condition`` when the objective is conditional, ``z`` when G defines
    ``latent_shape``, ``labels`` when G has ``num_classes``; D is called ``D(x, labels?)``.

    Raises:
        ValueError: one message naming the class, the inputs its ``forward`` needs, the ones the loop passes and
            what the class must provide.
    """
    latent_shape = getattr(generator, "latent_shape", None)
    if latent_shape is not None and not callable(latent_shape):
        raise ValueError(
            f"The generator {type(generator).__qualname__}.latent_shape is {latent_shape!r}, not a method: define "
            f"latent_shape(batch_size, condition) -> tuple[int, ...], the shape of the noise z to draw {_CONTRACT}"
        )
    passed = (["condition"] if conditional else []) + (["z"] if latent_shape is not None else [])
    hints = []
    if latent_shape is None:
        hints.append(
            "A generator that takes noise z must define latent_shape(batch_size, condition) -> tuple[int, ...] "
            "(z's shape, e.g. (batch_size, 100, 1, 1)); the loop then draws z and passes it after the condition."
        )
    if getattr(generator, "num_classes", None) is not None:
        passed.append("labels")
    else:
        hints.append("One that takes class labels must have an integer attribute num_classes.")
    if not conditional:
        hints.append("This objective is unconditional: no condition is passed (a paired objective passes one).")
    _check_inputs("generator", generator, passed, hints)
    d_passed = ["x"] + (["labels"] if getattr(discriminator, "num_classes", None) is not None else [])
    d_hints = [
        "The discriminator is called D(x) with the sample (conditional objectives: cat([condition, sample], dim=1)), "
        "and D(x, labels) when it has an integer attribute num_classes."
    ]
    _check_inputs("discriminator", discriminator, d_passed, d_hints)


def check_channels(datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
    """Fail at setup, with both numbers, when the data's channel counts do not match the networks'.

    Uses the optional attributes ``condition_channels`` / ``real_channels`` of the DataModule and ``in_channels`` /
    ``out_channels`` of the networks; anything missing is not checked.
    """
    cond = getattr(datamodule, "condition_channels", None)
    real = getattr(datamodule, "real_channels", None)
    checks: list[tuple[str, int | None, str, int | None]] = [
        ("condition_channels", cond, "generator.in_channels", getattr(generator, "in_channels", None)),
        ("real_channels", real, "generator.out_channels", getattr(generator, "out_channels", None)),
    ]
    if real is not None:
        expected_d = real + (cond or 0)
        checks.append(
            (
                "(condition + real) channels",
                expected_d,
                "discriminator.in_channels",
                getattr(discriminator, "in_channels", None),
            )
        )
    for data_name, data_value, net_name, net_value in checks:
        if data_value is not None and net_value is not None and data_value != net_value:
            raise ValueError(
                f"The data has {data_name} = {data_value} but the network expects {net_name} = {net_value}. "
                "Set the networks' channel arguments from the data module's (see the configs' interpolations)."
            )
