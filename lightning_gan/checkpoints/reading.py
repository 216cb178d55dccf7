"""One checker for every checkpoint a user hands us: ``fit``/``validate``/``test``/``predict --ckpt_path``, ``export``
and :func:`lightning_gan.deploy.api.load_generator`.

What is guaranteed: the file is unpickled with ``torch.load(weights_only=True)`` (tensors and plain values, no pickled
objects), and before anything is built from it every class, callable and config file its hyper-parameters name is
checked against an allow-list of trusted modules (:mod:`lightning_gan.checkpoints.trust`), so loading it imports and
builds only classes of this package, torch optimizers, schedulers and ``torch.nn``, torchmetrics, Lightning's
callbacks and loggers, and the modules the user trusts (``LIGHTNING_GAN_TRUSTED_MODULES``). Those classes are
built with the checkpoint's arguments.

Each failure names the file, says what it is instead of a lightning_gan GAN checkpoint, and how to proceed:

- missing, a folder, or empty (0 bytes);
- truncated (a zip archive without its central directory: a copy or a save that did not finish) or not a
  ``torch.save`` file at all;
- a torch file that is not a Lightning checkpoint, or a Lightning checkpoint of another model (no
  ``hyper_parameters.generator`` ``class_path``, no ``generator.*`` weights);
- a checkpoint that names something outside the trusted modules (``os.system`` as an optimizer), a ``${...}``
  interpolation or a config file, naming the key and the value (:func:`lightning_gan.checkpoints.trust.check_trusted`);
- a lightning_gan checkpoint of another architecture than the config asks for: :func:`check_architecture` compares
  the generator and discriminator classes before the CLI lets the checkpoint's hyper-parameters replace the
  config's, and :func:`check_weights_fit` compares every tensor's shape with the model the config built (e.g. a
  ``--model.generator.init_args.ngf 32`` override), summarising the difference in a few lines instead of Lightning's
  one "size mismatch" line per tensor.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lightning_gan.checkpoints.trust import check_trusted
from lightning_gan.checkpoints.upgrade import old_names
from lightning_gan.errors import CheckpointError

EXPECTED = "a lightning_gan GAN checkpoint written by `python -m lightning_gan fit`"
_ZIP_MAGIC = b"PK\x03\x04"
_EXAMPLES = 3


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """``--ckpt_path`` names no file."""


def read_checkpoint(ckpt_path: str | Path, trusted_modules: str | Iterable[str] | None = None) -> dict[str, Any]:
    """Read and check a lightning_gan GAN checkpoint without building the model.

    The file is memory-mapped (cheap even for the paper models' checkpoints with their optimizer states) and
    unpickled with ``weights_only=True``; CLI checkpoints hold nothing else (their hyper-parameters are
    ``class_path``/``init_args`` dicts). Every path that rebuilds a model from a checkpoint calls this first (the
    CLI's ``--ckpt_path``, ``export``, :func:`lightning_gan.deploy.load_gan`), so this is where the allow-list is
    checked: what the hyper-parameters name must be a class of a trusted module
    (:func:`lightning_gan.checkpoints.trust.check_trusted`); nothing they name is imported before that.

    Args:
        ckpt_path: the checkpoint file.
        trusted_modules: module prefixes (comma-separated, or a list) or exact class paths to trust beyond the
            defaults and ``$LIGHTNING_GAN_TRUSTED_MODULES``, e.g. ``"examples.relativistic"``.

    Raises:
        CheckpointNotFoundError: ``ckpt_path`` does not exist or is not a file (also a ``FileNotFoundError``).
        CheckpointError: the file is empty, truncated, not a PyTorch checkpoint, holds Python objects beyond tensors
            and plain values, names something outside the trusted modules, or is the checkpoint of another model
            (also a ``ValueError``).
        ConfigError: a malformed ``trusted_modules`` or ``$LIGHTNING_GAN_TRUSTED_MODULES`` entry.
    """
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise CheckpointNotFoundError(
            f"checkpoint {what}: {path}; expected {EXPECTED}, e.g. <run>/checkpoints/last.ckpt"
        )
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(
            f"checkpoint {path} is empty (0 bytes): a save that never completed or a placeholder file; expected "
            f"{EXPECTED}. Use another checkpoint of the run, e.g. <run>/checkpoints/last.ckpt"
        )
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            head = f.read(4)
        if head == _ZIP_MAGIC:
            raise CheckpointError(
                f"checkpoint {path} is truncated ({size} bytes, the end of its zip archive is missing): an "
                f"interrupted copy or save. Copy it again, or use another checkpoint of the run; expected {EXPECTED}"
            )
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (not a torch.save zip archive); expected {EXPECTED}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"cannot read {path} as a lightning_gan checkpoint: {first}. Expected {EXPECTED}; checkpoints of a GAN "
            "built in Python with network objects as arguments hold pickled objects and are not loaded here."
        ) from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        found = sorted(map(str, checkpoint))[:12] if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"{path} is not a lightning_gan GAN checkpoint: a torch file without a Lightning `state_dict` (found "
            f"{found}), e.g. a bare torch.save of weights; expected {EXPECTED}"
        )
    hparams = checkpoint.get("hyper_parameters")
    generator = hparams.get("generator") if isinstance(hparams, dict) else None
    if not isinstance(generator, dict) or "class_path" not in generator:
        keys = hparams if isinstance(hparams, dict) else checkpoint
        found = sorted(map(str, keys))
        raise CheckpointError(
            f"{path} is not a lightning_gan GAN checkpoint: expected hyper_parameters with a `generator` "
            f"{{class_path, init_args}}, found keys {found[:12]}. It may be the checkpoint of another model family "
            f"or another project's run; expected {EXPECTED}."
        )
    check_trusted(checkpoint, path, trusted_modules)  # before anything named in it is imported or built
    moved = old_names(hparams)  # type: ignore[arg-type]  # a dict: checked above
    if moved:
        raise CheckpointError(
            f"{path} was written by lightning_gan 0.1, whose hyper-parameters use names that have moved since "
            f"({', '.join(moved[:3])}); write a copy in the current layout with "
            f"`python -m lightning_gan.checkpoints.upgrade {path}` and use that"
        )
    state = checkpoint.get("state_dict", {})
    if not any(key.startswith("generator.") for key in state):
        raise CheckpointError(
            f"{path} has no generator weights (no `generator.*` in its state_dict); expected {EXPECTED}"
        )
    return checkpoint


def _class_path(node: Any) -> str | None:
    if isinstance(node, dict) or hasattr(node, "get"):
        value = node.get("class_path")
        return str(value) if value else None
    return None


def _init_args(node: Any) -> dict[str, Any]:
    args = node.get("init_args") if node is not None and hasattr(node, "get") else None
    if args is None:
        return {}
    return dict(args.as_dict() if hasattr(args, "as_dict") else args)


def _short(class_path: str | None) -> str:
    return class_path.rsplit(".", 1)[-1] if class_path else "?"


def networks(hparams: Any) -> str:
    """``"G UnetGenerator(ngf=64, ...), D NLayerDiscriminator(...)"`` from a model config or hyper-parameters."""
    parts = []
    for role, key in (("G", "generator"), ("D", "discriminator")):
        node = hparams.get(key) if hparams is not None else None
        args = ", ".join(f"{k}={v}" for k, v in _init_args(node).items() if not isinstance(v, dict | list))
        parts.append(f"{role} {_short(_class_path(node))}({args})")
    return ", ".join(parts)


def _saved_config_hint(ckpt_path: Path) -> str:
    for config in (ckpt_path.parent.parent / "config.yaml", ckpt_path.parent / "config.yaml"):
        if config.is_file():
            return f"use the config the checkpoint was trained with (--config {config})"
    return "use the config the checkpoint was trained with (its run folder's config.yaml)"


def check_architecture(ckpt_path: str | Path, checkpoint: dict[str, Any], model_config: Any) -> None:
    """Fail when the config's generator or discriminator class differs from the checkpoint's.

    Called before Lightning replaces the config's model with the checkpoint's hyper-parameters, which would
    otherwise turn a pix2pix checkpoint with a DCGAN config into a data/network channel mismatch that never says
    the checkpoint is another family's model.

    Raises:
        CheckpointError: naming both architectures and how to proceed.
    """
    hparams = checkpoint.get("hyper_parameters", {})
    if model_config is None:
        return
    # By class name: the short (lightning_gan.nets.UnetGenerator) and long (lightning_gan.nets.pix2pix.UnetGenerator)
    # paths name the same class.
    wanted = {key: _class_path(model_config.get(key)) for key in ("generator", "discriminator")}
    differs = [key for key, path in wanted.items() if path and _short(_class_path(hparams.get(key))) != _short(path)]
    if not differs:
        return
    path = Path(ckpt_path).expanduser()
    raise CheckpointError(
        f"checkpoint {path} holds another architecture than the config asks for: the checkpoint has "
        f"{networks(hparams)}; the config has {networks(model_config)} ({' and '.join(differs)} differ). "
        f"{_saved_config_hint(path).capitalize()}, or a checkpoint of this config's model."
    )


def _init_arg_differences(checkpoint: dict[str, Any], module: nn.Module) -> list[str]:
    saved = checkpoint.get("hyper_parameters", {})
    current = getattr(module, "hparams", {})
    out = []
    for key in ("generator", "discriminator"):
        a, b = _init_args(saved.get(key)), _init_args(current.get(key))
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                out.append(f"model.{key}.init_args.{name}: checkpoint {a.get(name)!r}, config {b.get(name)!r}")
    if bool(saved.get("ema_decay")) != bool(current.get("ema_decay")):
        out.append(f"model.ema_decay: checkpoint {saved.get('ema_decay')!r}, config {current.get('ema_decay')!r}")
    return out


def check_weights_fit(ckpt_path: str | Path, checkpoint: dict[str, Any], module: nn.Module) -> None:
    """Fail, in a few lines, when the checkpoint's weights do not fit ``module`` (the model the config built).

    Raises:
        CheckpointError: how many tensors differ in shape, are missing or unexpected, up to three examples of
            each, the init_args that differ between the checkpoint and the config, and how to proceed.
    """
    saved = checkpoint.get("state_dict", {})
    expected = module.state_dict()
    # A module's extra state (``get_extra_state``: an objective's image pool) is run state whose size changes as it
    # fills, not a weight of the architecture: its presence is checked, its shape is its module's business.
    shapes = [
        (k, tuple(saved[k].shape), tuple(v.shape))
        for k, v in expected.items()
        if k in saved
        and not k.endswith("._extra_state")
        and hasattr(saved[k], "shape")
        and tuple(saved[k].shape) != tuple(v.shape)
    ]
    missing = [k for k in expected if k not in saved]
    unexpected = [k for k in saved if k not in expected]
    if not (shapes or missing or unexpected):
        return
    path = Path(ckpt_path).expanduser()
    lines = [f"the weights in checkpoint {path} do not fit the model the config builds:"]
    if shapes:
        examples = "; ".join(f"{k} {list(a)} in the checkpoint, {list(b)} in the config" for k, a, b in shapes[:3])
        lines.append(f"{len(shapes)} of {len(expected)} tensors differ in shape (e.g. {examples})")
    if missing:
        lines.append(f"{len(missing)} tensors the model needs are not in the checkpoint (e.g. {missing[:_EXAMPLES]})")
    if unexpected:
        lines.append(f"{len(unexpected)} checkpoint tensors have no place in the model (e.g. {unexpected[:_EXAMPLES]})")
    differences = _init_arg_differences(checkpoint, module)
    if differences:
        lines.append("settings that differ: " + "; ".join(differences[:6]))
    lines.append(
        f"The checkpoint has {networks(checkpoint.get('hyper_parameters', {}))}. Drop the command-line overrides of "
        f"the networks' settings, or {_saved_config_hint(path)}."
    )
    raise CheckpointError("\n  ".join(lines))


__all__ = [
    "EXPECTED",
    "CheckpointNotFoundError",
    "check_architecture",
    "check_weights_fit",
    "networks",
    "read_checkpoint",
]
