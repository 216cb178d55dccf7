"""One clear error naming the new place when a user's config or command line still uses a class path or model key
of the flat 0.1 layout (the tables: :mod:`lightning_gan.checkpoints.upgrade`).

Without this, jsonargparse reports an old class path as an import failure deep in its parser, and an old model key
(``model.loss``) as a key the GAN does not accept, neither saying where it went.
"""

from pathlib import Path
from typing import Any

import yaml

from lightning_gan.checkpoints.upgrade import MOVED_MODEL_KEYS, OLD_CLASS_PATH, new_class_path
from lightning_gan.errors import ConfigError


def _config_files(argv: list[str]) -> list[Path]:
    files = []
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            files.append(Path(argv[i + 1]))
        elif arg.startswith("--config="):
            files.append(Path(arg.split("=", 1)[1]))
    return [path for path in files if path.is_file()]


def check_moved(argv: list[str]) -> None:
    """Raise :class:`ConfigError` naming the new place of the first old class path or model key in ``argv`` or in
    the config files it names with ``--config``."""
    sources: list[tuple[str, str, Any]] = []
    for path in _config_files(argv):
        text = path.read_text()
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = None  # the parser reports it, with the line
        sources.append((str(path), text, parsed))
    sources.append(("the command line", " ".join(argv), None))
    for where, text, parsed in sources:
        old = OLD_CLASS_PATH.search(text)
        if old is not None:
            raise ConfigError(f"{where}: class path {old.group(0)} moved to {new_class_path(old.group(0))}")
        model = parsed.get("model") if isinstance(parsed, dict) else None
        for key in model if isinstance(model, dict) else {}:
            if key in MOVED_MODEL_KEYS:
                raise ConfigError(f"{where}: model.{key} moved to {MOVED_MODEL_KEYS[key]}")
    for arg in argv:
        key = arg.split("=", 1)[0].removeprefix("--model.").split(".")[0] if arg.startswith("--model.") else None
        if key in MOVED_MODEL_KEYS:
            raise ConfigError(f"the command line: --model.{key} moved to --{MOVED_MODEL_KEYS[key]}")


__all__ = ["check_moved"]
