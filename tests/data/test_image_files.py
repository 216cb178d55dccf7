"""What an image file may be (issue 25), through the data modules: read upright (EXIF orientation), one frame only,
at most ``max_pixels``, float images finite and in [0, 1]; a file damaged during the run is named in one line, also
from inside a DataLoader worker. Every file is generated here."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightning_gan.data.file_errors import DataFileError, original_message
from lightning_gan.data.image_folder import DEFAULT_MAX_PIXELS, ImageReadError, load_image
from lightning_gan.data.images import ImageFolderDataModule
from lightning_gan.data.paired_images import PairedImageDataModule
from lightning_gan.errors import InputError

SIDE = 16


def _noise(folder: Path, count: int, size: tuple[int, int] = (24, 24), suffix: str = ".png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = [folder / f"{i:03d}{suffix}" for i in range(count)]
    for path in paths:
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return paths


def _folder_dm(root: Path, **kwargs) -> ImageFolderDataModule:
    args = {"image_size": SIDE, "batch_size": 2, "num_workers": 0, "mixed_channels": "convert", **kwargs}
    return ImageFolderDataModule(str(root), **args)


def _one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text, text
    return text


# --- EXIF orientation -----------------------------------------------------------------------------------------------


def _portrait_jpeg(path: Path, width: int, height: int) -> None:
    """A camera-style portrait: pixels stored ``width`` x ``height`` (landscape), EXIF orientation 6 (turn 90 degrees
    clockwise to show). Stored left half black, right half white, so the upright picture is black above white."""
    stored = np.zeros((height, width, 3), dtype=np.uint8)
    stored[:, width // 2 :] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, exif=exif, quality=95)


def test_training_images_are_read_upright(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        _portrait_jpeg(folder / f"{i}.jpg", 2 * SIDE, SIDE)
    dm = _folder_dm(folder)
    dm.setup("fit")
    real = dm.train_dataloader().dataset[0]["real"]  # 3 x 16 x 16 in [-1, 1]
    top, bottom = real[:, : SIDE // 2 - 2].mean(), real[:, SIDE // 2 + 2 :].mean()
    left, right = real[..., : SIDE // 2 - 2].mean(), real[..., SIDE // 2 + 2 :].mean()
    assert top < -0.9 and bottom > 0.9, (top, bottom)  # sideways it would be black left, white right
    assert abs(left - right) < 0.1


def test_paired_sizes_evaluation_and_predict_use_the_upright_image(tmp_path: Path) -> None:
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        _portrait_jpeg(tmp_path / split / "0.jpg", 2 * SIDE, 4 * SIDE)  # upright 64 x 32: an A|B pair of 32 x 32
    (tmp_path / "in").mkdir()
    _portrait_jpeg(tmp_path / "in" / "p.jpg", 24, SIDE)  # upright 16 wide, 24 high
    dm = PairedImageDataModule(
        str(tmp_path), load_size=36, crop_size=32, num_workers=0, pin_memory=False, predict_dir=str(tmp_path / "in")
    )
    dm.setup("fit")  # sideways, 32 x 64 would be refused as not twice as wide as high
    assert dm.val_set is not None and dm.val_set[0]["condition"].shape == (3, 32, 32)
    dm.setup("predict")
    assert dm.predict_set is not None
    assert dm.predict_set[0]["condition"].shape == (3, 24, SIDE)


# --- one frame ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".webp", ".png", ".tif"])
def test_animated_or_multi_page_images_are_refused_with_the_frame_count(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "imgs"
    _noise(folder, 3)
    rng = np.random.default_rng(1)
    frames = [Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(folder / f"anim{suffix}", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(ImageReadError) as caught:
        _folder_dm(folder).setup("fit")  # found from the headers, before training
    assert _one_line(caught.value).startswith(f"image {folder / f'anim{suffix}'} has 3 frames (an animated or multi")
    assert "expected a single picture" in str(caught.value)
    # in a predict folder too, listed with the other bad inputs
    for name in ("train", "val"):
        _noise(tmp_path / "pairs" / name, 1, size=(32, SIDE))
    dm = PairedImageDataModule(str(tmp_path / "pairs"), load_size=SIDE, crop_size=SIDE, predict_dir=str(folder))
    with pytest.raises(InputError, match=rf"anim{suffix}: image .* has 3 frames"):
        dm.setup("predict")


# --- pixel limit ----------------------------------------------------------------------------------------------------


def _png_claiming(path: Path, width: int, height: int) -> None:
    """A small PNG whose header says ``width`` x ``height``: what PIL reads before decoding (no memory is used)."""
    Image.new("RGB", (4, 4)).save(path)
    raw = bytearray(path.read_bytes())
    header = bytearray(raw[12:29])  # the IHDR chunk's type and data
    header[4:12] = struct.pack(">II", width, height)
    raw[12:29] = header
    raw[29:33] = struct.pack(">I", zlib.crc32(bytes(header)))
    path.write_bytes(bytes(raw))


def test_an_image_above_max_pixels_is_refused_from_its_header(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    _noise(folder, 3)
    _png_claiming(folder / "huge.png", 12000, 12000)
    with pytest.raises(ImageReadError) as caught:
        _folder_dm(folder).setup("fit")
    assert _one_line(caught.value) == (
        f"image {folder / 'huge.png'} is 12000 x 12000 = 144.0 megapixels, more than max_pixels={DEFAULT_MAX_PIXELS} "
        "(67.1 megapixels); decoding it would take 0.43 GB per copy. Downscale the file, or raise the data module's "
        "max_pixels (--data.init_args.max_pixels)"
    )
    (folder / "huge.png").unlink()
    with pytest.raises(ImageReadError, match=r"000.png is 24 x 24 = 0.0 megapixels, more than max_pixels=500 "):
        _folder_dm(folder, max_pixels=500).setup("fit")
    _folder_dm(folder, max_pixels=None).setup("fit")
    with pytest.raises(ValueError, match="max_pixels must be a positive number of pixels or null"):
        _folder_dm(folder, max_pixels=0)


def test_the_pixel_limit_applies_when_decoding_too(tmp_path: Path) -> None:
    (path,) = _noise(tmp_path, 1)
    with pytest.raises(ImageReadError, match="more than max_pixels=500"):
        load_image(path, 3, max_pixels=500)  # a file replaced by a larger one after setup, or a predict input
    assert load_image(path, 3, max_pixels=576).size == (24, 24)


# --- float images ---------------------------------------------------------------------------------------------------


def _float_tiffs(folder: Path, arrays: list[np.ndarray]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i}.tif" for i in range(len(arrays))]
    for path, array in zip(paths, arrays, strict=True):
        Image.fromarray(array.astype(np.float32), mode="F").save(path)
    return paths


def test_float_images_must_be_finite_and_in_0_1(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    grey = rng.random((SIDE, SIDE))  # at the training size: no resize, so the values can be compared exactly
    grey[0, 0], grey[0, 1] = 0.0, 1.0
    with_nan = grey.copy()
    with_nan[3, 5], with_nan[7, 2] = np.nan, np.inf
    paths = _float_tiffs(tmp_path / "f", [grey, grey * 255, with_nan])
    dm = _folder_dm(tmp_path / "f", channels=1)
    dm.setup("fit")  # headers only: the values are checked when the pixels are decoded
    dataset = dm.train_dataloader().dataset
    assert dataset.files == paths
    expected = np.round(grey.astype(np.float32).astype(np.float64) * 255) / 127.5 - 1  # 0 -> -1, 1 -> 1
    np.testing.assert_allclose(dataset[0]["real"][0].numpy(), expected, atol=1e-6)
    with pytest.raises(ImageReadError) as caught:
        dataset[1]
    assert _one_line(caught.value) == (
        f"{paths[1]}: float image with values from 0 to 255; float images are read as 0 (black) to 1 (white), so "
        f"{(grey * 255 > 1 + 0.5 / 255).mean():.1%} of its pixels would be clipped. Rescale it to [0, 1] (a 0-255 "
        "image: divide it by 255), or save it as an 8- or 16-bit image"
    )
    with pytest.raises(ImageReadError) as caught:
        dataset[2]
    assert _one_line(caught.value) == (
        f"{paths[2]}: float image with 2 NaN or infinite pixels (the first at x=5, y=3); expected finite values in "
        "[0, 1]. Fix the file or remove it from the folder"
    )


def test_float_values_within_half_an_8bit_step_of_0_1_are_accepted(tmp_path: Path) -> None:
    (path,) = _float_tiffs(tmp_path, [np.array([[-0.4 / 255, 0.5], [1.0 + 0.4 / 255, 1.0]])])
    assert np.asarray(load_image(path, 1)).tolist() == [[0, 128], [255, 255]]


# --- a file damaged during the run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_file_damaged_after_setup_is_named_in_one_line_from_a_worker(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "imgs"
    paths = _noise(folder, 4)
    dm = _folder_dm(folder, num_workers=1, batch_size=4)
    dm.setup("fit")
    bad = paths[2]
    if damage == "deleted":
        bad.unlink()
    else:
        bad.write_bytes(bad.read_bytes()[:120])  # the header survives, the pixels do not
    with pytest.raises(InputError) as caught:
        next(iter(dm.train_dataloader()))
    assert isinstance(caught.value, RuntimeError)  # still what it was before it became an input error
    message = _one_line(caught.value)
    assert message.startswith(f"cannot read image {bad}: ")
    assert message.endswith("Replace the file with a readable image or remove it from the folder")


def test_original_message_keeps_only_the_workers_message() -> None:
    wrapped = (
        "Caught ImageReadError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n    raise OSError("disk")\nOSError: disk\n\nThe above exception was the '
        "direct cause of the following exception:\n\nTraceback (most recent call last):\n"
        "lightning_gan.data.image_folder.ImageReadError: cannot read image a.png: disk\nsecond line\n"
    )
    assert original_message(ImageReadError, wrapped) == "cannot read image a.png: disk\nsecond line"
    assert original_message(ImageReadError, "plain message") == "plain message"
    assert str(DataFileError(wrapped.replace("image_folder.ImageReadError", "file_errors.DataFileError"))) == (
        "cannot read image a.png: disk\nsecond line"
    )


def test_a_pair_replaced_by_a_smaller_one_after_setup_is_named(tmp_path: Path) -> None:
    for split in ("train", "val"):
        _noise(tmp_path / split, 1, size=(2 * 24, 24))
    dm = PairedImageDataModule(str(tmp_path), preprocess="crop", crop_size=SIDE, num_workers=0, pin_memory=False)
    dm.setup("fit")
    bad = tmp_path / "train" / "000.png"
    Image.new("RGB", (2 * 8, 8)).save(bad)  # smaller than the crop: the random crop would fail with a torch error
    assert dm.train_set is not None
    with pytest.raises(DataFileError) as caught:
        dm.train_set[0]
    assert _one_line(caught.value) == (
        f"{bad}: image 8x8 is smaller than crop_size={SIDE} (preprocess='crop'); expected at least {SIDE}x{SIDE} "
        "(it was not when the run started: restore the file)"
    )
