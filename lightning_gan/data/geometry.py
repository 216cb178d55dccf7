"""One image geometry from training to prediction: the pix2pix reference's ``--preprocess`` modes as a policy object.

A pix2pix generator learns at one scale: the scale of its training crops relative to the dataset's native images.
:class:`ImageGeometry` says what that scale is (how a native image is resized before the random crop) and is used
twice: by :class:`~lightning_gan.data.paired_images.PairedImageDataModule` to build training crops, and by
:class:`AtTrainingScale`, the whole-input strategy of validation, test and predict, which brings any input to the
same scale, translates it, and brings the output back to the input's own size. So ``validate``/``test`` score
exactly what ``predict`` writes, and an input twice the native size is translated at the same scale as the original.

Modes (reference ``--preprocess`` of junyanz/pytorch-CycleGAN-and-pix2pix, ``data/base_dataset.py`` at 2a7afba), for a
native ``w x h`` image:

=========================  ==========================================================  ==============================
mode                       training                                                    validation / test / predict
=========================  ==========================================================  ==============================
``resize_and_crop``        resize to ``load_size`` (short side; a square image to      resize the same way, pad to the
                           ``load_size`` squared as the reference), random crop        generator's multiple, crop and
                           ``crop_size``                                               resize back to ``w x h``
``crop``                   random crop ``crop_size`` at the native scale               native scale, pad, crop back
``scale_width``            width to ``load_size``, height ``max(load * h / w, crop)``,  resize the same way, pad, crop
                           rounded to multiples of ``size_multiple``                   and resize back
``scale_width_and_crop``   width to ``load_size`` as above, random crop ``crop_size``   as ``scale_width``
``none``                   whole image rounded to multiples of ``size_multiple``        pad to the multiple, crop back
                           (the reference's ``make_power_2`` with base 4 by default)     (no resampling)
=========================  ==========================================================  ==============================

One deviation from the reference, so that non-square images are never silently squashed: ``resize_and_crop`` scales
a non-square image's short side to ``load_size`` and keeps its aspect ratio (the reference resizes it to a square);
for square images, the case of every public pix2pix dataset, both agree.

All resampling is :func:`resize`: bicubic, antialiased when shrinking (as PIL's resize), clamped to [-1, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor

Preprocess = Literal["resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none"]
PREPROCESS_MODES: tuple[str, ...] = get_args(Preprocess)
_CROPPING = ("resize_and_crop", "crop", "scale_width_and_crop")


def resize(x: Tensor, height: int, width: int) -> Tensor:
    """Bicubic resize of a ``C x H x W`` or ``N x C x H x W`` image in [-1, 1] to ``height x width``.

    Antialiased when a side shrinks (bicubic alone aliases, and PIL's resize, which the reference uses, antialiases);
    the overshoot of bicubic is clamped to [-1, 1]. Returns ``x`` itself when it already has that size.
    """
    if tuple(x.shape[-2:]) == (height, width):
        return x
    batched = x if x.ndim == 4 else x.unsqueeze(0)
    shrink = height < x.shape[-2] or width < x.shape[-1]
    out = F.interpolate(batched, size=(height, width), mode="bicubic", align_corners=False, antialias=shrink)
    out = out.clamp(-1.0, 1.0)
    return out if x.ndim == 4 else out[0]


def quantize(x: Tensor) -> Tensor:
    """Round [-1, 1] values to the 8-bit grid the prediction writer stores (``round((x + 1) * 127.5)``)."""
    return ((x.clamp(-1.0, 1.0) + 1.0) * 127.5).round() / 127.5 - 1.0


@dataclass(frozen=True)
class ImageGeometry:
    """How native images are brought to the scale the generator trains at (see the module docstring for the modes).

    Args:
        preprocess: the mode: ``"resize_and_crop"`` (reference default), ``"crop"``, ``"scale_width"``,
            ``"scale_width_and_crop"`` or ``"none"``.
        load_size: the side (``resize_and_crop``) or width (``scale_width*``) of the resize before the crop.
            Reference default 286.
        crop_size: the side of the training crops. Reference default 256.
        size_multiple: training sizes of the non-cropping modes (``scale_width``, ``none``) are rounded to multiples
            of this; it must be a multiple of the generator's (U-Net: ``2**num_downs``). Reference base 4.

    Raises:
        ValueError: an unknown mode or sizes out of range, naming the argument, its value and what was expected.
    """

    preprocess: Preprocess = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    size_multiple: int = 4

    def __post_init__(self) -> None:
        if self.preprocess not in PREPROCESS_MODES:
            raise ValueError(
                f"preprocess={self.preprocess!r} is not a preprocessing mode; expected one of {list(PREPROCESS_MODES)}"
            )
        if self.crop_size < 1 or self.size_multiple < 1:
            raise ValueError(
                f"expected crop_size >= 1 and size_multiple >= 1, got crop_size={self.crop_size}, "
                f"size_multiple={self.size_multiple}"
            )
        if self.preprocess in ("resize_and_crop", "scale_width_and_crop") and self.load_size < self.crop_size:
            raise ValueError(
                f"expected 1 <= crop_size <= load_size for preprocess={self.preprocess!r}, got "
                f"load_size={self.load_size}, crop_size={self.crop_size}"
            )
        if self.load_size < 1:
            raise ValueError(f"expected load_size >= 1, got load_size={self.load_size}")

    @property
    def crops(self) -> bool:
        """Whether training takes random ``crop_size`` crops (else whole scaled images)."""
        return self.preprocess in _CROPPING

    def scaled_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` of a native ``width x height`` image at the training scale (before any crop)."""
        if self.preprocess == "resize_and_crop":
            short = min(width, height)
            return max(1, round(width * self.load_size / short)), max(1, round(height * self.load_size / short))
        if self.preprocess in ("scale_width", "scale_width_and_crop"):
            return self.load_size, max(int(self.load_size * height / width), self.crop_size)
        return width, height

    def _rounded(self, width: int, height: int) -> tuple[int, int]:
        m = self.size_multiple
        return max(m, round(width / m) * m), max(m, round(height / m) * m)

    def training_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` of the training example made from a native image (the crop, or the rounded image)."""
        if self.crops:
            return self.crop_size, self.crop_size
        return self._rounded(*self.scaled_size(width, height))

    def check(self, width: int, height: int, where: str) -> None:
        """Fail early when a native ``width x height`` image (``where``: its file) cannot give a training crop.

        Raises:
            ValueError: the image at the training scale is smaller than ``crop_size``.
        """
        if not self.crops:
            return
        w, h = self.scaled_size(width, height)
        if w < self.crop_size or h < self.crop_size:
            scaled = "" if (w, h) == (width, height) else f", {w}x{h} at the training scale"
            raise ValueError(
                f"{where}: image {width}x{height}{scaled} is smaller than crop_size={self.crop_size} "
                f"(preprocess={self.preprocess!r}); expected at least {self.crop_size}x{self.crop_size}"
            )

    def train_pair(self, a: Tensor, b: Tensor, flip: bool) -> tuple[Tensor, Tensor]:
        """A training example from native ``C x H x W`` tensors ``a`` and ``b``: the same resize, random crop and
        random horizontal flip for both (torch's global RNG, which Lightning seeds per DataLoader worker)."""
        height, width = a.shape[-2:]
        w, h = self.scaled_size(width, height)
        if not self.crops:
            w, h = self._rounded(w, h)
        a, b = resize(a, h, w), resize(b, h, w)
        if self.crops:
            # Origin in 0..size-crop, both ends inclusive, as the reference's random.randint.
            y = int(torch.randint(0, h - self.crop_size + 1, ()))
            x = int(torch.randint(0, w - self.crop_size + 1, ()))
            window = (..., slice(y, y + self.crop_size), slice(x, x + self.crop_size))
            a, b = a[window], b[window]
        if flip and bool(torch.rand(()) < 0.5):
            a, b = a.flip(-1), b.flip(-1)
        return a.contiguous(), b.contiguous()

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for checkpoints and export metadata."""
        return asdict(self)
