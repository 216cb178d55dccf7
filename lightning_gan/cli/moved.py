"""Class paths and model keys that moved when the package was laid out by role (0.1 -> 0.2), and one clear error
naming the new place when a user's config or command line still uses an old one.

Without this, jsonargparse reports an old class path as an import failure deep in its parser, and an old model key
(``model.loss``) as a key the GAN does not accept, neither saying where it went.
"""

import re
from pathlib import Path
from typing import Any

import yaml

from lightning_gan.errors import ConfigError

# old module -> the package that now re-exports its classes (YAML's short class paths)
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
    "nets.pix2pix": "nets",
    "nets.segan": "nets",
    "nets.dcgan": "nets",
    "nets.conditional": "nets",
    "data.paired_images": "data",
    "data.speech": "data",
    "data.digits": "data",
    "data.images": "data",
    "data.speech_augment": "data",
}
_OLD = re.compile(
    r"lightning_gan\.(" + "|".join(map(re.escape, sorted(MOVED_MODULES, key=len, reverse=True))) + r")\.([A-Z]\w*)"
)
_CURRENT_SHORT = ("nets.", "data.")  # their old modules still exist: only a missing name there is an error

# old model key -> new key
MOVED_MODEL_KEYS = {
    "loss": "model.objective.init_args.loss",
    "penalties": "model.objective.init_args.penalties",
    "augment": "model.objective.init_args.augment",
    "reconstruction": "model.objective.init_args.reconstruction",
    "reconstruction_weight": "model.objective.init_args.reconstruction_weight",
    "discriminator_loss_weight": "model.objective.init_args.discriminator_loss_weight",
    "postprocess": "model.objective.init_args.postprocess",
    "log_input_baseline": "model.objective.init_args.log_input_baseline",
    "g_gradient_clip_val": "model.clipping.generator",
    "d_gradient_clip_val": "model.clipping.discriminator",
    "gradient_clip_algorithm": "model.clipping.algorithm",
    "channels_last": "model.speed.channels_last",
    "compile": "model.speed.compile",
}


def _old_class_path(text: str) -> tuple[str, str] | None:
    for match in _OLD.finditer(text):
        module, name = match.group(1), match.group(2)
        if module.startswith(_CURRENT_SHORT):
            continue  # lightning_gan.nets.pix2pix.UnetGenerator still imports: not an error
        return match.group(0), f"lightning_gan.{MOVED_MODULES[module]}.{name}"
    return None


def check_moved(argv: list[str]) -> None:
    """Raise :class:`ConfigError` naming the new place of the first old class path or model key in ``argv`` or in
    the config files it names with ``--config``."""
    sources: list[tuple[str, str, Any]] = []
    for i, arg in enumerate(argv):
        if (arg == "--config" and i + 1 < len(argv)) or arg.startswith("--config="):
            path = Path(argv[i + 1] if arg == "--config" else arg.split("=", 1)[1])
            if path.is_file():
                text = path.read_text()
                try:
                    parsed = yaml.safe_load(text)
                except yaml.YAMLError:
                    parsed = None  # the parser reports it, with the line
                sources.append((str(path), text, parsed))
    sources.append(("the command line", " ".join(argv), None))
    for where, text, parsed in sources:
        old = _old_class_path(text)
        if old is not None:
            raise ConfigError(f"{where}: class path {old[0]} moved to {old[1]}; update the config")
        model = parsed.get("model") if isinstance(parsed, dict) else None
        for key in model if isinstance(model, dict) else {}:
            if key in MOVED_MODEL_KEYS:
                raise ConfigError(f"{where}: model.{key} moved to {MOVED_MODEL_KEYS[key]}; update the config")
    for arg in argv:
        key = arg.split("=", 1)[0].removeprefix("--model.").split(".")[0] if arg.startswith("--model.") else None
        if key in MOVED_MODEL_KEYS:
            raise ConfigError(f"the command line: --model.{key} moved to --{MOVED_MODEL_KEYS[key]}")


__all__ = ["MOVED_MODEL_KEYS", "MOVED_MODULES", "check_moved"]
