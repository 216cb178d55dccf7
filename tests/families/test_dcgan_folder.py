"""configs/dcgan_folder.yaml: an unconditional DCGAN on a folder of generated images, through the CLI; folders
with no images or mixed channel counts stop with a message naming them."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from lightning_gan.cli import main
from lightning_gan.data.images import ImageFolderDataModule
from tests.conftest import CONFIGS

TINY = [
    "--data.init_args.image_size", "16", "--data.init_args.batch_size", "4", "--data.init_args.num_workers", "0",
    "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
    "--trainer.max_epochs", "1", "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
    "--trainer.accelerator", "cpu",
]  # fmt: skip


def write_blobs(folder: Path, count: int, mode: str = "RGB", size: tuple[int, int] = (40, 30)) -> None:
    """Images of one bright disc each, at a random place and colour, on black."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[: size[1], : size[0]]
    for i in range(count):
        cy, cx = rng.integers(5, size[1] - 5), rng.integers(5, size[0] - 5)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 < 36)[..., None] * rng.integers(64, 256, 3)
        Image.fromarray(disc.astype(np.uint8)).convert(mode).save(folder / f"{mode}_{i:03d}.png")


@pytest.mark.parametrize("channels", [3, 1])
def test_the_folder_config_fits_through_the_cli(tmp_path: Path, channels: int) -> None:
    write_blobs(tmp_path / "my_images", 12, "RGB" if channels == 3 else "L")
    root = tmp_path / "runs"
    main(["fit", "--config", str(CONFIGS / "dcgan_folder.yaml"), "--data.init_args.root", str(tmp_path / "my_images"),
          "--data.init_args.channels", str(channels), "--trainer.default_root_dir", str(root), *TINY])  # fmt: skip
    (ckpt,) = root.rglob("checkpoints/last.ckpt")
    saved = yaml.safe_load((ckpt.parent.parent / "config.yaml").read_text())
    assert saved["model"]["generator"]["init_args"]["out_channels"] == channels  # interpolated from the data
    grid = Image.open(next((ckpt.parent.parent / "samples").glob("epoch_*.png")))
    assert grid.mode == ("RGB" if channels == 3 else "L")


def test_mixed_channel_counts_stop_at_setup_naming_a_file_of_each(tmp_path: Path) -> None:
    write_blobs(tmp_path / "mixed", 3, "RGB")
    write_blobs(tmp_path / "mixed", 2, "L")
    dm = ImageFolderDataModule(str(tmp_path / "mixed"), batch_size=2, num_workers=0)
    with pytest.raises(ValueError, match=r"mixes grayscale and colour images, e\.g\. L_000\.png .* RGB_000\.png"):
        dm.setup("fit")
    converting = ImageFolderDataModule(str(tmp_path / "mixed"), batch_size=5, num_workers=0, mixed_channels="convert")
    converting.setup("fit")
    assert next(iter(converting.train_dataloader()))["real"].shape == (5, 3, 64, 64)


def test_a_folder_without_images_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    with pytest.raises(FileNotFoundError, match=r"No images .* found in .*empty"):
        main(["fit", "--config", str(CONFIGS / "dcgan_folder.yaml"), "--data.init_args.root", str(tmp_path / "empty"),
              "--trainer.default_root_dir", str(tmp_path / "runs"), *TINY])  # fmt: skip
