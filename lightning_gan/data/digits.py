"""The quickstart's data: scikit-learn's bundled 8 x 8 handwritten digits, upscaled. Nothing is downloaded.

The 1,797 digits (UCI "Optical Recognition of Handwritten Digits", shipped inside scikit-learn) are 8 x 8 images of
intensities 0..16. They are upscaled once, bilinearly, to ``image_size`` and mapped to [-1, 1] to match a tanh
generator; the whole set lives in memory, so loading costs nothing and worker processes would only add overhead.

A seeded 20 % of the digits (:func:`split_digits`, 359 images) is held out as the validation set: the real images
the samples' FID is measured against (:mod:`lightning_gan.metrics.sample_quality`) and the held-out set of the digits
classifier that defines that FID's feature space (:mod:`lightning_gan.metrics.digits`). Neither G nor that
classifier trains on it.

With ``labels=True`` each item also carries its class (the digit, 0-9) for class-conditional models.
"""

from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from sklearn.datasets import load_digits
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from typing_extensions import override

from lightning_gan.data.file_errors import check_full_batch


class _Reals(Dataset):
    def __init__(self, images: Tensor, labels: Tensor | None = None) -> None:
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if self.labels is None:
            return {"real": self.images[index]}
        return {"real": self.images[index], "label": self.labels[index]}


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


class ClassSampleNames(Dataset):
    """Predict for a class-conditional model: ``count`` images per class, item ``{"name", "label"}`` named
    ``class_<k>/sample_<i>.png``, classes in turn."""

    def __init__(self, count: int, num_classes: int) -> None:
        self.count = count
        self.num_classes = num_classes

    def __len__(self) -> int:
        return self.count * self.num_classes

    def __getitem__(self, index: int) -> dict[str, Any]:
        label, i = divmod(index, self.count)
        return {"name": f"class_{label}/sample_{i:05d}.png", "label": torch.tensor(label)}


def load_digit_labels() -> Tensor:
    """The class (0-9) of each of the 1,797 digits, in :func:`load_digit_images`' order, as int64."""
    return torch.from_numpy(load_digits().target).long()


def load_digit_images(image_size: int = 32) -> Tensor:
    """All 1,797 digits as a float tensor N x 1 x image_size x image_size in [-1, 1] (white digit on black)."""
    images = torch.from_numpy(load_digits().images).float().unsqueeze(1) / 16.0
    if image_size != 8:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return images.clamp(0.0, 1.0) * 2.0 - 1.0


class DigitsDataModule(LightningDataModule):
    """Batches ``{"real": N x 1 x S x S}`` of upscaled handwritten digits, plus ``"label"`` (N, int64) on request.

    Args:
        image_size: side of the upscaled images (a power of two for DCGAN; 32 by default).
        batch_size: images per batch (DCGAN: 128; 64 keeps more steps per epoch on this small set).
        num_predict: how many images ``predict`` draws; with ``labels``, how many per class.
        val_fraction: share of the digits held out for validation (:func:`split_digits`).
        split_seed: seed of the held-out split; keep it fixed to compare runs (and the shipped classifier was
            trained on the training split of seed 0 and fraction 0.2).
        labels: also yield each digit's class, for class-conditional models (``num_classes`` is then 10).

    Raises:
        ConfigError: at setup for ``fit``, ``batch_size`` is more than the training digits (1,438 with the default
            split): the last incomplete batch is dropped, so there would be no training batch.
    """

    def __init__(
        self,
        image_size: int = 32,
        batch_size: int = 64,
        num_predict: int = 64,
        val_fraction: float = 0.2,
        split_seed: int = 0,
        labels: bool = False,
    ) -> None:
        super().__init__()
        if image_size < 8:
            raise ValueError(f"Expected `image_size` >= 8, got {image_size!r}.")
        self.save_hyperparameters()
        self.image_size = image_size
        self.batch_size = batch_size
        self.num_predict = num_predict
        self.labels = labels
        self.real_channels = 1
        self.train_index, self.val_index = split_digits(val_fraction=val_fraction, seed=split_seed)
        self.num_classes: int | None = 10 if labels else None
        self.images: Tensor | None = None
        self.targets: Tensor | None = None

    @override
    def setup(self, stage: str) -> None:
        if stage == "fit":
            split = f"the digits' training split (val_fraction={self.hparams['val_fraction']})"
            check_full_batch(self.batch_size, len(self.train_index), "digits", split)
        if self.images is None:
            self.images = load_digit_images(self.image_size)
            self.targets = load_digit_labels() if self.labels else None

    @override
    def train_dataloader(self) -> DataLoader:
        return DataLoader(self._reals(self.train_index), batch_size=self.batch_size, shuffle=True, drop_last=True)

    @override
    def val_dataloader(self) -> DataLoader:
        return DataLoader(self._reals(self.val_index), batch_size=self.batch_size)

    def _reals(self, index: Tensor) -> _Reals:
        assert self.images is not None
        return _Reals(self.images[index], None if self.targets is None else self.targets[index])

    @override
    def predict_dataloader(self) -> DataLoader:
        if self.num_classes is not None:
            return DataLoader(ClassSampleNames(self.num_predict, self.num_classes), batch_size=self.batch_size)
        return DataLoader(SampleNames(self.num_predict), batch_size=self.batch_size)
