"""Paired images for pix2pix: a LightningDataModule over ``root/{train,val,test}``.

Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017,
https://arxiv.org/abs/1611.07004. The defaults and the transform follow the authors' PyTorch code
(junyanz/pytorch-CycleGAN-and-pix2pix, ``data/aligned_dataset.py`` and ``data/base_dataset.py``; see
``docs/references.md``, "pix2pix: defaults and schedule").

Each split folder is in one of two layouts, detected per split:

* **aligned**: image files directly in the folder, each one picture with A on the left half and B on the right half
  (width = 2 x height), as the public facades/maps/edges2shoes/cityscapes archives ship.
* **split**: subfolders ``A/`` and ``B/`` holding files with identical names.

Every file is checked at :meth:`PairedImageDataModule.setup` from its header only (cheap), so a wrong size, a file
that is not an image, an animated or multi-page file or one above ``max_pixels`` stops the run before training
starts; a file whose pixels are corrupt (or that is deleted or damaged during the run) stops it when it is decoded,
with its path in a one-line message (:class:`~lightning_gan.data.image_folder.ImageReadError`), also from inside a
DataLoader worker. Images are read upright (their EXIF orientation applied), in training, evaluation and prediction
alike, and the sizes checked are the upright ones (:mod:`lightning_gan.data.image_folder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch import LightningDataModule
from lightning.pytorch.utilities import rank_zero_info
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from typing_extensions import override

from lightning_gan.data.file_errors import DataFileError
from lightning_gan.data.geometry import ImageGeometry, Preprocess
from lightning_gan.data.image_folder import (
    DEFAULT_MAX_PIXELS,
    check_max_pixels,
    image_channels,
    image_size,
    list_images,
    load_image,
    pil_to_tensor,
)
from lightning_gan.data.predict_folder import ScanResult, scan_images
from lightning_gan.errors import InputError

Direction = Literal["AtoB", "BtoA"]

_SHOW = 5  # how many offending files an error message lists


@dataclass(frozen=True)
class PairFiles:
    """One training pair on disk.

    Attributes:
        name: the file name, relative to its folder (e.g. ``"12.jpg"``); the batch's ``"name"``.
        a: the aligned A|B file, or the A file in the split layout.
        b: the B file in the split layout; ``None`` in the aligned layout.
    """

    name: str
    a: Path
    b: Path | None = None


def _examples(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown + (f", ... ({len(items)} in all)" if len(items) > _SHOW else "")


def scan_split(
    folder: Path,
    geometry: ImageGeometry | None = None,
    training: bool = True,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> list[PairFiles]:
    """List and check the pairs of one split folder, detecting its layout.

    The folder is in the split layout when it has both ``A/`` and ``B/`` subfolders, otherwise in the aligned layout.
    With a ``geometry``, aligned images for ``resize_and_crop`` must have square halves (the reference resizes each
    half to a square; the other modes take any even width), and with ``training`` every image must give a training
    crop (:meth:`ImageGeometry.check`); evaluation takes images of any size. Sizes are upright sizes (EXIF orientation
    applied); every file must be one picture of at most ``max_pixels`` pixels.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: the folder has no images; it has only one of ``A/`` and ``B/``; it mixes both layouts; ``A/`` and
            ``B/`` hold different file names or sizes; an aligned file's width is odd, or not twice its height for
            ``resize_and_crop``; an image is smaller than the crop.
        ImageReadError: a file's header cannot be read (not an image, or empty); a file has several frames or more
            than ``max_pixels`` pixels.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"split folder not found: {folder}")
    dir_a, dir_b = folder / "A", folder / "B"
    loose = list_images(folder)
    if dir_a.is_dir() or dir_b.is_dir():
        if not (dir_a.is_dir() and dir_b.is_dir()):
            have, missing = (dir_a, dir_b) if dir_a.is_dir() else (dir_b, dir_a)
            raise ValueError(f"{folder} has {have.name}/ but no {missing.name}/: the split layout needs both A/ and B/")
        if loose:
            raise ValueError(
                f"{folder} mixes layouts: it has A/ and B/ subfolders and also images directly inside "
                f"({_examples([p.name for p in loose])}); keep one layout per split folder"
            )
        return _scan_split_layout(dir_a, dir_b, geometry if training else None, max_pixels)
    return _scan_aligned_layout(folder, loose, geometry, training, max_pixels)


def _no_images(folder: Path) -> ValueError:
    return ValueError(
        f"no images in {folder} (expected .png/.jpg/.jpeg/.bmp/.tif/.tiff/.webp files, either aligned A|B images "
        "directly in the folder or A/ and B/ subfolders with identical file names)"
    )


def _scan_aligned_layout(
    folder: Path, files: list[Path], geometry: ImageGeometry | None, training: bool, max_pixels: int | None
) -> list[PairFiles]:
    if not files:
        raise _no_images(folder)
    square = geometry is None or geometry.preprocess == "resize_and_crop"
    bad = []
    for path in files:
        width, height = image_size(path, max_pixels)
        if (square and width != 2 * height) or width % 2:
            bad.append(f"{path} ({width}x{height})")
        elif geometry is not None and training:
            geometry.check(width // 2, height, str(path))
    if bad:
        need = "twice as wide as they are high" if square else "of even width"
        mode = f" for preprocess={geometry.preprocess!r}" if geometry is not None else ""
        other = " (other modes take non-square halves)" if square else ""
        raise ValueError(
            f"aligned A|B images must be {need}{mode}{other} (A on the left half, B on the right); "
            f"wrong size: {_examples(bad)}"
        )
    return [PairFiles(name=p.name, a=p) for p in files]


def _scan_split_layout(
    dir_a: Path, dir_b: Path, geometry: ImageGeometry | None, max_pixels: int | None
) -> list[PairFiles]:
    files_a = {p.name: p for p in list_images(dir_a)}
    files_b = {p.name: p for p in list_images(dir_b)}
    if not files_a and not files_b:
        raise _no_images(dir_a.parent)
    only_a = sorted(files_a.keys() - files_b.keys())
    only_b = sorted(files_b.keys() - files_a.keys())
    if only_a or only_b:
        raise ValueError(
            f"{dir_a} and {dir_b} must hold the same file names; "
            f"only in A/: [{_examples(only_a)}]; only in B/: [{_examples(only_b)}]"
        )
    for name in sorted(files_a):  # header checks: fail now, not in epoch 3
        size_a, size_b = image_size(files_a[name], max_pixels), image_size(files_b[name], max_pixels)
        if size_a != size_b:
            raise ValueError(
                f"{files_a[name]} is {size_a[0]}x{size_a[1]} but {files_b[name]} is {size_b[0]}x{size_b[1]}; "
                "expected A and B of the same size"
            )
        if geometry is not None:
            geometry.check(*size_a, str(files_a[name]))
    return [PairFiles(name=name, a=files_a[name], b=files_b[name]) for name in sorted(files_a)]


class PairedImageDataset(Dataset):
    """Pairs as ``{"condition": C x H x W, "real": C x H x W, "name": str}`` tensors in ``[-1, 1]``.

    Training items are made by :meth:`ImageGeometry.train_pair` (the same resize, random crop and flip for A and B);
    evaluation items (``train=False``) are the native images, which the model's
    :class:`~lightning_gan.whole_input.geometry.AtTrainingScale` brings to the training scale and back, so metrics
    compare
    outputs and targets at the native size.

    Args:
        pairs: the files, from :func:`scan_split`.
        geometry: the training geometry.
        train: random training examples, or native images for evaluation.
        flip: random horizontal flips in training.
        direction: ``"AtoB"`` makes A the condition and B the real image; ``"BtoA"`` swaps them.
        channels_a: channels of A after loading (1 grayscale, 3 RGB).
        channels_b: channels of B after loading.
        max_pixels: the largest image read (:func:`~lightning_gan.data.image_folder.load_image`); ``None``: no limit.

    Raises:
        ImageReadError: from ``__getitem__``, a file that cannot be decoded or used (named).
        DataFileError: from ``__getitem__``, A and B of different sizes (both named), or a training image smaller
            than the crop (a file replaced since setup checked it).
    """

    def __init__(
        self,
        pairs: list[PairFiles],
        geometry: ImageGeometry,
        train: bool,
        flip: bool,
        direction: Direction,
        channels_a: int,
        channels_b: int,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.pairs, self.geometry, self.train, self.flip, self.direction = pairs, geometry, train, flip, direction
        self.channels_a, self.channels_b = channels_a, channels_b
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self, pair: PairFiles) -> tuple[Image.Image, Image.Image]:
        if pair.b is not None:
            return (
                load_image(pair.a, self.channels_a, self.max_pixels),
                load_image(pair.b, self.channels_b, self.max_pixels),
            )
        both = load_image(pair.a, max(self.channels_a, self.channels_b), self.max_pixels)
        half = both.width // 2
        a = both.crop((0, 0, half, both.height))
        b = both.crop((half, 0, both.width, both.height))
        return a.convert("L" if self.channels_a == 1 else "RGB"), b.convert("L" if self.channels_b == 1 else "RGB")

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str]:
        pair = self.pairs[index]
        a, b = (pil_to_tensor(image) for image in self._load(pair))
        if a.shape[-2:] != b.shape[-2:]:
            raise DataFileError(
                f"{pair.a} and {pair.b}: A is {a.shape[-1]}x{a.shape[-2]} but B is {b.shape[-1]}x{b.shape[-2]}; "
                "expected A and B of the same size (they were when the run started: restore the files)"
            )
        if self.train:
            try:  # checked at setup; a file replaced by a smaller one since then would fail inside the crop
                self.geometry.check(a.shape[-1], a.shape[-2], str(pair.a))
            except ValueError as err:
                raise DataFileError(f"{err} (it was not when the run started: restore the file)") from err
            a, b = self.geometry.train_pair(a, b, self.flip)
        condition, real = (a, b) if self.direction == "AtoB" else (b, a)
        return {"condition": condition, "real": real, "name": pair.name}


class ConditionImageDataset(Dataset):
    """Single images for prediction, as ``{"condition": C x H x W, "name": str}`` in ``[-1, 1]`` at original size.

    Args:
        files: the image files.
        channels: channels of the generator's input (1 grayscale, 3 RGB).
        max_pixels: the largest image read; ``None``: no limit.
    """

    def __init__(self, files: list[Path], channels: int, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> None:
        self.files, self.channels, self.max_pixels = files, channels, max_pixels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor | str]:
        path = self.files[index]
        return {"condition": pil_to_tensor(load_image(path, self.channels, self.max_pixels)), "name": path.name}


def check_predict_channels(files: list[Path], channels: int, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> None:
    """Stop before predicting when an input's channel count differs from the generator's input channels.

    A grayscale file for an RGB model (or the reverse) is a different kind of input than the model trained on, so it
    is refused rather than converted; alpha channels do not count (they are composited over white on load).

    Raises:
        ValueError: naming the files, their channel counts and the expected count.
    """
    bad = [
        f"{p} ({n} channel{'s' if n > 1 else ''})" for p in files if (n := image_channels(p, max_pixels)) != channels
    ]
    if bad:
        kind = {1: "grayscale", 3: "RGB"}[channels]
        raise ValueError(
            f"predict inputs must have the checkpoint's {channels} condition channel{'s' if channels > 1 else ''} "
            f"({kind}); got {_examples(bad)}. Convert them first, e.g. with PIL's Image.convert("
            f"{'L' if channels == 1 else 'RGB'!r})"
        )


class PairedImageDataModule(LightningDataModule):
    """Paired image-to-image data (pix2pix) from ``root/train``, ``root/val``, ``root/test``.

    Batches are ``{"condition": N x C x H x W, "real": N x C x H x W, "name": list[str]}`` in ``[-1, 1]``;
    prediction batches are ``{"condition": 1 x C x H x W, "name": [file name]}`` at each image's original size.
    Training batches are at the training geometry (:attr:`geometry`); validation and test batches hold the native
    images, so an ``eval_batch_size`` above 1 needs images of one size.

    ``train/`` is needed to fit. Validation reads ``val/``, or ``test/`` when there is no ``val/`` (the public
    facades archive has both, edges2shoes has no ``test/``); testing reads ``test/``, or ``val/`` when there is no
    ``test/``. Each split folder is aligned (A|B files) or split (``A/`` and ``B/``), see :func:`scan_split`.

    Args:
        root: dataset folder holding ``train/`` and ``val/`` and/or ``test/``.
        direction: ``"AtoB"``: A is the condition and B the target; ``"BtoA"`` swaps them (the facades examples of
            the reference use BtoA, labels from photos' right half). Reference default AtoB.
        preprocess: how native images are brought to the training scale, the reference's ``--preprocess``:
            ``"resize_and_crop"`` (default), ``"crop"``, ``"scale_width"``, ``"scale_width_and_crop"``, ``"none"``
            (:mod:`lightning_gan.whole_input.geometry`). Validation, test and predict use the same geometry through the
            model's :class:`~lightning_gan.whole_input.geometry.AtTrainingScale`.
        load_size: side (``resize_and_crop``) or width (``scale_width*``) of the training resize before the random
            crop. Reference default 286.
        crop_size: side of the training crop. Reference default 256 (unet_256).
        flip: random horizontal flip in training, shared by A and B. Reference default on.
        size_multiple: the non-cropping modes (``scale_width``, ``none``) round training images to multiples of
            this; set it to the generator's multiple (U-Net: ``2**num_downs``). Reference base 4.
        channels_a: channels of A after loading: 1 (grayscale) or 3 (RGB). Reference default 3.
        channels_b: channels of B after loading. Reference default 3.
        batch_size: training batch size. Reference default 1 (with batch norm this equals instance norm).
        eval_batch_size: validation/test batch size. Reference test batch 1.
        num_workers: DataLoader worker processes. Reference default 4 (``num_threads``).
        pin_memory: page-locked host memory for faster copies to the GPU; used only when CUDA is available.
        predict_dir: folder of single condition images for ``predict`` (any size); every image is checked before
            anything is written (:mod:`lightning_gan.data.predict_folder`).
        skip_bad_inputs: skip the predict folder's bad images with a warning each instead of failing
            (``predict --skip_bad_inputs true`` sets it).
        max_pixels: the largest image read, in pixels (default 8192 x 8192), in every split and in ``predict_dir``;
            a larger file is refused, named, before it is decoded (:mod:`lightning_gan.data.image_folder`).
            ``null``: no limit.

    Raises:
        ValueError: an argument is out of range (at construction); bad data (at :meth:`setup`).
        FileNotFoundError: ``root``, ``root/train``, the validation/test folder or ``predict_dir`` is missing (at
            :meth:`setup`).
    """

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
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        self.geometry = ImageGeometry(preprocess, load_size, crop_size, size_multiple)
        for arg, value in (("channels_a", channels_a), ("channels_b", channels_b)):
            if value not in (1, 3):
                raise ValueError(f"{arg} must be 1 (grayscale) or 3 (RGB), got {value}")
        for arg, value in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
            if value < 1:
                raise ValueError(f"{arg} must be >= 1, got {value}")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        self.root = Path(root)
        self.direction: Direction = direction
        self.load_size, self.crop_size, self.flip = load_size, crop_size, flip
        self.channels_a, self.channels_b = channels_a, channels_b
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.predict_dir = Path(predict_dir) if predict_dir else None
        self.skip_bad_inputs = skip_bad_inputs
        self.max_pixels = check_max_pixels(max_pixels)
        self.predict_scan: ScanResult | None = None
        self.train_set: PairedImageDataset | None = None
        self.val_set: PairedImageDataset | None = None
        self.test_set: PairedImageDataset | None = None
        self.predict_set: ConditionImageDataset | None = None

    @property
    def condition_channels(self) -> int:
        """Channels of the generator's input (A for AtoB, B for BtoA)."""
        return self.channels_a if self.direction == "AtoB" else self.channels_b

    @property
    def real_channels(self) -> int:
        """Channels of the target, i.e. of the generator's output (B for AtoB, A for BtoA)."""
        return self.channels_b if self.direction == "AtoB" else self.channels_a

    def _root(self) -> Path:
        if not self.root.is_dir():
            raise FileNotFoundError(f"dataset root not found: {self.root} (expected a folder with train/, val/, test/)")
        return self.root

    def _eval_folder(self, first: str, fallback: str) -> Path:
        root = self._root()
        for name in (first, fallback):
            if (root / name).is_dir():
                if name != first:
                    rank_zero_info(f"no {first}/ in {root}: using {name}/ instead")
                return root / name
        raise FileNotFoundError(f"neither {root / first} nor {root / fallback} exists: {first} needs one of them")

    def _dataset(self, folder: Path, train: bool) -> PairedImageDataset:
        pairs = scan_split(folder, self.geometry, training=train, max_pixels=self.max_pixels)
        return PairedImageDataset(
            pairs, self.geometry, train, self.flip, self.direction, self.channels_a, self.channels_b, self.max_pixels
        )

    @override
    def setup(self, stage: str | None = None) -> None:
        """Scan and check the folders the stage needs ("fit", "validate", "test", "predict"; None: all but predict)."""
        if stage in (None, "fit"):
            train = self._root() / "train"
            if not train.is_dir() and (self.root / "trainA").is_dir():
                raise InputError(
                    f"{self.root} has the unpaired layout (trainA/, trainB/) of "
                    "lightning_gan.data.UnpairedImageDataModule, not the paired one; expected train/ with aligned A|B "
                    "images or A/ and B/ subfolders (or use UnpairedImageDataModule with CycleConsistency)"
                )
            if not train.is_dir():
                raise FileNotFoundError(
                    f"training split not found: {train} (expected aligned A|B images or A/ and B/ subfolders there)"
                )
            self.train_set = self._dataset(train, train=True)
        if stage in (None, "fit", "validate"):
            self.val_set = self._dataset(self._eval_folder("val", "test"), train=False)
        if stage in (None, "test"):
            self.test_set = self._dataset(self._eval_folder("test", "val"), train=False)
        if stage == "predict":
            if self.predict_dir is None:
                raise ValueError("predict_dir is not set: give the folder of condition images to translate")
            self.predict_scan = scan_images(self.predict_dir, self.skip_bad_inputs, self.max_pixels)
            check_predict_channels(self.predict_scan.files, self.condition_channels, self.max_pixels)
            self.predict_set = ConditionImageDataset(self.predict_scan.files, self.condition_channels, self.max_pixels)

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
        """Validation batches of ``eval_batch_size``, in file-name order."""
        return self._loader(self.val_set, "validate", self.eval_batch_size, shuffle=False)

    @override
    def test_dataloader(self) -> DataLoader:
        """Test batches of ``eval_batch_size``, in file-name order."""
        return self._loader(self.test_set, "test", self.eval_batch_size, shuffle=False)

    @override
    def predict_dataloader(self) -> DataLoader:
        """One image per batch, at its original size, in file-name order."""
        return self._loader(self.predict_set, "predict", 1, shuffle=False)
