"""Class-conditional generation: labels from the digits DataModule, the conditional generator and the projection
discriminator, the loop's label checks, and a real fit through the CLI whose samples a classifier of real digits
recognises as the requested classes; then the API, predict's per-class grids and the sample logger's rows."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch
from PIL import Image

from lightning_gan.cli import main
from lightning_gan.data.digits import DigitsDataModule, load_digit_labels
from lightning_gan.deploy.api import load_generator
from lightning_gan.deploy.export import export
from lightning_gan.gan import GAN
from lightning_gan.nets.conditional import ConditionalDCGANGenerator, ProjectionDiscriminator
from lightning_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from lightning_gan.nets.labels import check_labels
from tests.conftest import CONFIGS, ROOT


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "maintainer" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class_accuracy = _load_script("digits_class_accuracy").class_accuracy


def test_digits_yield_their_labels_on_request() -> None:
    dm = DigitsDataModule(image_size=8, batch_size=len(DigitsDataModule().train_index), labels=True)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert dm.num_classes == 10 and batch["label"].dtype == torch.int64
    assert sorted(batch["label"].tolist()) == sorted(load_digit_labels()[dm.train_index].tolist())
    (val,) = list(dm.val_dataloader())[:1]  # the held-out digits carry their labels too
    assert val["label"].tolist() == load_digit_labels()[dm.val_index][: len(val["label"])].tolist()
    plain = DigitsDataModule(image_size=8)
    plain.setup("fit")
    assert "label" not in next(iter(plain.train_dataloader())) and plain.num_classes is None
    predict = next(iter(DigitsDataModule(num_predict=3, labels=True, batch_size=100).predict_dataloader()))
    assert predict["label"].tolist() == [k for k in range(10) for _ in range(3)]
    assert predict["name"][4] == "class_1/sample_00001.png"


def test_the_generator_and_the_projection_discriminator() -> None:
    torch.manual_seed(0)
    g = ConditionalDCGANGenerator(num_classes=10, latent_dim=8, out_channels=1, ngf=8, image_size=16).eval()
    d = ProjectionDiscriminator(num_classes=10, in_channels=1, ndf=8, image_size=16).eval()
    z = torch.randn(4, 8, 1, 1)
    assert g.latent_shape(4) == (4, 8, 1, 1)
    a, b = g(z, torch.tensor([0, 1, 2, 3])), g(z, torch.tensor([9, 1, 2, 3]))
    assert a.shape == (4, 1, 16, 16) and not torch.allclose(a[0], b[0]) and torch.equal(a[1:], b[1:])
    # Projection (Miyato & Koyama 2018, eq. 3): D(x, y) = linear(h) + embed(y) . h, h = sum-pooled features.
    x = torch.randn(3, 1, 16, 16)
    h = d.features(x).sum(dim=(2, 3))
    y = torch.tensor([2, 5, 7])
    torch.testing.assert_close(d(x, y), d.linear(h) + (d.embedding(y) * h).sum(1, keepdim=True))
    for bad, match in ((torch.tensor([0, 1, 10, 2]), "label 10 is outside the 10 classes"),
                       (torch.tensor([0.0, 1.0, 2.0, 3.0]), "class indices")):  # fmt: skip
        with pytest.raises(ValueError, match=match):
            g(z, bad)
    with pytest.raises(ValueError, match="label -1"):
        d(x, torch.tensor([0, -1, 2]))


def test_labels_and_networks_that_disagree_fail_at_setup_naming_both() -> None:
    labelled, plain = DigitsDataModule(labels=True), DigitsDataModule()
    cond_g = ConditionalDCGANGenerator(num_classes=10, out_channels=1, image_size=32)
    cond_d = ProjectionDiscriminator(num_classes=10, in_channels=1, image_size=32)
    check_labels(labelled, cond_g, cond_d)
    check_labels(labelled, cond_g, DCGANDiscriminator(1, image_size=32))  # an unconditional D may judge
    with pytest.raises(ValueError, match="yields no labels"):
        check_labels(plain, cond_g, cond_d)
    with pytest.raises(ValueError, match="generator DCGANGenerator is unconditional"):
        check_labels(labelled, DCGANGenerator(out_channels=1, image_size=32), DCGANDiscriminator(1, image_size=32))
    with pytest.raises(ValueError, match="num_classes = 10 but the discriminator has num_classes = 9"):
        check_labels(labelled, cond_g, ProjectionDiscriminator(num_classes=9, in_channels=1, image_size=32))
    model = GAN(cond_g, cond_d)
    with pytest.raises(ValueError, match="batch has no 'label'"):
        model(None, 2)


SMALL = [  # 16 x 16 digits, narrow nets, G's learning rate up: a fit of seconds that already draws the classes asked
    "--data.init_args.image_size", "16", "--model.generator.init_args.ngf", "16",
    "--model.discriminator.init_args.ndf", "16", "--trainer.max_epochs", "13",
    "--model.g_optimizer.init_args.lr", "0.0004",
    "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir", "{root}",
    "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
]  # fmt: skip


def test_a_short_conditional_fit_draws_the_requested_classes(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    args = ["--config", str(CONFIGS / "dcgan_digits_cond.yaml"), "--trainer.default_root_dir", str(root)]
    main(["fit", *args, *(a.format(root=root) for a in SMALL)])
    (ckpt,) = root.rglob("checkpoints/last.ckpt")
    run = ckpt.parent.parent

    # The sample logger: one row per class (num_samples 100 -> 10 per row), 16-px images with 2-px padding.
    grid = Image.open(sorted((run / "samples").glob("epoch_*.png"))[-1])
    assert grid.size == (10 * 18 + 2, 10 * 18 + 2)

    generator = load_generator(ckpt, device="cpu")
    result = class_accuracy(generator.sample, num_classes=10, image_size=16, per_class=50)
    assert result["mean"] > 0.4, result  # chance: 0.1; 0.65 measured with these settings

    labels = [3, 3, 7, 0]
    first, again = generator.sample(4, seed=1, labels=labels), generator.sample(4, seed=1, labels=torch.tensor(labels))
    assert first.shape == (4, 1, 16, 16) and torch.equal(first, again)
    assert generator.sample(5, seed=2).shape == (5, 1, 16, 16)  # classes drawn at random
    with pytest.raises(ValueError, match="label 10 is outside the 10 classes"):
        generator.sample(2, labels=[1, 10])
    with pytest.raises(ValueError, match="expected 3 labels"):
        generator.sample(3, labels=[1, 2])

    out = tmp_path / "predictions"
    main(["predict", *args, *(a.format(root=root) for a in SMALL), "--ckpt_path", str(ckpt),
          "--prediction_writer.output_dir", str(out)])  # fmt: skip
    assert sorted(p.name for p in out.glob("class_*.png")) == [f"class_{k}.png" for k in range(10)]
    assert len(list((out / "class_4").glob("sample_*.png"))) == 10  # num_predict per class
    assert Image.open(out / "class_4.png").size == (4 * 18 + 2, 3 * 18 + 2)  # 10 images, 4 per row

    with pytest.raises(ValueError, match="exporting a class-conditional generator"):
        export(ckpt, "torchscript", tmp_path / "g.pt")


def test_labels_on_an_unconditional_generator_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    main(["fit", "--config", str(CONFIGS / "dcgan_digits.yaml"), "--trainer.default_root_dir", str(root),
          "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
          "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1", "--trainer.logger", "false",
          "--trainer.enable_progress_bar", "false"])  # fmt: skip
    (ckpt,) = root.rglob("last.ckpt")
    with pytest.raises(ValueError, match="this generator is unconditional"):
        load_generator(ckpt, device="cpu").sample(2, labels=[0, 1])
