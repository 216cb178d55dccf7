"""Unpaired images of two domains for CycleGAN: a LightningDataModule over ``root/{trainA,trainB,testA,testB}``.

The layout and the sampling follow the reference's ``data/unaligned_dataset.py`` (junyanz/pytorch-CycleGAN-and-pix2pix)
and the folder names of its published archives (horse2zebra, monet2photo, ...): an epoch has ``max(|A|, |B|)``
items; item ``i`` is A image ``i mod |A|`` with a B image drawn at random (the reference's default, ``serial_batches``
off), so no pairing is ever learnt from the file order. Each image gets its own resize, random crop and flip (the
reference transforms A and B independently), with the same preprocessing policy as pix2pix
(:class:`~lightning_gan.data.geometry.ImageGeometry`); validation, test and predict read native images, which the
model's :class:`~lightning_gan.whole_input.geometry.AtTrainingScale` translates at the training scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Dataset
from typing_extensions import override

from lightning_gan.data.file_errors import DataFileError
from lightning_gan.data.geometry import ImageGeometry, Preprocess
from lightning_gan.data.image_folder import (
    DEFAULT_MAX_PIXELS,
    check_max_pixels,
    image_size,
    list_images,
    load_image,
    pil_to_tensor,
)
from lightning_gan.data.paired_images import ConditionImageDataset, check_predict_channels
from lightning_gan.data.predict_folder import ScanResult, scan_images
from lightning_gan.errors import ConfigError, InputError

Direction = Literal["AtoB", "BtoA"]
DIRECTIONS = ("AtoB", "BtoA")


def scan_domain(folder: Path, geometry: ImageGeometry | None, max_pixels: int | None) -> list[Path]:
    """The images of one domain folder, each header checked (and, with a training ``geometry``, its size against
    the crop) so a bad file stops the run before training.

    Raises:
        InputError: the folder is missing or holds no images, naming it and what is expected.
        ImageReadError: a file's header cannot be read, or it is too large.
    """
    if not folder.is_dir():
        raise InputError(f"domain folder not found: {folder} (expected a folder of images of one domain)")
    files = list_images(folder)
    if not files:
        raise InputError(f"no images in {folder} (expected .png/.jpg/.jpeg/.bmp/.tif/.tiff/.webp files of one domain)")
    for path in files:
        width, height = image_size(path, max_pixels)
        if geometry is not None:
            geometry.check(width, height, str(path))
    return files


class UnpairedImageDataset(Dataset):
    """Items ``{"a": C_A x H x W, "b": C_B x H' x W', "name_a": str, "name_b": str}`` in ``[-1, 1]``; evaluation
    items also hold ``"condition"`` (the source image of ``direction``), ``"real"`` (the target domain's image) and
    ``"name"`` (the source's file name), which sample grids, reports and writers written for pix2pix show.

    Args:
        files_a: domain A's images (sorted).
        files_b: domain B's images (sorted).
        geometry: the training geometry.
        train: random training crops and a random B per item; otherwise native images and B ``i mod |B|``.
        flip: random horizontal flips in training (drawn per image).
        channels_a: channels of A after loading (1 grayscale, 3 RGB).
        channels_b: channels of B after loading.
        max_pixels: the largest image read; ``None``: no limit.
        direction: which domain is the source of evaluation items' ``"condition"``.
    """

    def __init__(
        self,
        files_a: list[Path],
        files_b: list[Path],
        geometry: ImageGeometry,
        train: bool,
        flip: bool,
        channels_a: int,
        channels_b: int,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
        direction: Direction = "AtoB",
    ) -> None:
        self.files_a, self.files_b, self.geometry, self.train, self.flip = files_a, files_b, geometry, train, flip
        self.direction = direction
        self.channels_a, self.channels_b, self.max_pixels = channels_a, channels_b, max_pixels

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def _image(self, path: Path, channels: int) -> torch.Tensor:
        x = pil_to_tensor(load_image(path, channels, self.max_pixels))
        if not self.train:
            return x
        try:  # checked at setup; a file replaced by a smaller one since then would fail inside the crop
            self.geometry.check(x.shape[-1], x.shape[-2], str(path))
        except ValueError as err:
            raise DataFileError(f"{err} (it was not when the run started: restore the file)") from err
        return self.geometry.train_pair(x, x, self.flip)[0]  # one image: its own resize, crop and flip

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str]:
        path_a = self.files_a[index % len(self.files_a)]
        # torch's RNG (seeded per epoch and per DataLoader worker), as the reference's random.randint.
        index_b = int(torch.randint(0, len(self.files_b), ())) if self.train else index % len(self.files_b)
        path_b = self.files_b[index_b]
        a = self._image(path_a, self.channels_a)
        b = self._image(path_b, self.channels_b)
        item: dict[str, torch.Tensor | str] = {"a": a, "b": b, "name_a": path_a.name, "name_b": path_b.name}
        if not self.train:
            source, target = (a, b) if self.direction == "AtoB" else (b, a)
            name = path_a.name if self.direction == "AtoB" else path_b.name
            item |= {"condition": source, "real": target, "name": name}
        return item


class UnpairedImageDataModule(LightningDataModule):
    """Unpaired images of domains A and B (CycleGAN) from ``root/trainA``, ``root/trainB``, ``root/testA``,
    ``root/testB``; validation reads ``valA/`` and ``valB/`` when both exist, else the test folders.

    Batches are ``{"a": N x C_A x H x W, "b": N x C_B x H x W, "name_a": [...], "name_b": [...]}``; prediction batches
    are ``{"condition": 1 x C x H x W, "name": [file name]}`` of ``predict_dir``'s images, which belong to the source
    domain of ``direction``.

    Args:
        root: dataset folder holding ``trainA/``, ``trainB/``, ``testA/``, ``testB/``.
        direction: the translation that evaluation scores and ``predict`` writes: ``"AtoB"`` (G_A, the reference's
            default) or ``"BtoA"`` (G_B); ``predict_dir`` holds images of the source domain.
        preprocess: the reference's ``--preprocess`` (default ``"resize_and_crop"``), as for pix2pix.
        load_size: training resize before the crop (reference 286).
        crop_size: training crop (reference 256).
        flip: random horizontal flips in training (reference on).
        size_multiple: the non-cropping modes round training images to multiples of this (the ResNet generator: 4).
        channels_a: channels of domain A (1 grayscale, 3 RGB); reference ``--input_nc`` 3.
        channels_b: channels of domain B; reference ``--output_nc`` 3.
        batch_size: training batch size (reference 1).
        eval_batch_size: validation/test batch size (1: native images of any size).
        num_workers: DataLoader worker processes (reference 4).
        pin_memory: page-locked host memory, used only when CUDA is available.
        predict_dir: folder of source-domain images for ``predict``.
        skip_bad_inputs: skip the predict folder's bad images with a warning each.
        max_pixels: the largest image read, in pixels; ``None``: no limit.
    """

    #: What :class:`~lightning_gan.objectives.CycleConsistency` checks: batches hold two unpaired domains.
    unpaired: ClassVar[bool] = True

    def __init__(
        self,
        root: str,
        direction: Direction = "AtoB",
        preprocess: Preprocess = "resize_and_crop",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        size_multiple: int = 4,
        channels_a: int = 3,
        channels_b: int = 3,
        batch_size: int = 1,
        eval_batch_size: int = 1,
        num_workers: int = 4,
        pin_memory: bool = True,
        predict_dir: str | None = None,
        skip_bad_inputs: bool = False,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__()
        if direction not in DIRECTIONS:
            raise ConfigError(f"data.direction = {direction!r}: expected one of {DIRECTIONS}.")
        self.geometry = ImageGeometry(preprocess, load_size, crop_size, size_multiple)
        for key, value in (("channels_a", channels_a), ("channels_b", channels_b)):
            if value not in (1, 3):
                raise ConfigError(f"data.{key} = {value!r}: expected 1 (grayscale) or 3 (RGB).")
        for key, value, least in (("batch_size", batch_size, 1), ("eval_batch_size", eval_batch_size, 1),
                                  ("num_workers", num_workers, 0)):  # fmt: skip
            if value < least:
                raise ConfigError(f"data.{key} = {value!r}: expected an integer >= {least}.")
        self.root = Path(root)
        self.direction: Direction = direction
        self.flip = flip
        self.channels_a, self.channels_b = channels_a, channels_b
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.predict_dir = Path(predict_dir) if predict_dir else None
        self.skip_bad_inputs = skip_bad_inputs
        self.max_pixels = check_max_pixels(max_pixels)
        self.predict_scan: ScanResult | None = None
        self.train_set: UnpairedImageDataset | None = None
        self.val_set: UnpairedImageDataset | None = None
        self.test_set: UnpairedImageDataset | None = None
        self.predict_set: ConditionImageDataset | None = None

    @property
    def source_channels(self) -> int:
        """Channels of ``predict_dir``'s images: the source domain of ``direction``."""
        return self.channels_a if self.direction == "AtoB" else self.channels_b

    def _root(self) -> Path:
        if not self.root.is_dir():
            raise InputError(
                f"dataset root not found: {self.root} (expected a folder with trainA/, trainB/, testA/, testB/)"
            )
        unpaired = any((self.root / name).exists() for name in ("trainA", "trainB", "testA", "testB"))
        if not unpaired and any((self.root / name).is_dir() for name in ("train", "val", "test")):
            raise InputError(
                f"{self.root} has the paired layout (train/, val/, test/ with A|B images or A/ and B/) of "
                "lightning_gan.data.PairedImageDataModule, not the unpaired one; expected trainA/, trainB/, testA/, "
                "testB/ folders of each domain's images (or use PairedImageDataModule with PairedTranslation)"
            )
        return self.root

    def _dataset(self, split: str, train: bool) -> UnpairedImageDataset:
        root = self._root()
        geometry = self.geometry if train else None
        files_a = scan_domain(root / f"{split}A", geometry, self.max_pixels)
        files_b = scan_domain(root / f"{split}B", geometry, self.max_pixels)
        return UnpairedImageDataset(
            files_a,
            files_b,
            self.geometry,
            train,
            self.flip,
            self.channels_a,
            self.channels_b,
            self.max_pixels,
            self.direction,
        )

    def _eval_split(self) -> str:
        root = self._root()
        return "val" if (root / "valA").is_dir() and (root / "valB").is_dir() else "test"

    @override
    def setup(self, stage: str | None = None) -> None:
        """Scan and check the folders the stage needs ("fit", "validate", "test", "predict"; None: all but predict)."""
        if stage in (None, "fit"):
            self.train_set = self._dataset("train", train=True)
        if stage in (None, "fit", "validate"):
            self.val_set = self._dataset(self._eval_split(), train=False)
        if stage in (None, "test"):
            self.test_set = self._dataset("test", train=False)
        if stage == "predict":
            if self.predict_dir is None:
                raise ConfigError("data.predict_dir is not set: give the folder of source-domain images to translate")
            self.predict_scan = scan_images(self.predict_dir, self.skip_bad_inputs, self.max_pixels)
            check_predict_channels(self.predict_scan.files, self.source_channels, self.max_pixels)
            self.predict_set = ConditionImageDataset(self.predict_scan.files, self.source_channels, self.max_pixels)

    def _loader(self, dataset: Dataset | None, stage: str, batch_size: int, shuffle: bool) -> DataLoader:
        if dataset is None:
            raise RuntimeError(f"call setup() for {stage!r} before asking for its DataLoader")
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
            persistent_workers=self.num_workers > 0,
            drop_last=False,
        )

    @override
    def train_dataloader(self) -> DataLoader:
        """Shuffled training batches of ``batch_size``."""
        return self._loader(self.train_set, "fit", self.batch_size, shuffle=True)

    @override
    def val_dataloader(self) -> DataLoader:
        """Validation batches of ``eval_batch_size``, A in file-name order."""
        return self._loader(self.val_set, "validate", self.eval_batch_size, shuffle=False)

    @override
    def test_dataloader(self) -> DataLoader:
        """Test batches of ``eval_batch_size``, A in file-name order."""
        return self._loader(self.test_set, "test", self.eval_batch_size, shuffle=False)

    @override
    def predict_dataloader(self) -> DataLoader:
        """One source-domain image per batch, at its original size, in file-name order."""
        return self._loader(self.predict_set, "predict", 1, shuffle=False)


__all__ = ["UnpairedImageDataModule", "UnpairedImageDataset", "scan_domain"]
