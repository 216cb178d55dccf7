"""Image files <-> tensors in [-1, 1]: the helpers every image DataModule and the prediction writer share.

Images live on disk as 8-bit files and in the networks as float32 ``C x H x W`` tensors in ``[-1, 1]``, the range of
the generators' final Tanh. The mapping is ``x / 127.5 - 1``, which is what torchvision's ``ToTensor()`` followed by
``Normalize(0.5, 0.5)`` computes in the pix2pix reference (``data/base_dataset.py``); we write it with numpy because
torchvision is not a dependency.

Decoding errors are re-raised as :class:`ImageReadError` with the file's path in the message, so a corrupt file
stops a run with its name, also when it is decoded inside a DataLoader worker (the worker re-raises the exception
type with its message in the main process).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
"""File name suffixes (compared in lower case) that count as images."""

_MODES: dict[int, str] = {1: "L", 3: "RGB"}


class ImageReadError(RuntimeError):
    """An image file could not be opened or decoded; the message names the file."""


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has an image suffix (png, jpg, jpeg, bmp, tif, tiff, webp; any case)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """The image files directly inside ``folder`` (not recursive), sorted by file name.

    Sorting by name gives every run, rank and layout the same order, as the reference's ``sorted(make_dataset(...))``.

    Raises:
        FileNotFoundError: ``folder`` does not exist or is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder} (expected a directory of image files)")
    return sorted((p for p in folder.iterdir() if p.is_file() and is_image_file(p)), key=lambda p: p.name)


def _check_channels(channels: int) -> str:
    if channels not in _MODES:
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    return _MODES[channels]


_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})


def mode_channels(mode: str) -> int:
    """Colour channels of a PIL mode: 1 for the grayscale modes (with or without alpha, 8 or 16 bit), else 3."""
    return 1 if mode in _GRAY_MODES else 3


def image_channels(path: Path) -> int:
    """Colour channels of an image file from its header: 1 for grayscale modes (with or without alpha, 8 or 16 bit),
    3 otherwise (RGB, RGBA, palette, CMYK, ...). Alpha does not count.

    Raises:
        ImageReadError: the file cannot be opened; the message names ``path``.
    """
    try:
        with Image.open(path) as img:
            return mode_channels(img.mode)
    except Exception as err:
        raise ImageReadError(f"cannot read image {path}: {err}") from err


def to_8bit(img: Image.Image) -> Image.Image:
    """The documented conversion of any PIL image to 8 bits per channel, before the channel conversion.

    * 16-bit grayscale (modes ``I;16*`` and ``I``, as PIL opens 16-bit PNGs): values 0..65535 are scaled to 0..255
      (``round(v / 257)``), not clipped at 255 as ``Image.convert("L")`` would (which turns most of a 16-bit image
      white). 16-bit RGB(A) PNGs are already reduced to 8 bits by PIL.
    * Float images (mode ``F``) are taken as 0..1 and scaled to 0..255.
    * Transparency (RGBA, LA, palette with alpha) is composited over white: a transparent pixel reads as white paper,
      whatever colour it stores (edge maps with transparent backgrounds then read as black lines on white).
    """
    if img.mode.startswith("I"):
        array = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(np.round(array / 257.0), 0, 255).astype(np.uint8), mode="L")
    if img.mode == "F":
        array = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8), mode="L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        base = img.convert("RGBA")
        white = Image.new("RGBA", base.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, base)
        return flat.convert("L" if img.mode in ("LA", "La") else "RGB")
    return img


def load_image(path: Path, channels: int) -> Image.Image:
    """Decode an image file fully and convert it to ``channels`` channels (1 -> mode "L", 3 -> mode "RGB").

    16-bit, float and transparent images are first brought to 8 bits as :func:`to_8bit` documents. Grayscale
    conversion is PIL's ITU-R 601-2 luma, the same as torchvision's ``Grayscale(1)`` used by the reference.

    Raises:
        ValueError: ``channels`` is neither 1 nor 3.
        ImageReadError: the file is missing, not an image, or truncated/corrupt; the message names ``path``.
    """
    mode = _check_channels(channels)
    try:
        with Image.open(path) as img:
            img.load()
            return to_8bit(img).convert(mode)
    except Exception as err:
        raise ImageReadError(f"cannot read image {path}: {err}") from err


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of an image file, read from its header only (PIL opens lazily), so it is cheap.

    Raises:
        ImageReadError: the file is missing or its header is not a known image format; the message names ``path``.
    """
    try:
        with Image.open(path) as img:
            return img.size
    except Exception as err:
        raise ImageReadError(f"cannot read image {path}: {err}") from err


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """An 8-bit "L" or "RGB" image as a float32 ``C x H x W`` tensor in ``[-1, 1]`` (``x / 127.5 - 1``).

    Raises:
        ValueError: the image mode is not "L" or "RGB" (convert it first, e.g. with :func:`load_image`).
    """
    if img.mode not in ("L", "RGB"):
        raise ValueError(f"expected an image in mode 'L' or 'RGB', got mode {img.mode!r}; convert it first")
    array = np.asarray(img, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    return tensor / 127.5 - 1.0


def tensor_to_pil(t: torch.Tensor) -> Image.Image:
    """A ``C x H x W`` (C = 1 or 3) or ``H x W`` tensor in ``[-1, 1]`` as an 8-bit image; values outside are clamped.

    Raises:
        ValueError: the shape is not ``H x W``, ``1 x H x W`` or ``3 x H x W``.
    """
    t = t.detach().to("cpu", torch.float32)
    if t.ndim == 2:
        t = t.unsqueeze(0)
    if t.ndim != 3 or t.shape[0] not in _MODES:
        raise ValueError(f"expected a tensor of shape HxW, 1xHxW or 3xHxW, got {tuple(t.shape)}")
    array = ((t.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def save_image(t: torch.Tensor, path: Path) -> None:
    """Write a tensor in ``[-1, 1]`` (see :func:`tensor_to_pil`) to ``path``; the suffix picks the format.

    Parent folders are created. JPEG files are written at quality 95 to keep the artefacts below what the metrics see.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = tensor_to_pil(t)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        img.save(path, quality=95)
    else:
        img.save(path)
