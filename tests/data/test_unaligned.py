"""UnpairedImageDataModule: the reference's unaligned sampling (A in order, a random B), per-image geometry,
evaluation items for the pix2pix-era callbacks, and one message for each kind of bad folder."""

from pathlib import Path

import pytest
import torch
from PIL import Image

from lightning_gan.data import PairedImageDataModule, UnpairedImageDataModule
from lightning_gan.errors import ConfigError, InputError


def make_domains(root: Path, sizes: dict[str, int], side: int = 20) -> Path:
    for split, n in sizes.items():
        (root / split).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (side, side), (10 * i, 0, 0) if split.endswith("A") else (0, 10 * i, 0)).save(
                root / split / f"{split}_{i}.png"
            )
    return root


def module(root: Path, **kwargs) -> UnpairedImageDataModule:
    return UnpairedImageDataModule(str(root), load_size=18, crop_size=16, num_workers=0, **kwargs)


def test_an_epoch_has_max_of_both_domains_with_a_random_b(tmp_path: Path) -> None:
    data = module(make_domains(tmp_path, {"trainA": 3, "trainB": 5, "testA": 2, "testB": 2}))
    data.setup("fit")
    assert data.train_set is not None and len(data.train_set) == 5
    torch.manual_seed(0)
    items = [data.train_set[i] for i in range(5)]
    assert [item["name_a"] for item in items] == [f"trainA_{i % 3}.png" for i in range(5)]
    names_b = {data.train_set[0]["name_b"] for _ in range(40)}
    assert len(names_b) > 2  # B is drawn at random, not index-aligned (reference serial_batches off)
    assert items[0]["a"].shape == items[0]["b"].shape == (3, 16, 16)  # the training crop


def test_evaluation_items_are_native_serial_and_carry_the_direction(tmp_path: Path) -> None:
    root = make_domains(tmp_path, {"trainA": 2, "trainB": 2, "testA": 2, "testB": 2}, side=24)
    data = module(root, direction="BtoA")
    data.setup("test")
    assert data.test_set is not None
    item = data.test_set[1]
    assert item["name_b"] == "testB_1.png" and item["a"].shape == (3, 24, 24)  # B i mod |B|, native size
    assert torch.equal(item["condition"], item["b"]) and torch.equal(item["real"], item["a"])
    assert item["name"] == "testB_1.png"


def test_bad_folders_are_named(tmp_path: Path) -> None:
    root = make_domains(tmp_path / "x", {"trainA": 2, "testA": 1, "testB": 1})
    with pytest.raises(InputError, match=r"domain folder not found: .*trainB"):
        module(root).setup("fit")
    (root / "trainB").mkdir()
    with pytest.raises(InputError, match=r"no images in .*trainB"):
        module(root).setup("fit")
    with pytest.raises(ConfigError, match=r"data.direction = 'AB': expected one of \('AtoB', 'BtoA'\)"):
        module(root, direction="AB")


def test_each_layout_is_refused_by_the_other_module(tmp_path: Path) -> None:
    paired = tmp_path / "paired" / "train"
    paired.mkdir(parents=True)
    Image.new("RGB", (32, 16)).save(paired / "0.png")
    with pytest.raises(InputError, match=r"has the paired layout .* expected trainA/, trainB/"):
        module(tmp_path / "paired").setup("fit")
    unpaired = make_domains(tmp_path / "unpaired", {"trainA": 1, "trainB": 1})
    with pytest.raises(InputError, match=r"has the unpaired layout \(trainA/, trainB/\) .* expected train/"):
        PairedImageDataModule(str(unpaired), num_workers=0).setup("fit")
