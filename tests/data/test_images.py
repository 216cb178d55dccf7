"""The unconditional image-folder DataModule, on real image files."""

import numpy as np
import pytest
import torch
from PIL import Image

from lightning_gan.data.images import ImageFolderDataModule, resize_center_crop
from lightning_gan.errors import ConfigError


def write_images(folder, count: int, size=(40, 30)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")


def test_batches_shape_range_and_channels(tmp_path) -> None:
    write_images(tmp_path / "imgs", 6)
    for channels in (1, 3):
        dm = ImageFolderDataModule(
            str(tmp_path / "imgs"), image_size=16, channels=channels, batch_size=4, num_workers=0
        )
        dm.setup("fit")
        batch = next(iter(dm.train_dataloader()))
        assert batch["real"].shape == (4, channels, 16, 16)
        assert batch["real"].min() >= -1 and batch["real"].max() <= 1
        assert dm.real_channels == channels


def test_resize_center_crop_keeps_the_centre() -> None:
    img = Image.new("RGB", (300, 100), (0, 0, 0))
    img.paste((255, 255, 255), (100, 0, 200, 100))  # white centre third
    out = np.asarray(resize_center_crop(img, 64))
    assert out.shape == (64, 64, 3) and out[:, 8:56].min() > 250


def test_flip_mirrors_some_images(tmp_path) -> None:
    write_images(tmp_path / "imgs", 1, size=(16, 16))
    dm = ImageFolderDataModule(str(tmp_path / "imgs"), image_size=16, flip=True, batch_size=1, num_workers=0)
    dm.setup("fit")
    dataset = dm.train_dataloader().dataset
    torch.manual_seed(0)
    draws = [dataset[0]["real"] for _ in range(20)]
    assert any(torch.equal(d, draws[0].flip(-1)) and not torch.equal(d, draws[0]) for d in draws)


def test_empty_or_small_folder_errors(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No images"):
        ImageFolderDataModule(str(tmp_path / "empty")).setup("fit")
    with pytest.raises(FileNotFoundError, match="missing"):
        ImageFolderDataModule(str(tmp_path / "missing")).setup("fit")
    write_images(tmp_path / "few", 2)
    with pytest.raises(ConfigError, match=r"batch_size=4 is more than the 2 training images in .*few: .*at most 2"):
        ImageFolderDataModule(str(tmp_path / "few"), batch_size=4).setup("fit")
    with pytest.raises(ConfigError, match=r"more than the 1 training images in .*few \(val_fraction=0.5 holds out 1\)"):
        ImageFolderDataModule(str(tmp_path / "few"), batch_size=2, val_fraction=0.5).setup("fit")
    ImageFolderDataModule(str(tmp_path / "few"), batch_size=4).setup("validate")  # no batch is dropped there
