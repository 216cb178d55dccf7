"""One geometry from training to prediction (lightning_gan.whole_input.geometry): every preprocessing mode trains and
predicts
through the CLI with outputs at the inputs' own size and name, test metrics are the metrics of predict's files, an
upscaled input is translated at the training scale, and bad input stops with a message naming what is wrong."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchmetrics import MeanAbsoluteError
from torchmetrics.image import PeakSignalNoiseRatio

from lightning_gan.cli import main
from lightning_gan.data.geometry import PREPROCESS_MODES, ImageGeometry, resize
from lightning_gan.data.image_folder import load_image, pil_to_tensor
from lightning_gan.data.paired_images import PairedImageDataModule
from lightning_gan.deploy.api import load_generator
from lightning_gan.gan import INFERENCE_CHECKPOINT_KEY
from lightning_gan.nets.pix2pix import UnetGenerator
from lightning_gan.whole_input.geometry import AtTrainingScale
from tests.conftest import CONFIGS

WIDTH, HEIGHT = 80, 48  # non-square native images
# Per mode: data settings for 80 x 48 images and the smallest U-Net (5 levels, size multiple 32).
MODES = {
    "resize_and_crop": ["--data.init_args.load_size", "40", "--data.init_args.crop_size", "32"],
    "crop": ["--data.init_args.crop_size", "32"],
    "scale_width": ["--data.init_args.load_size", "64", "--data.init_args.crop_size", "32"],
    "scale_width_and_crop": ["--data.init_args.load_size", "64", "--data.init_args.crop_size", "32"],
    "none": [],
}


def _picture(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth random RGB picture (so resampling it is well defined)."""
    small = rng.integers(0, 256, (max(2, height // 6), max(2, width // 6), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


def _split_dataset(root: Path, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """root/{train,val,test}/{A,B}: A a picture, B its colour negative (a function of A a net can learn)."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 4), ("val", 2), ("test", 3)):
        for side in ("A", "B"):
            (root / split / side).mkdir(parents=True)
        for i in range(count):
            a = _picture(rng, width, height)
            Image.fromarray(a).save(root / split / "A" / f"{i}.png")
            Image.fromarray(255 - a).save(root / split / "B" / f"{i}.png")
    return root


def _args(root: Path, runs: Path, mode: str) -> list[str]:
    return [
        "--config", str(CONFIGS / "pix2pix_demo.yaml"),
        "--data.init_args.root", str(root), "--data.init_args.preprocess", mode, *MODES[mode],
        "--data.init_args.size_multiple", "32", "--data.init_args.num_workers", "0",
        "--data.init_args.batch_size", "1", "--data.init_args.eval_batch_size", "1",
        "--model.generator.init_args.num_downs", "5", "--model.generator.init_args.ngf", "4",
        "--model.discriminator.init_args.ndf", "4", "--model.discriminator.init_args.n_layers", "1",
        "--trainer.default_root_dir", str(runs), "--trainer.logger", "false",
        "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
    ]  # fmt: skip


def _fit(root: Path, runs: Path, mode: str) -> Path:
    main(["fit", *_args(root, runs, mode), "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
          "--trainer.limit_val_batches", "1", "--trainer.num_sanity_val_steps", "0"])  # fmt: skip
    (ckpt,) = runs.rglob("last.ckpt")
    return ckpt


# ------------------------------------------------------------------------------------------ the policy on its own
@pytest.mark.parametrize("mode", PREPROCESS_MODES)
@pytest.mark.parametrize("size", [(40, 24), (24, 40), (37, 23), (16, 16)])
def test_whole_input_round_trip_keeps_the_input_size(mode: str, size: tuple[int, int]) -> None:
    geometry = ImageGeometry(mode, load_size=32, crop_size=16, size_multiple=8)
    generator = UnetGenerator(3, 3, num_downs=5, ngf=4).eval()
    seen = []

    def generate(x: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(x.shape[-2:]))
        return generator(x)

    width, height = size
    with torch.no_grad():
        out = AtTrainingScale(geometry=geometry, multiple=32)(generate, torch.rand(2, 3, height, width) * 2 - 1)
    assert out.shape == (2, 3, height, width)
    scaled_w, scaled_h = geometry.scaled_size(width, height)
    assert seen == [(-(-scaled_h // 32) * 32, -(-scaled_w // 32) * 32)]  # the training scale, padded to the multiple
    assert torch.equal(out, ((out + 1) * 127.5).round() / 127.5 - 1)  # on the 8-bit grid of the written files


@pytest.mark.parametrize("mode", PREPROCESS_MODES)
def test_training_examples_share_resize_crop_and_flip(mode: str) -> None:
    geometry = ImageGeometry(mode, load_size=32, crop_size=16, size_multiple=8)
    a = torch.rand(3, 24, 40) * 2 - 1
    expected = {"resize_and_crop": (16, 16), "crop": (16, 16), "scale_width_and_crop": (16, 16),
                "scale_width": (16, 32), "none": (24, 40)}[mode]  # fmt: skip
    for seed in range(6):
        torch.manual_seed(seed)
        ta, tb = geometry.train_pair(a, -a, flip=True)
        assert tuple(ta.shape[-2:]) == expected == tuple(reversed(geometry.training_size(40, 24)))
        assert torch.allclose(tb, -ta)  # one crop window and one flip for both


def test_resize_and_crop_keeps_the_aspect_ratio_and_square_images_as_the_reference() -> None:
    geometry = ImageGeometry("resize_and_crop", load_size=286, crop_size=256)
    assert geometry.scaled_size(256, 256) == (286, 286)
    assert geometry.scaled_size(512, 256) == (572, 286)  # short side to load_size, no squashing
    assert ImageGeometry("scale_width", 256, 224).scaled_size(1024, 512) == (256, 224)  # max(256*512/1024, crop)


# ------------------------------------------------------------------------------------------ through the CLI
@pytest.mark.parametrize("mode", PREPROCESS_MODES)
def test_every_mode_trains_and_predicts_at_the_inputs_size(tmp_path: Path, mode: str) -> None:
    root = _split_dataset(tmp_path / "data")
    ckpt = _fit(root, tmp_path / "runs", mode)
    recorded = torch.load(ckpt, map_location="cpu", weights_only=True)[INFERENCE_CHECKPOINT_KEY]
    assert recorded["geometry"]["preprocess"] == mode and recorded["multiple"] == 32
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rng = np.random.default_rng(1)
    sizes = {"wide.png": (45, 21), "tall.jpg": (19, 50), "square.png": (32, 32)}
    for name, (w, h) in sizes.items():
        Image.fromarray(_picture(rng, w, h)).save(inputs / name)
    out = tmp_path / "out"
    main(["predict", *_args(root, tmp_path / "runs", mode), "--ckpt_path", str(ckpt),
          "--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(out)])  # fmt: skip
    assert {p.name: Image.open(p).size for p in out.iterdir()} == sizes


def test_test_metrics_are_the_metrics_of_predicts_files(tmp_path: Path) -> None:
    root = _split_dataset(tmp_path / "data")
    runs = tmp_path / "runs"
    ckpt = _fit(root, runs, "resize_and_crop")
    cli = main(["test", *_args(root, runs, "resize_and_crop"), "--ckpt_path", str(ckpt)])
    logged = {k: float(v) for k, v in cli.trainer.callback_metrics.items()}
    out = tmp_path / "out"
    main(
        [
            "predict",
            *_args(root, runs, "resize_and_crop"),
            "--ckpt_path",
            str(ckpt),
            "--data.init_args.predict_dir",
            str(root / "test" / "A"),
            "--prediction_writer.output_dir",
            str(out),
        ]
    )
    psnr, l1 = PeakSignalNoiseRatio(data_range=2.0), MeanAbsoluteError()
    for path in sorted((root / "test" / "B").iterdir()):
        written = pil_to_tensor(load_image(out / path.name, 3))[None]
        target = pil_to_tensor(load_image(path, 3))[None]
        psnr.update(written, target)
        l1.update(written, target)
    assert logged["test/psnr"] == pytest.approx(float(psnr.compute()), abs=1e-4)
    assert logged["test/l1"] == pytest.approx(float(l1.compute()), abs=1e-6)


def test_an_upscaled_copy_is_translated_at_the_training_scale(tmp_path: Path) -> None:
    root = _split_dataset(tmp_path / "data", 32, 32)
    generator = load_generator(_fit(root, tmp_path / "runs", "resize_and_crop"), device="cpu")
    with torch.no_grad():  # 2 training steps leave G near its N(0, 0.02) init, whose output is ~0 everywhere:
        for p in generator.module.inference_generator.parameters():  # make it a sharp function of its input
            p.mul_(3.0)
    original = Image.open(root / "test" / "A" / "0.png")
    with pytest.raises(ValueError, match=r"3 condition channel\(s\); got a PIL image in mode 'L'"):
        generator.translate(original.convert("L"))  # refused, as predict refuses such a file
    upscaled = original.resize((96, 96), Image.Resampling.BICUBIC)
    plain = pil_to_tensor(generator.translate(original))
    back = resize(pil_to_tensor(generator.translate(upscaled)), 32, 32)
    at_scale = float((back - plain).abs().mean())
    generator.module.inference.geometry = ImageGeometry("none", size_multiple=32)  # the old pad-only behaviour
    pad_only = resize(pil_to_tensor(generator.translate(upscaled)), 32, 32)
    # Within 3 % of the range on average, and far closer than translating the upscaled copy at its own scale.
    assert at_scale < 0.03 and at_scale < 0.3 * float((pad_only - plain).abs().mean())


# ------------------------------------------------------------------------------------------ bad input
def test_unknown_mode_is_named() -> None:
    with pytest.raises(ValueError, match=r"preprocess='resize'.*expected one of \['resize_and_crop', 'crop'"):
        PairedImageDataModule("x", preprocess="resize")  # type: ignore[arg-type]


def test_image_smaller_than_the_crop_is_named(tmp_path: Path) -> None:
    root = _split_dataset(tmp_path / "data")
    dm = PairedImageDataModule(str(root), preprocess="crop", crop_size=64, num_workers=0)
    with pytest.raises(ValueError, match=r"train/A/0.png: image 80x48 is smaller than crop_size=64 .*'crop'"):
        dm.setup("fit")


def test_aligned_image_not_twice_as_wide_is_named_for_resize_and_crop(tmp_path: Path) -> None:
    for split in ("train", "val"):
        (tmp_path / split).mkdir()
        Image.new("RGB", (60, 20)).save(tmp_path / split / "x.png")
    with pytest.raises(ValueError, match=r"twice as wide.*'resize_and_crop'.*x.png \(60x20\)"):
        PairedImageDataModule(str(tmp_path), load_size=20, crop_size=16, num_workers=0).setup("fit")
    # scale_width takes non-square halves
    PairedImageDataModule(str(tmp_path), preprocess="scale_width", load_size=16, crop_size=8, num_workers=0).setup(
        "fit"
    )


def test_predict_input_with_other_channels_is_named(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    Image.new("L", (8, 8)).save(tmp_path / "in" / "gray.png")
    dm = PairedImageDataModule(str(tmp_path), predict_dir=str(tmp_path / "in"), num_workers=0)
    with pytest.raises(ValueError, match=r"3 condition channels \(RGB\); got .*gray.png \(1 channel\)"):
        dm.setup("predict")


def test_16_bit_and_transparent_pngs_are_converted_as_documented(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert np.asarray(load_image(tmp_path / "deep.png", 1)).tolist() == [[0, 100, 255]]  # scaled, not clipped
    rgba = np.zeros((1, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)  # opaque: kept
    rgba[0, 1] = (0, 0, 0, 0)  # transparent black: white paper
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    assert np.asarray(load_image(tmp_path / "alpha.png", 3)).tolist() == [[[10, 20, 30], [255, 255, 255]]]
