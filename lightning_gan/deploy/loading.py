"""Reading a lightning_gan checkpoint safely and rebuilding its GAN module for inference.

Checkpoints are read with ``torch.load(weights_only=True)`` (no pickled objects) and checked before the model is
rebuilt (:func:`read_checkpoint`): a missing file, a file that is not a checkpoint, or the checkpoint of another model
fails with a message naming the file and what was expected, and so does a checkpoint whose hyper-parameters name
anything but classes of the trusted modules (:mod:`lightning_gan.checkpoints.trust`: this package, torch optimizers,
schedulers and ``torch.nn``, torchmetrics, Lightning's callbacks and loggers, and the modules the user names).
Rebuilding then imports and builds only those classes, with the checkpoint's arguments; it does not sandbox them.

Rebuilding has no side effect on the caller: the random state and the environment are left as they were (per-epoch
seeding is a training callback, :mod:`lightning_gan.callbacks.epoch_seeding`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from lightning_gan.checkpoints.reading import read_checkpoint
from lightning_gan.errors import ConfigError
from lightning_gan.gan import GAN


def load_gan(
    ckpt_path: str | Path, map_location: str | torch.device = "cpu", trusted_modules: str | Iterable[str] | None = None
) -> tuple[GAN, dict[str, Any]]:
    """Check ``ckpt_path`` (:func:`read_checkpoint`) and rebuild the GAN module from it, in eval mode.

    Args:
        ckpt_path: a checkpoint written by ``python -m lightning_gan fit``.
        map_location: where to put the weights.
        trusted_modules: module prefixes (comma-separated, or a list) whose classes the checkpoint may name beyond
            the defaults and ``$LIGHTNING_GAN_TRUSTED_MODULES``, e.g. ``"examples.relativistic"`` for a GAN
            trained with that module's objective. Trust only files whose origin you trust.

    Returns:
        The module and the checkpoint as :func:`read_checkpoint` read it (memory-mapped), for its other entries:
        ``datamodule_hyper_parameters`` (SEGAN's sample rate, window and pre-emphasis), ``epoch``, ``global_step``.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it is not a lightning_gan GAN checkpoint, or names something outside the trusted modules
            (:func:`read_checkpoint`, a ``CheckpointError``), or the module cannot be rebuilt from it (a
            ``class_path`` that no longer imports, weights that do not fit the networks).
    """
    checkpoint = read_checkpoint(ckpt_path, trusted_modules)
    with warnings.catch_warnings():
        # Noise from rebuilding the module, not actionable here: Lightning's advice to `ignore=` the networks in
        # save_hyperparameters (GAN keeps them on purpose) and jsonargparse's deprecation notice of an API it calls.
        warnings.filterwarnings("ignore", message=r".*is an instance of `nn\.Module`")
        warnings.filterwarnings("ignore", message=r"(?s).*instantiate_classes")
        try:
            # Building the networks draws their (then overwritten) initial weights from torch's global RNG: fork it,
            # so loading a model leaves the caller's random state as it was.
            with torch.random.fork_rng(devices=[]):
                module = GAN.load_from_checkpoint(Path(ckpt_path).expanduser(), map_location=map_location)
        except Exception as err:  # e.g. a class_path that no longer imports, weights that no longer fit
            raise ValueError(
                f"cannot rebuild the GAN of {ckpt_path} from its hyper-parameters and weights: {err}"
            ) from err
    module.eval()
    return module, checkpoint


def set_direction(module: GAN, direction: str | None, data: dict[str, Any] | None = None) -> str | None:
    """Choose which way a two-way generator (CycleGAN's :class:`~lightning_gan.nets.GeneratorPair`) translates in
    ``module``'s predictions and exports: ``direction``, else the checkpoint's data ``direction`` (``data``: its
    ``datamodule_hyper_parameters``), else ``"AtoB"``. Returns the direction, ``None`` for one-way generators.

    Raises:
        ConfigError: ``direction`` is given for a one-way generator.
        ValueError: ``direction`` is neither ``"AtoB"`` nor ``"BtoA"``.
    """
    choose = getattr(module.objective, "set_direction", None)
    if choose is None:
        if direction is not None:
            raise ConfigError(
                f"direction = {direction!r}: this checkpoint's {type(module.generator).__name__} translates one way "
                "only; expected no direction (directions are for CycleGAN's GeneratorPair)"
            )
        return None
    chosen = direction or (data or {}).get("direction") or "AtoB"
    choose(chosen, module.generator)
    if module.generator_ema is not None:
        choose(chosen, module.inference_generator)
    return str(chosen)


__all__ = ["load_gan", "read_checkpoint", "set_direction"]
