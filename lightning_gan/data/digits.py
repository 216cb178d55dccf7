"""The quickstart's data: scikit-learn's bundled 8 x 8 handwritten digits, upscaled. Nothing is downloaded.

The 1,797 digits (UCI "Optical Recognition of Handwritten Digits", shipped inside scikit-learn) are 8 x 8 images of
intensities 0..16. They are upscaled once, bilinearly, to ``image_size`` and mapped to [-1, 1] to match a tanh
generator; the whole set lives in memory, so loading costs nothing and worker processes would only add overhead.

A seeded 20 % of the digits (:func:`split_digits`, 360 images) is held out as the validation set: the real images
the samples' FID is measured against (:mod:`lightning_gan.evaluation`) and the held-out set of the digits
classifier that defines that FID's feature space (:mod:`lightning_gan.metrics.digits`). Neither G nor that
classifier trains on it.
"""

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from sklearn.datasets import load_digits
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from typing_extensions import override


class _Reals(Dataset):
    def __init__(self, images: Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"real": self.images[index]}


class SampleNames(Dataset):
    """Predict for an unconditional model: one item per image to draw, named ``sample_00000.png`` ..."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> dict[str, str]:
        return {"name": f"sample_{index:05d}.png"}


def split_digits(count: int = 1797, val_fraction: float = 0.2, seed: int = 0) -> tuple[Tensor, Tensor]:
    """(train indices, validation indices) of the ``count`` digits: a permutation seeded with ``seed``, the first
    ``round(val_fraction * count)`` of it held out, both sorted. The same arguments give the same split anywhere."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"Expected `val_fraction` in (0, 1), got {val_fraction!r}.")
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    n_val = round(val_fraction * count)
    return order[n_val:].sort().values, order[:n_val].sort().values


def load_digit_images(image_size: int = 32) -> Tensor:
    """All 1,797 digits as a float tensor N x 1 x image_size x image_size in [-1, 1] (white digit on black)."""
    images = torch.from_numpy(load_digits().images).float().unsqueeze(1) / 16.0
    if image_size != 8:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return images.clamp(0.0, 1.0) * 2.0 - 1.0


class DigitsDataModule(LightningDataModule):
    """Unconditional batches ``{"real": N x 1 x S x S}`` of upscaled handwritten digits.

    Args:
        image_size: side of the upscaled images (a power of two for DCGAN; 32 by default).
        batch_size: images per batch (DCGAN: 128; 64 keeps more steps per epoch on this small set).
        num_predict: how many images ``predict`` draws.
        val_fraction: share of the digits held out for validation (:func:`split_digits`).
        split_seed: seed of the held-out split; keep it fixed to compare runs (and the shipped classifier was
            trained on the training split of seed 0 and fraction 0.2).
    """

    def __init__(
        self,
        image_size: int = 32,
        batch_size: int = 64,
        num_predict: int = 64,
        val_fraction: float = 0.2,
        split_seed: int = 0,
    ) -> None:
        super().__init__()
        if image_size < 8:
            raise ValueError(f"Expected `image_size` >= 8, got {image_size!r}.")
        self.save_hyperparameters()
        self.image_size = image_size
        self.batch_size = batch_size
        self.num_predict = num_predict
        self.real_channels = 1
        self.train_index, self.val_index = split_digits(val_fraction=val_fraction, seed=split_seed)
        self.images: Tensor | None = None

    @override
    def setup(self, stage: str) -> None:
        if self.images is None:
            self.images = load_digit_images(self.image_size)

    @override
    def train_dataloader(self) -> DataLoader:
        assert self.images is not None
        train = _Reals(self.images[self.train_index])
        return DataLoader(train, batch_size=self.batch_size, shuffle=True, drop_last=True)

    def val_dataloader(self) -> DataLoader:
        assert self.images is not None
        return DataLoader(_Reals(self.images[self.val_index]), batch_size=self.batch_size)

    @override
    def predict_dataloader(self) -> DataLoader:
        return DataLoader(SampleNames(self.num_predict), batch_size=self.batch_size)
