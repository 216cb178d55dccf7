"""Checkpoints written before the package was laid out by role (lightning_gan 0.1, flat modules): what moved, a check
that names it, and ``python -m lightning_gan.checkpoints.upgrade OLD.ckpt [NEW.ckpt]``, which writes a copy whose
hyper-parameters use the new class paths and model keys. The weights' names did not change, so the copy trains,
resumes and predicts exactly as the original did.

The same tables give a user's old YAML one clear error (:mod:`lightning_gan.cli.moved`).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import torch

from lightning_gan.checkpoints.atomic import atomic_torch_save
from lightning_gan.errors import CheckpointError

# old module -> the package that re-exports its classes now (YAML's short class paths)
MOVED_MODULES = {
    "losses": "objectives",
    "penalties": "objectives",
    "reconstruction": "objectives",
    "augment": "objectives",
    "labels": "nets.labels",
    "checks": "nets.contract",
    "audio": "data",
    "predict_inputs": "data.predict_folder",
    "evaluation": "metrics",
    "inference": "whole_input",
    "geometry": "whole_input",
    "precision": "training.precision",
    "speed": "training",
    "strategies": "training",
    "schedulers": "training",
    "seeding": "callbacks",
    "run_dir": "training.run_folders",
    "report": "callbacks",
    "reference_batch": "callbacks",
    "locations": "callbacks",
    "checkpoint": "checkpoints",
    "checkpoint_check": "checkpoints",
    "api": "deploy",
    "export": "deploy",
    "description": "deploy",
    "loading": "deploy",
    "cli_help": "cli.help",
    "config_checks": "cli.config_validation",
    "warnings_filter": "cli.warnings_filter",
}
OLD_CLASS_PATH = re.compile(
    r"lightning_gan\.(" + "|".join(map(re.escape, sorted(MOVED_MODULES, key=len, reverse=True))) + r")\.([A-Z]\w*)"
)

OBJECTIVE_KEYS = ("loss", "penalties", "augment", "discriminator_loss_weight", "postprocess")
PAIRED_KEYS = ("reconstruction_weight", "reconstruction", "log_input_baseline")
CLIPPING_KEYS = {"g_gradient_clip_val": "generator", "d_gradient_clip_val": "discriminator",
                 "gradient_clip_algorithm": "algorithm"}  # fmt: skip
SPEED_KEYS = ("channels_last", "compile")
# old model key -> its place now
MOVED_MODEL_KEYS = {
    **{k: f"model.objective.init_args.{k}" for k in (*OBJECTIVE_KEYS, *PAIRED_KEYS)},
    **{k: f"model.clipping.{v}" for k, v in CLIPPING_KEYS.items()},
    **{k: f"model.speed.{k}" for k in SPEED_KEYS},
}


def new_class_path(old: str) -> str | None:
    """The current class path of a class path of the flat layout, or ``None`` when ``old`` is not one."""
    match = OLD_CLASS_PATH.fullmatch(old)
    return f"lightning_gan.{MOVED_MODULES[match.group(1)]}.{match.group(2)}" if match else None


def old_names(hparams: dict[str, Any]) -> list[str]:
    """The model keys and class paths of the flat layout in ``hparams`` (a checkpoint's hyper-parameters)."""
    found = [f"model.{key}" for key in hparams if key in MOVED_MODEL_KEYS]
    found += sorted({m.group(0) for m in OLD_CLASS_PATH.finditer(repr(hparams))})
    return found


def _renamed(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _renamed(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(_renamed(v) for v in node)
    if isinstance(node, str):
        return new_class_path(node) or node
    return node


def upgrade_hyperparameters(hparams: dict[str, Any]) -> dict[str, Any]:
    """The flat layout's ``GAN`` hyper-parameters in today's shape.

    The objective is :class:`~lightning_gan.objectives.PairedTranslation` when the old model had a reconstruction
    term, an input baseline or a post-processing step (pix2pix, SEGAN), else
    :class:`~lightning_gan.objectives.Synthesis` (DCGAN).
    """
    old = dict(hparams)
    paired = (
        bool(old.get("reconstruction_weight")) or bool(old.get("log_input_baseline")) or bool(old.get("postprocess"))
    )
    objective_args = {k: old.pop(k) for k in OBJECTIVE_KEYS if k in old}
    paired_args = {k: old.pop(k) for k in PAIRED_KEYS if k in old}
    if paired:
        objective_args |= paired_args
    objective_class = "PairedTranslation" if paired else "Synthesis"
    new = {key: value for key, value in old.items() if key not in CLIPPING_KEYS and key not in SPEED_KEYS}
    new["objective"] = {"class_path": f"lightning_gan.objectives.{objective_class}", "init_args": objective_args}
    new["clipping"] = {new_key: old[key] for key, new_key in CLIPPING_KEYS.items() if key in old}
    new["speed"] = {key: old[key] for key in SPEED_KEYS if key in old}
    return _renamed(new)


def upgrade(old: str | Path, new: str | Path) -> Path:
    """Write ``new``: the checkpoint ``old`` with upgraded hyper-parameters; never over an existing file."""
    old, new = Path(old).expanduser(), Path(new).expanduser()
    if new.exists():
        raise CheckpointError(f"{new} exists; name a new file for the upgraded checkpoint (nothing was written)")
    checkpoint = torch.load(old, map_location="cpu", weights_only=True)
    hparams = checkpoint.get("hyper_parameters")
    if not isinstance(hparams, dict) or not old_names(hparams):
        raise CheckpointError(f"{old} uses the current layout already (nothing to upgrade; nothing was written)")
    checkpoint["hyper_parameters"] = upgrade_hyperparameters(hparams)
    atomic_torch_save(checkpoint, new)
    return new


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lightning_gan.checkpoints.upgrade",
        description="Copy a lightning_gan 0.1 checkpoint with its hyper-parameters in the current layout.",
    )
    parser.add_argument("old", help="the checkpoint written by lightning_gan 0.1")
    parser.add_argument("new", nargs="?", help="where to write the copy (default: <old stem>-upgraded.ckpt)")
    args = parser.parse_args(argv)
    old = Path(args.old)
    written = upgrade(old, args.new or old.with_name(f"{old.stem}-upgraded{old.suffix}"))
    print(f"wrote {written}")


if __name__ == "__main__":
    from lightning_gan.errors import run_reporting_errors

    run_reporting_errors(lambda argv: main(argv), None)


__all__ = ["MOVED_MODEL_KEYS", "MOVED_MODULES", "new_class_path", "old_names", "upgrade", "upgrade_hyperparameters"]
