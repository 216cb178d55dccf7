"""Setup-time checks that the data and the networks fit together, failing early with both numbers."""

from typing import Any

from torch import nn


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
