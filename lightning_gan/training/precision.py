"""Mixed-precision engineering of the manual-optimization GAN loop.

Lightning runs the whole ``training_step`` under its autocast, with autocast's weight-cast cache off, because under
manual optimization the weights change inside that region and cached casts would go stale. Two consequences are
handled here: backward passes and optimizer steps must leave autocast (:func:`outside_autocast`), and a D step,
which scores several batches with the same weights, can cache its weight casts for its own duration
(:func:`weight_cast_cache`). ``docs/benchmarks_cpu_bf16-mixed.md`` measures both.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from lightning.pytorch import Trainer


@contextmanager
def outside_autocast(device_type: str) -> Iterator[None]:
    """Run the enclosed backward pass and optimizer step with autocast off.

    PyTorch's AMP documentation advises against backward passes under autocast: the backward ops already run in the
    dtypes autocast chose for their forward ops, and autocast would only add casts.
    """
    with torch.autocast(device_type, enabled=False):
        yield


@contextmanager
def weight_cast_cache(device_type: str) -> Iterator[None]:
    """Under autocast, cast weights to the low-precision dtype once for the enclosed block instead of once per forward.

    A D step scores the real batch, the fake batch and (SEGAN) the reference batch with the same weights, so the cache
    is turned back on for the D step alone and emptied when the block ends, after D's optimizer step, so a later
    step never sees stale casts. Without autocast this does nothing.
    """
    if not torch.is_autocast_enabled(device_type):
        yield
        return
    try:
        with torch.autocast(device_type, dtype=torch.get_autocast_dtype(device_type), cache_enabled=True):
            yield
    finally:
        torch.clear_autocast_cache()


def gradient_scale(trainer: Trainer | None) -> float:
    """The AMP gradient scaler's current scale (16-mixed), or 1.0 without an enabled scaler or a trainer.

    A gradient penalty takes ``autograd.grad`` of a scaled loss and divides this back out.
    """
    if trainer is None:
        return 1.0
    scaler = getattr(trainer.precision_plugin, "scaler", None)  # public, but only on the mixed-precision plugins
    return float(scaler.get_scale()) if scaler is not None and scaler.is_enabled() else 1.0
