"""A user's own folder smaller than the recipe expects (issue #26): fewer images than a batch stops naming both
numbers; a handful of batches per epoch adapts (each epoch draws 4 full batches) and says so."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lightning_gan.cli  # noqa: F401  # imported at collection, so Lightning's log handler holds the real stderr
from lightning_gan.cli import main
from tests.conftest import CONFIGS, console_error

SMALL = ["--data.init_args.image_size", "16", "--data.init_args.num_workers", "0",
         "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
         "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false", "--trainer.logger", "false",
         "--trainer.accelerator", "cpu"]  # fmt: skip


def _folder(root: Path, count: int) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    return root


def _fit(folder: Path, tmp_path: Path, batch_size: int) -> list[str]:
    return ["fit", "--config", str(CONFIGS / "dcgan_folder.yaml"), "--data.init_args.root", str(folder),
            "--data.init_args.batch_size", str(batch_size), "--trainer.default_root_dir", str(tmp_path / "runs"),
            *SMALL]  # fmt: skip


def test_a_20_image_folder_trains_four_steps_per_epoch_and_says_how(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "mine", 20)
    with pytest.warns(UserWarning) as record:
        cli = main(_fit(folder, tmp_path, 16))
    assert cli.trainer.num_training_batches == 4  # not the 1 full batch of 16 that 20 images give
    assert cli.trainer.fit_loop.epoch_loop.batch_progress.total.completed == 4
    assert (
        f"{folder} holds 20 training images: batch_size=16 gives 1 full batch(es) per epoch, so each epoch draws 4 "
        "batches of 16, passing over the images again in a new order. For more steps per pass, lower "
        "--data.init_args.batch_size (at most 5 gives 4 batches per pass)."
    ) in [str(w.message) for w in record]


def test_fewer_images_than_a_batch_stops_naming_both(tmp_path: Path, capsys) -> None:
    folder = _folder(tmp_path / "mine", 20)
    assert console_error(_fit(folder, tmp_path, 128), capsys) == (
        f"batch_size=128 is more than the 20 training images in {folder}: incomplete batches are dropped, so not "
        "one batch would train. Set --data.init_args.batch_size to at most 20, or add training data"
    )
