"""Tests for :mod:`lightning_gan.data.paired_images` and the helpers of :mod:`lightning_gan.data.image_folder`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lightning_gan.data.image_folder import (
    ImageReadError,
    list_images,
    load_image,
    pil_to_tensor,
    save_image,
    tensor_to_pil,
)
from lightning_gan.data.paired_images import PairedImageDataModule

DEMO = Path(__file__).resolve().parents[2] / "data" / "pix2pix_demo"
SIDE = 16


def _rgb(rng: np.random.Generator, height: int = SIDE, width: int = SIDE) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _pairs(seed: int = 0, n: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {f"{i:02d}.png": (_rgb(rng), _rgb(rng)) for i in range(n)}


def _write_aligned(folder: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (a, b) in pairs.items():
        Image.fromarray(np.concatenate([a, b], axis=1)).save(folder / name)


def _write_split(folder: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    for side, index in (("A", 0), ("B", 1)):
        (folder / side).mkdir(parents=True, exist_ok=True)
        for name, pair in pairs.items():
            Image.fromarray(pair[index]).save(folder / side / name)


def _dm(root: Path, **kwargs) -> PairedImageDataModule:
    kwargs = {"load_size": 20, "crop_size": SIDE, "num_workers": 0, "pin_memory": False, **kwargs}
    return PairedImageDataModule(str(root), **kwargs)


def _to_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1).float() / 127.5 - 1.0


def _epoch(loader) -> list[dict]:
    return list(loader)


def _assert_same_batches(first: list[dict], second: list[dict]) -> None:
    assert len(first) == len(second)
    for x, y in zip(first, second, strict=True):
        assert x["name"] == y["name"]
        torch.testing.assert_close(x["condition"], y["condition"], rtol=0, atol=0)
        torch.testing.assert_close(x["real"], y["real"], rtol=0, atol=0)


# --- image_folder helpers -------------------------------------------------------------------------------------------


def test_list_images_filters_extensions_case_insensitively_and_sorts(tmp_path: Path) -> None:
    for name in ("b.PNG", "a.jpeg", "c.webp", "d.TIF", "notes.txt", "e.gif"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.jpeg", "b.PNG", "c.webp", "d.TIF"]
    with pytest.raises(FileNotFoundError, match="missing"):
        list_images(tmp_path / "missing")


def test_pil_tensor_round_trip_is_exact_and_maps_0_255_to_minus1_plus1(tmp_path: Path) -> None:
    array = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    array[0, 0] = [0, 255, 128]
    tensor = pil_to_tensor(Image.fromarray(array))
    assert tensor.shape == (3, 5, 7) and tensor.dtype == torch.float32
    assert tensor[:, 0, 0].tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1.0], abs=1e-6)
    np.testing.assert_array_equal(np.asarray(tensor_to_pil(tensor)), array)
    save_image(tensor, tmp_path / "deep" / "x.png")
    torch.testing.assert_close(pil_to_tensor(load_image(tmp_path / "deep" / "x.png", 3)), tensor, rtol=0, atol=0)
    gray = load_image(tmp_path / "deep" / "x.png", 1)
    assert gray.mode == "L" and pil_to_tensor(gray).shape == (1, 5, 7)


def test_tensor_to_pil_clamps_and_checks_shape() -> None:
    img = tensor_to_pil(torch.tensor([[[-3.0, 0.0, 5.0]]]))
    assert img.mode == "L" and np.asarray(img).tolist() == [[0, 128, 255]]
    with pytest.raises(ValueError, match=r"\(2, 3, 3\)"):
        tensor_to_pil(torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="channels must be 1"):
        load_image(Path("unused.png"), 2)


# --- layouts, direction, transforms ---------------------------------------------------------------------------------


def test_aligned_and_split_layouts_give_identical_batches(tmp_path: Path) -> None:
    pairs = _pairs()
    for split in ("train", "val"):
        _write_aligned(tmp_path / "aligned" / split, pairs)
        _write_split(tmp_path / "split" / split, pairs)
    epochs = []
    for layout in ("aligned", "split"):
        dm = _dm(tmp_path / layout, batch_size=2)
        dm.setup("fit")
        torch.manual_seed(7)
        epochs.append((_epoch(dm.train_dataloader()), _epoch(dm.val_dataloader())))
    _assert_same_batches(epochs[0][0], epochs[1][0])
    _assert_same_batches(epochs[0][1], epochs[1][1])
    assert [len(b["name"]) for b in epochs[0][0]] == [2, 1]  # drop_last=False
    # Evaluation gives the native pictures (the model's AtTrainingScale resizes them): exactly those, in name order.
    val = epochs[0][1]
    assert [b["name"][0] for b in val] == sorted(pairs)
    for batch in val:
        a, b = pairs[batch["name"][0]]
        torch.testing.assert_close(batch["condition"][0], _to_tensor(a), rtol=0, atol=0)
        torch.testing.assert_close(batch["real"][0], _to_tensor(b), rtol=0, atol=0)


def test_direction_swaps_condition_real_and_channel_properties(tmp_path: Path) -> None:
    pairs = _pairs(n=1)
    _write_aligned(tmp_path / "train", pairs)
    _write_aligned(tmp_path / "val", pairs)
    a, b = next(iter(pairs.values()))
    gray_a = torch.from_numpy(np.array(Image.fromarray(a).convert("L"))).float()[None] / 127.5 - 1.0
    for direction, condition, real in (("AtoB", gray_a, _to_tensor(b)), ("BtoA", _to_tensor(b), gray_a)):
        dm = _dm(tmp_path, direction=direction, channels_a=1, channels_b=3)
        assert (dm.condition_channels, dm.real_channels) == ((1, 3) if direction == "AtoB" else (3, 1))
        dm.setup("validate")
        batch = next(iter(dm.val_dataloader()))
        torch.testing.assert_close(batch["condition"][0], condition, rtol=0, atol=0)
        torch.testing.assert_close(batch["real"][0], real, rtol=0, atol=0)


def test_train_transform_applies_the_same_crop_and_flip_to_a_and_b(tmp_path: Path) -> None:
    picture = _rgb(np.random.default_rng(1))
    _write_aligned(tmp_path / "train", {"same.png": (picture, picture)})
    (tmp_path / "val").mkdir()
    _write_aligned(tmp_path / "val", {"same.png": (picture, picture)})
    dm = _dm(tmp_path, load_size=24, crop_size=SIDE)
    dm.setup("fit")
    torch.manual_seed(0)
    draws = [dm.train_set[0] for _ in range(12)]
    for sample in draws:
        assert sample["condition"].shape == (3, SIDE, SIDE)
        torch.testing.assert_close(sample["condition"], sample["real"], rtol=0, atol=0)
    distinct = {tuple(s["condition"].flatten()[:32].tolist()) for s in draws}
    assert len(distinct) > 3  # the crop/flip really is random


@pytest.mark.parametrize("flip", [True, False])
def test_horizontal_flip_happens_only_when_enabled(tmp_path: Path, flip: bool) -> None:
    rng = np.random.default_rng(2)
    a, b = _rgb(rng), _rgb(rng)
    _write_aligned(tmp_path / "train", {"x.png": (a, b)})
    _write_aligned(tmp_path / "val", {"x.png": (a, b)})
    dm = _dm(tmp_path, load_size=SIDE, crop_size=SIDE, flip=flip)  # no crop: only the flip can change the picture
    dm.setup("fit")
    torch.manual_seed(0)
    flipped = []
    for _ in range(20):
        sample = dm.train_set[0]
        is_flipped = torch.equal(sample["condition"], _to_tensor(a).flip(-1))
        assert is_flipped or torch.equal(sample["condition"], _to_tensor(a))
        assert torch.equal(sample["real"], _to_tensor(b).flip(-1) if is_flipped else _to_tensor(b))
        flipped.append(is_flipped)
    assert (0 < sum(flipped) < 20) if flip else not any(flipped)


def test_train_batches_have_crop_size_float32_values_in_range(tmp_path: Path) -> None:
    pairs = _pairs(n=4)
    pairs["00.png"][0][:] = 0
    pairs["00.png"][1][:] = 255
    _write_aligned(tmp_path / "train", pairs)
    _write_aligned(tmp_path / "test", pairs)  # no val/: validation falls back to test/
    dm = _dm(tmp_path, load_size=22, crop_size=12, batch_size=4)
    dm.setup("fit")
    assert dm.val_set is not None and len(dm.val_set) == 4
    batch = next(iter(dm.train_dataloader()))
    for key in ("condition", "real"):
        assert batch[key].shape == (4, 3, 12, 12) and batch[key].dtype == torch.float32
        assert batch[key].min() >= -1.0 and batch[key].max() <= 1.0
    val = next(iter(dm.val_dataloader()))
    assert val["condition"].shape == (1, 3, SIDE, SIDE)  # evaluation: the native pictures
    assert val["name"] == ["00.png"]
    assert torch.all(val["condition"] == -1.0) and torch.all(val["real"] == 1.0)


def test_grayscale_channels_in_both_layouts(tmp_path: Path) -> None:
    pairs = _pairs(n=2)
    _write_aligned(tmp_path / "aligned" / "train", pairs)
    _write_aligned(tmp_path / "aligned" / "val", pairs)
    _write_split(tmp_path / "split" / "train", pairs)
    _write_split(tmp_path / "split" / "val", pairs)
    batches = []
    for layout in ("aligned", "split"):
        dm = _dm(tmp_path / layout, channels_a=1, channels_b=1, batch_size=2)
        dm.setup("fit")
        torch.manual_seed(3)
        batches.append(next(iter(dm.train_dataloader())))
        assert batches[-1]["condition"].shape == (2, 1, SIDE, SIDE) and batches[-1]["real"].shape == (2, 1, SIDE, SIDE)
    _assert_same_batches(batches[:1], batches[1:])


def test_validation_has_no_randomness(tmp_path: Path) -> None:
    pairs = _pairs(n=3)
    _write_aligned(tmp_path / "train", pairs)
    _write_aligned(tmp_path / "val", pairs)
    dm = _dm(tmp_path, load_size=24, crop_size=12, eval_batch_size=2)
    dm.setup("fit")
    torch.manual_seed(0)
    first = _epoch(dm.val_dataloader())
    torch.manual_seed(1)
    second = _epoch(dm.val_dataloader())
    _assert_same_batches(first, second)
    assert [b["condition"].shape for b in first] == [(2, 3, SIDE, SIDE), (1, 3, SIDE, SIDE)]  # native size


def test_test_stage_reads_test_split(tmp_path: Path) -> None:
    _write_aligned(tmp_path / "train", _pairs(n=1))
    _write_aligned(tmp_path / "val", _pairs(n=2))
    _write_aligned(tmp_path / "test", _pairs(n=3))
    dm = _dm(tmp_path)
    dm.setup("test")
    assert len(dm.test_set) == 3 and dm.train_set is None
    assert sum(len(b["name"]) for b in dm.test_dataloader()) == 3


def test_predict_yields_original_sizes_and_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    folder = tmp_path / "inputs"
    folder.mkdir()
    # Grayscale files for a grayscale condition (other channel counts are refused: tests/whole_input/test_geometry.py).
    Image.fromarray(_rgb(rng, 12, 20)).convert("L").save(folder / "wide.png")
    Image.fromarray(_rgb(rng, 9, 7)).convert("L").save(folder / "small.jpg", quality=95)
    (folder / "readme.txt").write_text("not an image")
    dm = _dm(tmp_path / "unused", direction="BtoA", channels_b=1, predict_dir=str(folder))
    dm.setup("predict")
    batches = list(dm.predict_dataloader())
    assert [b["name"] for b in batches] == [["small.jpg"], ["wide.png"]]
    assert [tuple(b["condition"].shape) for b in batches] == [(1, 1, 9, 7), (1, 1, 12, 20)]
    assert set(batches[0]) == {"condition", "name"}


# --- bad input ------------------------------------------------------------------------------------------------------


def test_predict_dir_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="predict_dir is not set"):
        _dm(tmp_path).setup("predict")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no images in predict_dir .*empty"):
        _dm(tmp_path, predict_dir=str(tmp_path / "empty")).setup("predict")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        _dm(tmp_path, predict_dir=str(tmp_path / "nowhere")).setup("predict")


def test_missing_root_train_and_eval_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"dataset root not found: .*nope"):
        _dm(tmp_path / "nope").setup("fit")
    _write_aligned(tmp_path / "val", _pairs(n=1))
    with pytest.raises(FileNotFoundError, match=f"training split not found: {tmp_path / 'train'}"):
        _dm(tmp_path).setup("fit")
    other = tmp_path / "only_train"
    _write_aligned(other / "train", _pairs(n=1))
    with pytest.raises(FileNotFoundError, match=r"neither .*only_train/val nor .*only_train/test exists"):
        _dm(other).setup("fit")


def test_aligned_image_with_wrong_width_is_named(tmp_path: Path) -> None:
    _write_aligned(tmp_path / "train", _pairs(n=2))
    Image.fromarray(_rgb(np.random.default_rng(0), SIDE, 30)).save(tmp_path / "train" / "odd.png")
    _write_aligned(tmp_path / "val", _pairs(n=1))
    with pytest.raises(ValueError, match=r"twice as wide.*odd\.png \(30x16\)"):
        _dm(tmp_path).setup("fit")


def test_split_layout_with_unmatched_names_lists_both_sides(tmp_path: Path) -> None:
    pairs = _pairs(n=2)
    _write_split(tmp_path / "train", pairs)
    Image.fromarray(pairs["00.png"][0]).save(tmp_path / "train" / "A" / "only_a.png")
    Image.fromarray(pairs["00.png"][0]).save(tmp_path / "train" / "B" / "only_b.png")
    _write_aligned(tmp_path / "val", pairs)
    with pytest.raises(ValueError, match=r"only in A/: \[only_a\.png\]; only in B/: \[only_b\.png\]"):
        _dm(tmp_path).setup("fit")


def test_split_layout_needs_both_subfolders_and_one_layout(tmp_path: Path) -> None:
    _write_aligned(tmp_path / "val", _pairs(n=1))
    (tmp_path / "train" / "A").mkdir(parents=True)
    with pytest.raises(ValueError, match="has A/ but no B/"):
        _dm(tmp_path).setup("fit")
    _write_split(tmp_path / "train", _pairs(n=1))
    _write_aligned(tmp_path / "train", _pairs(n=1))
    with pytest.raises(ValueError, match="mixes layouts"):
        _dm(tmp_path).setup("fit")


@pytest.mark.parametrize("layout", ["aligned", "split"])
def test_empty_split_folder(tmp_path: Path, layout: str) -> None:
    _write_aligned(tmp_path / "train", _pairs(n=1))
    folder = tmp_path / "val"
    for sub in ("A", "B") if layout == "split" else ("",):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("no pictures here")
    with pytest.raises(ValueError, match=f"no images in {folder}"):
        _dm(tmp_path).setup("fit")


def test_unreadable_header_is_named_at_setup(tmp_path: Path) -> None:
    _write_aligned(tmp_path / "train", _pairs(n=1))
    (tmp_path / "train" / "garbage.jpg").write_bytes(b"this is not a jpeg")
    _write_aligned(tmp_path / "val", _pairs(n=1))
    with pytest.raises(ImageReadError, match=r"cannot read image .*garbage\.jpg"):
        _dm(tmp_path).setup("fit")


def test_corrupt_pixels_are_named_through_a_dataloader_worker(tmp_path: Path) -> None:
    _write_aligned(tmp_path / "train", _pairs(n=1))
    _write_aligned(tmp_path / "val", _pairs(n=1))
    good = tmp_path / "train" / "00.png"
    data = good.read_bytes()
    (tmp_path / "train" / "zz_truncated.png").write_bytes(data[: len(data) // 2])  # header intact, pixels cut
    dm = _dm(tmp_path, num_workers=1, batch_size=2)
    dm.setup("fit")  # the header check passes: the damage is only seen when decoding
    with pytest.raises(RuntimeError, match=r"cannot read image .*zz_truncated\.png"):
        list(dm.train_dataloader())


def test_constructor_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="load_size=8, crop_size=16"):
        PairedImageDataModule("x", load_size=8, crop_size=16)
    with pytest.raises(ValueError, match=r"channels_b must be 1 .* got 4"):
        PairedImageDataModule("x", channels_b=4)
    with pytest.raises(ValueError, match="direction must be"):
        PairedImageDataModule("x", direction="AtoC")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eval_batch_size must be >= 1"):
        PairedImageDataModule("x", eval_batch_size=0)


# --- the bundled demo -----------------------------------------------------------------------------------------------


def test_bundled_demo_dataset_exists_and_parses() -> None:
    counts = {split: len(list_images(DEMO / split)) for split in ("train", "val", "test")}
    assert counts == {"train": 200, "val": 20, "test": 20}
    assert "MIT licence" in (DEMO / "README.md").read_text()
    dm = PairedImageDataModule(str(DEMO), load_size=72, crop_size=64, num_workers=0, pin_memory=False, batch_size=4)
    dm.setup("fit")
    assert len(dm.train_set) == 200 and len(dm.val_set) == 20
    torch.manual_seed(0)
    batch = next(iter(dm.train_dataloader()))
    assert batch["condition"].shape == (4, 3, 64, 64) and batch["real"].shape == (4, 3, 64, 64)
    val = dm.val_set[0]
    assert val["name"] == "0000.png" and val["condition"].shape == (3, 64, 64)
