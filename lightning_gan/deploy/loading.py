"""Reading a lightning_gan checkpoint safely and rebuilding its GAN module for inference.

Checkpoints are read with ``torch.load(weights_only=True)`` (no arbitrary code runs) and checked before the model is
rebuilt, so a missing file, a file that is not a checkpoint, or the checkpoint of another model fails with a message
naming the file and what was expected (:func:`read_checkpoint`). Rebuilding has no side effect on the caller: the
random state and the environment are left as they were (per-epoch seeding is a training callback,
:mod:`lightning_gan.callbacks.epoch_seeding`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from lightning_gan.checkpoints.reading import read_checkpoint
from lightning_gan.gan import GAN


def load_gan(ckpt_path: str | Path, map_location: str | torch.device = "cpu") -> tuple[GAN, dict[str, Any]]:
    """Check ``ckpt_path`` (:func:`read_checkpoint`) and rebuild the GAN module from it, in eval mode.

    Returns:
        The module and the checkpoint as :func:`read_checkpoint` read it (memory-mapped), for its other entries:
        ``datamodule_hyper_parameters`` (SEGAN's sample rate, window and pre-emphasis), ``epoch``, ``global_step``.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it is not a lightning_gan GAN checkpoint (:func:`read_checkpoint`), or the module cannot be
            rebuilt from it (a ``class_path`` that no longer imports, weights that do not fit the networks).
    """
    checkpoint = read_checkpoint(ckpt_path)
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


__all__ = ["load_gan", "read_checkpoint"]
