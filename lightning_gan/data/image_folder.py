"""Image files <-> tensors in [-1, 1]: the helpers every image DataModule and the prediction writer share.

Images live on disk as 8-bit files and in the networks as float32 ``C x H x W`` tensors in ``[-1, 1]``, the range of
the generators' final Tanh. The mapping is ``x / 127.5 - 1``, which is what torchvision's ``ToTensor()`` followed by
``Normalize(0.5, 0.5)`` computes in the pix2pix reference (``data/base_dataset.py``); we write it with numpy because
torchvision is not a dependency.

Every image is read the same way, for training, evaluation and prediction (:func:`decode_image`):

* **Upright.** The EXIF orientation that cameras and phones record instead of rotating the pixels is applied
  (:func:`PIL.ImageOps.exif_transpose`), so a portrait photograph is read as the portrait every viewer shows, not
  turned on its side; the sizes checked at setup (:func:`read_header`) are the upright sizes too.
* **One picture.** A file of several frames (an animated WebP or PNG, a multi-page TIFF) is refused with its frame
  count: which frame was meant is not ours to guess. A camera's MPO JPEG is the exception, as its first frame is by
  definition the primary picture (the others are previews or the second view of a stereo pair).
* **Of a bounded size.** The width and height are read from the header (PIL opens files lazily) and an image of more
  than ``max_pixels`` pixels (:data:`DEFAULT_MAX_PIXELS`, 8192 x 8192) is refused before it is decoded: a 12000 x
  12000 photograph takes 432 MB per copy as 8-bit RGB and several copies while it is resized, in each DataLoader
  worker, which ran the machine out of memory rather than stopping with a message.
* **Float images in [0, 1].** 32-bit float images (PIL mode ``F``, e.g. float TIFFs) are taken as 0 (black) to 1
  (white). One with a NaN or infinite pixel is refused, as is one with values outside [0, 1] (more than half an
  8-bit step outside, which would not round to 0 or 255): a 0-255 float image would otherwise be clipped to almost
  all white. The message gives the observed range; rescale the file or save it as an 8- or 16-bit image.

Every problem with a file is an :class:`ImageReadError` naming it, a one-line message on the command line also when
the file is decoded inside a DataLoader worker (:mod:`lightning_gan.data.file_errors`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from lightning_gan.data.file_errors import DataFileError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
"""File name suffixes (compared in lower case) that count as images."""

DEFAULT_MAX_PIXELS = 8192 * 8192
"""The largest image read by default, in pixels (8192 x 8192, 67 megapixels): above any training set's images and
the photographs of most cameras, below what exhausts a DataLoader worker's memory (module docstring)."""

_MODES: dict[int, str] = {1: "L", 3: "RGB"}
_ORIENTATION = 0x0112  # the EXIF tag
_SWAPS_SIDES = frozenset({5, 6, 7, 8})  # orientations that turn the picture by 90 degrees
_FLOAT_SLACK = 0.5 / 255  # half an 8-bit step: values this close to [0, 1] round to 0 or 255 anyway


class ImageReadError(DataFileError, RuntimeError):
    """An image file that cannot be used: unreadable, corrupt, of several frames, too large, or with float values
    outside [0, 1]; the message names the file. Also a ``RuntimeError``, as it was before it became an input error."""


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


def check_max_pixels(max_pixels: int | None) -> int | None:
    """``max_pixels`` when it is ``None`` (no limit) or a positive integer.

    Raises:
        ValueError: any other value.
    """
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1):
        raise ValueError(f"max_pixels must be a positive number of pixels or null (no limit), got {max_pixels!r}")
    return max_pixels


def _cannot_read(path: Path, err: BaseException) -> ImageReadError:
    reason = str(err).strip() or type(err).__name__
    return ImageReadError(
        f"cannot read image {path}: {reason}. Replace the file with a readable image or remove it from the folder"
    )


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """``Image.open(path)`` (header only), closed on exit; a failure to open is an :class:`ImageReadError`.

    PIL's DecompressionBombWarning is silenced: the ``max_pixels`` check that follows is the limit that applies.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError as err:  # above 2 x PIL's MAX_IMAGE_PIXELS: PIL will not even open it
        raise ImageReadError(
            f"image {path} is too large to read: {err} Downscale the file or remove it from the folder"
        ) from err
    except Exception as err:
        raise _cannot_read(path, err) from err
    with img:
        yield img


def _check_frames(img: Image.Image, path: Path) -> None:
    frames = int(getattr(img, "n_frames", 1))
    if frames > 1 and img.format != "MPO":
        raise ImageReadError(
            f"image {path} has {frames} frames (an animated or multi-page {img.format} file); expected a single "
            "picture. Save the frame you want as a file of its own, or remove this one from the folder"
        )


def _check_pixels(img: Image.Image, path: Path, max_pixels: int | None) -> None:
    width, height = img.size
    if max_pixels is not None and width * height > max_pixels:
        decoded = width * height * len(img.getbands()) * (4 if img.mode in ("F", "I") else 1)
        raise ImageReadError(
            f"image {path} is {width} x {height} = {width * height / 1e6:.1f} megapixels, more than max_pixels="
            f"{max_pixels} ({max_pixels / 1e6:.1f} megapixels); decoding it would take {decoded / 1e9:.2f} GB per "
            "copy. Downscale the file, or raise the data module's max_pixels (--data.init_args.max_pixels)"
        )


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 = upright) as far as the file read so far tells it."""
    if img.format == "PNG" and "exif" not in img.info:
        return 1  # PIL would decode the whole PNG to look for a late eXIf chunk; after load() it is in info
    try:
        return int(img.getexif().get(_ORIENTATION, 1))
    except Exception:  # an unreadable EXIF block: the pixels are still the picture
        return 1


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says: its upright size (EXIF orientation applied) and its PIL mode."""

    width: int
    height: int
    mode: str

    @property
    def channels(self) -> int:
        """1 for grayscale modes (with or without alpha, 8 or 16 bit), 3 otherwise; alpha does not count."""
        return mode_channels(self.mode)


def read_header(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> ImageHeader:
    """Check an image file from its header only (cheap: the pixels are not decoded) and return its upright size.

    Raises:
        ImageReadError: the file is missing or not an image; it has several frames; it has more than ``max_pixels``
            pixels (``None``: no limit). The message names ``path``.
    """
    path = Path(path)
    with _opened(path) as img:
        try:
            _check_frames(img, path)
            _check_pixels(img, path, max_pixels)
            width, height = img.size
            if _orientation(img) in _SWAPS_SIDES:
                width, height = height, width
            return ImageHeader(width, height, img.mode)
        except ImageReadError:
            raise
        except Exception as err:
            raise _cannot_read(path, err) from err


def image_channels(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> int:
    """Colour channels of an image file from its header: 1 for grayscale modes (with or without alpha, 8 or 16 bit),
    3 otherwise (RGB, RGBA, palette, CMYK, ...). Alpha does not count.

    Raises:
        ImageReadError: as :func:`read_header`; the message names ``path``.
    """
    return read_header(path, max_pixels).channels


def image_size(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """``(width, height)`` of an image file as it is shown (EXIF orientation applied), from its header only.

    Raises:
        ImageReadError: as :func:`read_header`; the message names ``path``.
    """
    header = read_header(path, max_pixels)
    return header.width, header.height


def _float_to_8bit(img: Image.Image, name: str) -> Image.Image:
    array = np.asarray(img, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        y, x = np.argwhere(~finite)[0]
        raise ImageReadError(
            f"{name}: float image with {int((~finite).sum())} NaN or infinite pixels (the first at x={x}, y={y}); "
            "expected finite values in [0, 1]. Fix the file or remove it from the folder"
        )
    low, high = float(array.min()), float(array.max())
    if low < -_FLOAT_SLACK or high > 1.0 + _FLOAT_SLACK:
        clipped = float(((array < -_FLOAT_SLACK) | (array > 1.0 + _FLOAT_SLACK)).mean())
        hint = " (a 0-255 image: divide it by 255)" if high <= 255.0 + _FLOAT_SLACK and low >= -_FLOAT_SLACK else ""
        raise ImageReadError(
            f"{name}: float image with values from {low:.6g} to {high:.6g}; float images are read as 0 (black) to 1 "
            f"(white), so {clipped:.1%} of its pixels would be clipped. Rescale it to [0, 1]{hint}, or save it as "
            "an 8- or 16-bit image"
        )
    return Image.fromarray(np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8), mode="L")


def to_8bit(img: Image.Image, name: str = "image") -> Image.Image:
    """The documented conversion of any PIL image to 8 bits per channel, before the channel conversion.

    * 16-bit grayscale (modes ``I;16*`` and ``I``, as PIL opens 16-bit PNGs): values 0..65535 are scaled to 0..255
      (``round(v / 257)``), not clipped at 255 as ``Image.convert("L")`` would (which turns most of a 16-bit image
      white). 16-bit RGB(A) PNGs are already reduced to 8 bits by PIL.
    * Float images (mode ``F``) are taken as 0..1 and scaled to 0..255; they must be finite and within [0, 1] (module
      docstring).
    * Transparency (RGBA, LA, palette with alpha) is composited over white: a transparent pixel reads as white paper,
      whatever colour it stores (edge maps with transparent backgrounds then read as black lines on white).

    Args:
        img: the image.
        name: how messages name it (the file's path).

    Raises:
        ImageReadError: a float image with NaN or infinite pixels, or with values outside [0, 1].
    """
    if img.mode.startswith("I"):
        array = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(np.round(array / 257.0), 0, 255).astype(np.uint8), mode="L")
    if img.mode == "F":
        return _float_to_8bit(img, name)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        base = img.convert("RGBA")
        white = Image.new("RGBA", base.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(white, base)
        return flat.convert("L" if img.mode in ("LA", "La") else "RGB")
    return img


def _decode(path: Path, max_pixels: int | None, mode: str | None) -> Image.Image:
    path = Path(path)
    with _opened(path) as img:
        try:
            _check_frames(img, path)
            _check_pixels(img, path, max_pixels)
            img.load()
            upright = ImageOps.exif_transpose(img) if _orientation(img) != 1 else img
            out = to_8bit(upright, str(path))
            if mode is not None:
                return out.convert(mode)  # a new image, also when the mode is already ``mode``
            return out.copy() if out is img else out  # closing the file releases ``img``'s pixels
        except ImageReadError:
            raise
        except Exception as err:
            raise _cannot_read(path, err) from err


def decode_image(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode an image file fully, upright and at 8 bits per channel (module docstring), in its own colour mode.

    The header checks of :func:`read_header` run before any pixel is decoded.

    Raises:
        ImageReadError: the file is missing, not an image, truncated or corrupt, of several frames, larger than
            ``max_pixels`` (``None``: no limit), or a float image with values that are not finite or outside [0, 1];
            the message names ``path``.
    """
    return _decode(path, max_pixels, None)


def load_image(path: Path, channels: int, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode an image file (:func:`decode_image`) and convert it to ``channels`` channels (1 -> "L", 3 -> "RGB").

    16-bit, float and transparent images are first brought to 8 bits as :func:`to_8bit` documents. Grayscale
    conversion is PIL's ITU-R 601-2 luma, the same as torchvision's ``Grayscale(1)`` used by the reference.

    Raises:
        ValueError: ``channels`` is neither 1 nor 3.
        ImageReadError: as :func:`decode_image`; the message names ``path``.
    """
    return _decode(path, max_pixels, _check_channels(channels))


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
