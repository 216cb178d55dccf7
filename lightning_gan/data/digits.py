"""The quickstart's data: scikit-learn's bundled 8 x 8 handwritten digits, upscaled. Nothing is downloaded.

The 1,797 digits (UCI "Optical Recognition of Handwritten Digits", shipped inside scikit-learn) are 8 x 8 images of
intensities 0..16. They are upscaled once, bilinearly, to ``image_size`` and mapped to [-1, 1] to match a tanh
generator; the whole set lives in memory, so loading costs nothing and worker processes would only add overhead.
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
    """

    def __init__(self, image_size: int = 32, batch_size: int = 64, num_predict: int = 64) -> None:
        super().__init__()
        if image_size < 8:
            raise ValueError(f"Expected `image_size` >= 8, got {image_size!r}.")
        self.save_hyperparameters()
        self.image_size = image_size
        self.batch_size = batch_size
        self.num_predict = num_predict
        self.real_channels = 1
        self.images: Tensor | None = None

    @override
    def setup(self, stage: str) -> None:
        if self.images is None:
            self.images = load_digit_images(self.image_size)

    @override
    def train_dataloader(self) -> DataLoader:
        assert self.images is not None
        return DataLoader(_Reals(self.images), batch_size=self.batch_size, shuffle=True, drop_last=True)

    @override
    def predict_dataloader(self) -> DataLoader:
        return DataLoader(SampleNames(self.num_predict), batch_size=self.batch_size)
