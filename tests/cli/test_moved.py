"""Class paths and model keys of the flat 0.1 layout get one error naming their new place."""

import re
from pathlib import Path

import pytest

from lightning_gan.cli.moved import check_moved
from lightning_gan.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "model:\n  loss:\n    class_path: lightning_gan.objectives.HingeLoss\n",
            "model.loss moved to model.objective.init_args.loss",
        ),
        ("model:\n  channels_last: true\n", "model.channels_last moved to model.speed.channels_last"),
        (
            "model:\n  objective:\n    init_args:\n      loss:\n        class_path: lightning_gan.losses.HingeLoss\n",
            "class path lightning_gan.losses.HingeLoss moved to lightning_gan.objectives.HingeLoss",
        ),
        (
            "data:\n  class_path: lightning_gan.geometry.AtTrainingScale\n",
            "class path lightning_gan.geometry.AtTrainingScale moved to lightning_gan.whole_input.AtTrainingScale",
        ),
    ],
    ids=["model_key", "speed_key", "loss_class_path", "geometry_class_path"],
)
def test_an_old_config_names_the_new_place(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "old.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"{config}: {message}")):
        check_moved(["fit", "--config", str(config)])


def test_current_configs_and_the_old_family_module_paths_pass() -> None:
    """Every shipped config is current; lightning_gan.nets.pix2pix.UnetGenerator still imports, so it is no error."""
    for config in Path("configs").rglob("*.yaml"):
        check_moved(["fit", "--config", str(config)])
    check_moved(["--model.generator", "lightning_gan.nets.pix2pix.UnetGenerator"])
