"""Unconditional image data: a folder of pictures, for DCGAN-style noise-to-image training on your own images.

Each image is resized so its short side is ``image_size`` (bicubic), centre-cropped to ``image_size`` squared,
optionally flipped at random, and mapped to [-1, 1] (the generator's tanh range), as the DCGAN reference pipeline
(``Resize`` + ``CenterCrop`` + ``Normalize(0.5, 0.5)``) does.

``val_fraction`` holds out a seeded share of the files as a validation set (never flipped, never trained on): the
real images that sample-quality metrics (:mod:`lightning_gan.metrics.sample_quality`) score G's samples against.

Every image is converted to ``channels`` on load. A folder that mixes grayscale and colour files stops at setup
with the names of one file of each kind (the model would otherwise learn from silently converted images), unless
``mixed_channels="convert"`` says the conversion is wanted.

Files are read as :mod:`lightning_gan.data.image_folder` documents: upright (EXIF orientation applied), one frame
only, at most ``max_pixels`` pixels, float images in [0, 1]. Setup checks every file's header (cheap: no pixel is
decoded), so an animated, oversized or unreadable file stops the run before training, named; a file damaged or
deleted later stops it when a batch reads it, with the same one-line message.

Small folders: every batch is full (the last incomplete one is dropped), so a folder with fewer images than
``batch_size`` stops at setup, naming both numbers; one with fewer than :data:`MIN_BATCHES` full batches adapts,
and says so: each epoch draws :data:`MIN_BATCHES` full batches, passing over the images again in a new order
(a recipe's batch of 128 on 200 images would otherwise train one step per epoch and end in noise).
"""

from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, RandomSampler
from typing_extensions import override

from lightning_gan.data.digits import SampleNames
from lightning_gan.data.file_errors import MIN_BATCHES, check_full_batch
from lightning_gan.data.image_folder import (
    DEFAULT_MAX_PIXELS,
    check_max_pixels,
    list_images,
    load_image,
    pil_to_tensor,
    read_header,
)


def file_channels(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> int:
    """1 for a grayscale image file, 3 for a colour one (RGB, RGBA, palette, CMYK, ...), from its header.

    Raises:
        ImageReadError: as :func:`~lightning_gan.data.image_folder.read_header`; the message names the file.
    """
    return read_header(path, max_pixels).channels


def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Scale the short side to ``size`` (bicubic), then crop the centre ``size`` x ``size``."""
    w, h = img.size
    scale = size / min(w, h)
    img = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC)
    w, h = img.size
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


class ImageFiles(Dataset):
    """``{"real": C x S x S}`` items from image files; ``flip`` mirrors half of them at random."""

    def __init__(
        self, files: list[Path], image_size: int, channels: int, flip: bool, max_pixels: int | None = DEFAULT_MAX_PIXELS
    ) -> None:
        self.files, self.image_size, self.channels, self.flip = files, image_size, channels, flip
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        picture = load_image(self.files[index], self.channels, self.max_pixels)
        image = pil_to_tensor(resize_center_crop(picture, self.image_size))
        if self.flip and torch.rand(()) < 0.5:
            image = image.flip(-1)
        return {"real": image}


class ImageFolderDataModule(LightningDataModule):
    """Batches ``{"real": N x C x S x S}`` from every image directly inside ``root`` (png, jpg, bmp, tif, webp).

    Args:
        root: the folder of images.
        image_size: side of the square training images (a power of two for DCGAN: 64 in the paper).
        channels: 1 (grayscale) or 3 (RGB); images are converted on load.
        flip: random horizontal flips.
        batch_size: images per batch (128 in Radford et al. 2016); fewer than :data:`MIN_BATCHES` full batches
            per epoch: each epoch draws that many (module docstring, "Small folders").
        num_workers: DataLoader worker processes.
        num_predict: how many images ``predict`` draws.
        val_fraction: share of the files held out for validation (0: no validation set, nothing is validated).
        split_seed: seed of the held-out split (a permutation of the sorted file list).
        mixed_channels: what to do with a folder of both grayscale and colour files: ``"error"`` (default: stop at
            setup naming one of each) or ``"convert"`` (convert each to ``channels`` on load, as all files are).
        max_pixels: the largest image read, in pixels (default 8192 x 8192); a larger file is refused, named, before
            it is decoded (:mod:`lightning_gan.data.image_folder`). ``null``: no limit.

    Raises:
        ConfigError: at setup for ``fit``, ``batch_size`` is more than the training images (the last incomplete batch
            is dropped, so there would be no training batch).
        ImageReadError: at setup, a file is not a readable single image within ``max_pixels`` (named); when a batch
            is read, a file that cannot be decoded or used (named).
    """

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        channels: int = 3,
        flip: bool = False,
        batch_size: int = 128,
        num_workers: int = 4,
        num_predict: int = 64,
        val_fraction: float = 0.0,
        split_seed: int = 0,
        mixed_channels: Literal["error", "convert"] = "error",
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__()
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"Expected `val_fraction` in [0, 1), got {val_fraction!r}.")
        if mixed_channels not in ("error", "convert"):
            raise ValueError(f"Expected `mixed_channels` 'error' or 'convert', got {mixed_channels!r}.")
        self.val_fraction, self.split_seed = val_fraction, split_seed
        self.val_files: list[Path] = []
        self.mixed_channels = mixed_channels
        self.max_pixels = check_max_pixels(max_pixels)
        self.root = Path(root)
        self.image_size, self.real_channels, self.flip = image_size, channels, flip
        self.batch_size, self.num_workers, self.num_predict = batch_size, num_workers, num_predict
        self.files: list[Path] = []

    @override
    def setup(self, stage: str) -> None:
        if stage == "predict":
            return
        self.files = list_images(self.root)
        if not self.files:
            raise FileNotFoundError(f"No images (png, jpg, jpeg, bmp, tif, tiff, webp) found in {self.root}.")
        if self.val_fraction > 0:
            order = torch.randperm(len(self.files), generator=torch.Generator().manual_seed(self.split_seed)).tolist()
            held_out = set(order[: round(self.val_fraction * len(self.files))])
            self.val_files = [f for i, f in enumerate(self.files) if i in held_out]
            self.files = [f for i, f in enumerate(self.files) if i not in held_out]
        if stage == "fit":
            held = f" (val_fraction={self.val_fraction} holds out {len(self.val_files)})" if self.val_files else ""
            check_full_batch(self.batch_size, len(self.files), "images", f"{self.root}{held}")
            if len(self.files) // self.batch_size < MIN_BATCHES:
                rank_zero_warn(
                    f"{self.root} holds {len(self.files)} training images{held}: batch_size={self.batch_size} gives "
                    f"{len(self.files) // self.batch_size} full batch(es) per epoch, so each epoch draws "
                    f"{MIN_BATCHES} batches of {self.batch_size}, passing over the images again in a new order. For "
                    f"more steps per pass, lower --data.init_args.batch_size (at most "
                    f"{max(1, len(self.files) // MIN_BATCHES)} gives {MIN_BATCHES} batches per pass)."
                )
        self._check_headers()

    def _check_headers(self) -> None:
        """Every file's header: readable, one frame, within ``max_pixels``, and one channel count unless converting."""
        first: dict[int, Path] = {}
        for path in [*self.files, *self.val_files]:
            first.setdefault(file_channels(path, self.max_pixels), path)
            if len(first) > 1 and self.mixed_channels == "error":
                raise ValueError(
                    f"{self.root} mixes grayscale and colour images, e.g. {first[1].name} (1 channel) and "
                    f"{first[3].name} (3 channels); expected one channel count. The model trains on "
                    f"channels={self.real_channels}: convert the files, or set `--data.init_args.mixed_channels "
                    f"convert` to convert every image to {self.real_channels} channel(s) on load."
                )

    @override
    def train_dataloader(self) -> DataLoader:
        dataset = ImageFiles(self.files, self.image_size, self.real_channels, self.flip, self.max_pixels)
        # A small folder: MIN_BATCHES full batches per epoch, reshuffled passes (without replacement within a pass).
        few = len(self.files) // self.batch_size < MIN_BATCHES
        sampler = RandomSampler(dataset, num_samples=MIN_BATCHES * self.batch_size) if few else None
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=None if few else True,
            sampler=sampler,
            drop_last=True,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
        )

    @override
    def val_dataloader(self) -> DataLoader | list:
        if not self.val_files:
            return []  # Lightning skips validation
        return DataLoader(
            ImageFiles(self.val_files, self.image_size, self.real_channels, False, self.max_pixels),
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            pin_memory=torch.cuda.is_available(),
        )

    @override
    def predict_dataloader(self) -> DataLoader:
        return DataLoader(SampleNames(self.num_predict), batch_size=self.batch_size)
