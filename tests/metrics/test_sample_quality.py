"""Sample-quality metrics: Frechet distance and KID against independent computations, the shipped digits classifier,
the FID Inception plumbing (random weights made here; the real file only when its path is set), fixed-noise
evaluation inside real fits, and the named error for missing weights."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import yaml
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from lightning_gan.cli import main
from lightning_gan.data.digits import DigitsDataModule, load_digit_images, split_digits
from lightning_gan.gan import GAN
from lightning_gan.metrics import digits as digits_metrics
from lightning_gan.metrics import inception
from lightning_gan.metrics.frechet import SqrtError, frechet_distance, kernel_distance, sqrtm_psd, unbiased_mmd2
from lightning_gan.metrics.inception import (
    WEIGHTS_ENV,
    WEIGHTS_FILE,
    WEIGHTS_SHA256,
    WEIGHTS_URL,
    FIDInceptionV3,
    MissingWeightsError,
    WeightsHashError,
    load_fid_inception,
    resize_bilinear_tf1,
)
from lightning_gan.metrics.sample_quality import DigitsFeatures, InceptionFeatures, SampleQuality, count_label
from lightning_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from tests.conftest import CONFIGS, ROOT


def _features(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ mixing + shift


def _scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The formula of the original FID code: sqrtm of the (non-symmetric) product of the covariances."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


# ---------------------------------------------------------------------------------------------------- Frechet / KID
@pytest.mark.parametrize(("n", "d"), [(500, 16), (300, 64), (40, 64)], ids=["n>>d", "n>d", "n<d_singular"])
def test_frechet_distance_matches_scipy_sqrtm(n: int, d: int) -> None:
    a, b = _features(n, d, 0), _features(n + 7, d, 1, shift=0.3)
    ours = frechet_distance(a, b)
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.item(), _scipy_frechet(a.numpy(), b.numpy()), rtol=1e-7, atol=1e-7)


def test_frechet_distance_matches_torchmetrics_on_the_same_features() -> None:
    a, b = _features(400, 32, 2), _features(300, 32, 3, shift=0.1)

    class Given(nn.Module):  # torchmetrics' FID with the features themselves as the "network"
        num_features = 32

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    fid = FrechetInceptionDistance(feature=Given())
    fid.update(b, real=True)
    fid.update(a, real=False)
    np.testing.assert_allclose(frechet_distance(a, b).item(), fid.compute().item(), rtol=1e-5)


def test_frechet_distance_of_a_set_with_itself_is_zero_and_grows_with_noise() -> None:
    a = _features(600, 24, 4)
    assert abs(frechet_distance(a, a).item()) < 1e-9
    g = torch.Generator().manual_seed(5)
    noise = torch.randn(a.shape, generator=g, dtype=torch.float64)
    distances = [frechet_distance(a, a + s * noise).item() for s in (0.05, 0.2, 0.5, 1.0)]
    assert distances == sorted(distances) and distances[0] > 0


def test_matrix_square_root_is_checked() -> None:
    spd = torch.cov(_features(100, 8, 6).T)
    root = sqrtm_psd(spd)
    torch.testing.assert_close(root @ root, spd, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(root, torch.from_numpy(scipy.linalg.sqrtm(spd.numpy()).real), rtol=1e-8, atol=1e-10)
    indefinite = torch.diag(torch.tensor([1.0, 2.0, -0.5], dtype=torch.float64))
    with pytest.raises(SqrtError, match="square root"):
        sqrtm_psd(indefinite)


def test_kid_is_unbiased_near_zero_on_two_halves_of_one_set() -> None:
    a = _features(2000, 32, 7)
    same, _ = kernel_distance(a[:1000], a[1000:], subsets=20, subset_size=500)
    other, _ = kernel_distance(a[:1000], _features(1000, 32, 8, shift=0.2), subsets=20, subset_size=500)
    assert abs(same.item()) < 0.05 * other.item()
    # unbiased: the estimate on one set against itself averages to 0 over halves, not to a positive bias
    assert unbiased_mmd2(a[:1000], a[1000:]).item() < 0.05 * other.item()


def test_kid_matches_torchmetrics_on_the_whole_sets() -> None:
    a, b = _features(200, 16, 9), _features(150, 16, 10, shift=0.2)

    class Given(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    kid = KernelInceptionDistance(feature=Given(), subsets=1, subset_size=150)  # one subset: all of both sets
    kid.update(b, real=True)
    kid.update(a[:150], real=False)
    np.testing.assert_allclose(unbiased_mmd2(a[:150], b).item(), kid.compute()[0].item(), rtol=1e-6)
    ours, _ = kernel_distance(a[:150], b, subsets=3, subset_size=150)  # subsets of the whole sets: order only
    assert ours.item() == pytest.approx(unbiased_mmd2(a[:150], b).item(), rel=1e-12)


# ------------------------------------------------------------------------------------------------ digits classifier
def test_digits_classifier_reaches_its_stated_accuracy_on_held_out_digits() -> None:
    from sklearn.datasets import load_digits

    stated = digits_metrics.held_out_accuracy()
    assert stated >= 0.99
    evaluation = (ROOT / "docs" / "evaluation.md").read_text()
    assert f"{stated * 100:.2f} %" in evaluation  # the docs state the measured figure
    _, val = split_digits()
    images, labels = load_digit_images(32)[val], torch.from_numpy(load_digits().target)[val]
    with torch.no_grad():
        accuracy = (digits_metrics.load_digits_classifier()(images).argmax(1) == labels).double().mean().item()
    assert accuracy >= stated - 1e-9


def test_digits_split_is_seeded_disjoint_and_held_out_by_the_datamodule() -> None:
    train, val = split_digits()
    assert len(train) + len(val) == 1797 and len(val) == 359
    assert not set(train.tolist()) & set(val.tolist())
    torch.testing.assert_close(split_digits()[1], val)
    assert not torch.equal(split_digits(seed=1)[1], val)
    dm = DigitsDataModule()
    dm.setup("fit")
    assert len(dm.train_dataloader().dataset) == 1438 and len(dm.val_dataloader().dataset) == 359


# ------------------------------------------------------------------------------------------------ SampleQuality
def _quality(**kwargs) -> SampleQuality:
    return SampleQuality(DigitsFeatures(), **{"num_samples": 300, "batch_size": 128, "kid_subsets": 10, **kwargs})


def test_fixed_noise_gives_the_same_numbers_every_evaluation_and_any_rank_split() -> None:
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=16, out_channels=1, ngf=8, image_size=32).eval()
    reals = load_digit_images(32)[split_digits()[1]]

    def evaluate(world_size: int) -> dict[str, torch.Tensor]:
        shards = [_quality(batch_size=64) for _ in range(world_size)]
        for rank, shard in enumerate(shards):
            shard.add_generated(generator, nn.Identity(), rank, world_size)
        merged = _quality(batch_size=64)
        merged.update(reals, real=True)
        merged.fake_features = [f for s in shards for f in s.fake_features]  # what DDP's gather does
        merged.fake_probabilities = [p for s in shards for p in s.fake_probabilities]
        return merged.compute()

    torch.randn(3)  # the global RNG's state must not matter
    first, again, two_ranks = evaluate(1), evaluate(1), evaluate(2)
    assert set(first) == {"fid_digits_300", "kid_digits_300", "is_digits_300", "class_entropy_digits_300",
                          "reals_digits"}  # fmt: skip
    assert first["reals_digits"].item() == 359
    for key in first:
        torch.testing.assert_close(first[key], again[key], rtol=0, atol=0)
        torch.testing.assert_close(first[key], two_ranks[key], rtol=1e-6, atol=1e-6)


def test_real_digits_score_far_better_than_noise_images() -> None:
    _, val = split_digits()
    images = load_digit_images(32)
    train = images[split_digits()[0]]
    good, bad = _quality(), _quality()
    for metric, fakes in ((good, train[:300]), (bad, torch.rand(300, 1, 32, 32) * 2 - 1)):
        metric.update(images[val], real=True)
        metric.update(fakes, real=False)
    good, bad = good.compute(), bad.compute()
    assert good["fid_digits_300"] < 0.05 * bad["fid_digits_300"]
    assert good["class_entropy_digits_300"] > 2.2  # the real digits: all ten classes, almost equally often
    assert good["is_digits_300"] > 8 and bad["is_digits_300"] < good["is_digits_300"]


def test_count_labels() -> None:
    assert [count_label(n) for n in (1000, 5000, 50000, 359, 1500)] == ["1k", "5k", "50k", "359", "1500"]


def test_feature_network_stays_out_of_checkpoints_and_pickles() -> None:
    def gan(**kwargs) -> GAN:
        torch.manual_seed(0)
        return GAN(DCGANGenerator(16, 1, 8, 32), DCGANDiscriminator(1, 8, 32), **kwargs)

    quality = _quality()
    quality.setup()
    with_quality = gan(sample_quality=quality)
    assert list(with_quality.state_dict()) == list(gan().state_dict())
    assert sum(p.numel() for p in with_quality.parameters()) == sum(p.numel() for p in gan().parameters())
    assert pickle.loads(pickle.dumps(quality))._network is None


# ------------------------------------------------------------------------------------------------ Inception
@pytest.fixture(scope="module")
def random_inception_weights(tmp_path_factory) -> Path:
    """A weights file of the FID Inception architecture with random values (made here, nothing downloaded)."""
    torch.manual_seed(0)
    network = FIDInceptionV3()
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_var.uniform_(0.5, 1.5)
            module.running_mean.normal_(0, 0.1)
    path = tmp_path_factory.mktemp("inception") / WEIGHTS_FILE
    torch.save(network.state_dict(), path)
    return path


def test_inception_architecture_matches_the_published_state_dict_layout() -> None:
    state = FIDInceptionV3().state_dict()
    assert len(state) == 566  # the published file's entry count (its loaders report 566 entries)
    assert state["fc.weight"].shape == (1008, 2048) and state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert state["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)


def test_tf1_bilinear_resize_samples_at_i_times_in_over_out() -> None:
    x = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 4, 4)
    out = resize_bilinear_tf1(x, 8)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.0]))  # last: edge clamped


@pytest.fixture
def small_inception_input(monkeypatch) -> None:
    """Resize to 75 px (Inception's smallest input) instead of 299 in plumbing tests: 16x fewer FLOPs on a CPU."""
    monkeypatch.setattr(inception, "INPUT_SIZE", 75)


def test_inception_fid_plumbing_with_random_weights(random_inception_weights: Path, small_inception_input) -> None:
    quality = SampleQuality(
        InceptionFeatures(str(random_inception_weights), check_hash=False), num_samples=4, batch_size=4, kid_subsets=2
    )
    torch.manual_seed(0)
    quality.update(load_digit_images(32)[:4], real=True)  # grey images: repeated to RGB
    quality.add_generated(DCGANGenerator(16, 1, 8, 32).eval(), nn.Identity())
    values = quality.compute()
    assert set(values) == {"fid_inception_4", "kid_inception_4", "is_inception_4", "class_entropy_inception_4",
                           "reals_inception"}  # fmt: skip
    assert all(torch.isfinite(v) for v in values.values()) and values["fid_inception_4"] > 0


def test_inception_weights_must_be_the_published_file(random_inception_weights: Path) -> None:
    with pytest.raises(WeightsHashError, match=WEIGHTS_SHA256):
        load_fid_inception(random_inception_weights)


def test_missing_inception_weights_stop_a_fit_at_setup_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    args = ["fit", "--config", str(CONFIGS / "dcgan_digits.yaml"),
            "--config", str(CONFIGS / "metrics" / "fid_inception.yaml"),
            "--trainer.default_root_dir", str(tmp_path / "runs"), "--trainer.logger", "false",
            "--trainer.enable_progress_bar", "false"]  # fmt: skip
    with pytest.raises(MissingWeightsError) as error:
        main(args)
    message = str(error.value)
    assert WEIGHTS_FILE in message and WEIGHTS_URL in message and WEIGHTS_ENV in message and WEIGHTS_SHA256 in message
    assert not list(tmp_path.rglob("*.ckpt"))  # stopped before training
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "nowhere.pth"))
    with pytest.raises(MissingWeightsError, match=r"nowhere\.pth"):
        main(args)


def test_pix2pix_reports_inception_fid_of_its_outputs_vs_the_targets(
    random_inception_weights: Path, small_inception_input, tmp_path: Path
) -> None:
    logged = _val_metrics(["fit", "--config", str(CONFIGS / "pix2pix_demo.yaml"),
                           "--config", str(CONFIGS / "metrics" / "fid_inception.yaml"),
                           "--model.sample_quality.init_args.features.init_args.weights", str(random_inception_weights),
                           "--model.sample_quality.init_args.features.init_args.check_hash", "false",
                           "--model.sample_quality.init_args.kid_subsets", "2",
                           "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
                           "--data.init_args.num_workers", "0", "--data.init_args.eval_batch_size", "2",
                           "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1",
                           "--trainer.limit_val_batches", "2", "--trainer.num_sanity_val_steps", "1",
                           "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
                           "--trainer.default_root_dir", str(tmp_path)])  # fmt: skip
    assert logged["val/reals_inception"] == 4  # 2 batches of 2 targets; the sanity check's batch is not counted
    assert {"val/fid_inception_4", "val/kid_inception_4", "val/psnr"} <= set(logged)


@pytest.mark.skipif(not os.environ.get(WEIGHTS_ENV), reason=f"set {WEIGHTS_ENV} to the real {WEIGHTS_FILE}")
def test_real_inception_weights_load_and_score() -> None:
    network = load_fid_inception()  # checks the SHA-256
    images = load_digit_images(32)[:8]
    with torch.no_grad():
        features, probabilities = network(images)
    assert features.shape == (8, 2048) and (features >= 0).all()
    torch.testing.assert_close(probabilities.sum(1), torch.ones(8))
    assert frechet_distance(features, features).abs().item() < 1e-6


# ------------------------------------------------------------------------------------------------ real fits
def _val_metrics(args: list[str]) -> dict[str, float]:
    cli = main(args)
    return {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("val/")}


def test_short_fit_lowers_the_digits_fid_below_an_untrained_generators(tmp_path: Path) -> None:
    common = ["--config", str(CONFIGS / "dcgan_digits.yaml"), "--trainer.default_root_dir", str(tmp_path / "runs"),
              "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
              "--trainer.callbacks", "[]", "--trainer.enable_checkpointing", "false",
              "--model.sample_quality.init_args.num_samples", "500",
              # a smaller, faster-learning quickstart: 3 epochs take seconds (the real one: README)
              "--model.generator.init_args.ngf", "16", "--model.discriminator.init_args.ndf", "16",
              "--data.init_args.batch_size", "32",
              "--model.g_optimizer.init_args.lr", "1e-3", "--model.d_optimizer.init_args.lr", "1e-3"]  # fmt: skip
    untrained = _val_metrics(["validate", *common, "--untrained", "true"])
    trained = _val_metrics(["fit", *common, "--trainer.max_epochs", "3", "--trainer.num_sanity_val_steps", "0"])
    assert trained["val/fid_digits_500"] < 0.5 * untrained["val/fid_digits_500"]
    assert trained["val/reals_digits"] == untrained["val/reals_digits"] == 359


def test_the_sweep_optimises_a_metric_its_config_logs(tmp_path: Path) -> None:
    (sweep,) = (CONFIGS / "sweeps").glob("dcgan_digits*.yaml")
    spec = yaml.safe_load(sweep.read_text())
    config = spec["command"][spec["command"].index("--config") + 1]
    logged = _val_metrics(["fit", "--config", config, "--model.generator.init_args.ngf", "8",
                           "--model.discriminator.init_args.ndf", "8", "--trainer.max_epochs", "1",
                           "--trainer.limit_train_batches", "2", "--trainer.num_sanity_val_steps", "0",
                           "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
                           "--trainer.default_root_dir", str(tmp_path)])  # fmt: skip
    assert spec["metric"]["name"] in logged and spec["metric"]["goal"] == "minimize"
    checkpoint = next(c for c in yaml.safe_load((CONFIGS / "dcgan_digits.yaml").read_text())["trainer"]["callbacks"]
                      if c["class_path"].endswith("ModelCheckpoint"))  # fmt: skip
    assert checkpoint["init_args"]["monitor"] == spec["metric"]["name"] and checkpoint["init_args"]["mode"] == "min"


@pytest.mark.slow
def test_two_process_ddp_scores_the_same_samples_as_one_process(tmp_path: Path) -> None:
    """Each rank draws its share of the fixed-noise chunks and sees half the validation batches; the gathered
    features give the numbers one process gets on the same checkpoint (2 ranks x 2 batches of 64 = the first 256
    held-out digits = 4 batches on one process)."""
    import subprocess
    import sys

    tiny = ["--config", str(CONFIGS / "dcgan_digits.yaml"), "--config", str(CONFIGS / "trainer" / "csv.yaml"),
            "--model.generator.init_args.ngf", "8", "--model.discriminator.init_args.ndf", "8",
            "--model.sample_quality.init_args.batch_size", "64",  # 16 noise chunks: 8 per rank
            "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
            "--trainer.num_sanity_val_steps", "0"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "lightning_gan", "fit", *tiny, "--trainer.devices", "2",
         "--trainer.strategy", "ddp_separate", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
         "--trainer.limit_val_batches", "2", "--trainer.default_root_dir", str(tmp_path / "ddp")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (csv,) = (tmp_path / "ddp").rglob("metrics.csv")
    rows = [line.split(",") for line in csv.read_text().splitlines()]
    logged = {k: float(v) for k, v in zip(rows[0], rows[-1], strict=True) if k.startswith("val/") and v}
    (checkpoint,) = (tmp_path / "ddp").rglob("last.ckpt")
    single = _val_metrics(["validate", *tiny, "--trainer.logger", "false", "--trainer.limit_val_batches", "4",
                           "--trainer.default_root_dir", str(tmp_path / "one"),
                           "--ckpt_path", str(checkpoint)])  # fmt: skip
    assert logged["val/reals_digits"] == single["val/reals_digits"] == 256
    for key in ("val/fid_digits_1k", "val/kid_digits_1k", "val/is_digits_1k", "val/class_entropy_digits_1k"):
        assert logged[key] == pytest.approx(single[key], rel=1e-4), key


def test_image_folder_holds_out_a_seeded_validation_split_that_samples_are_scored_against(tmp_path: Path) -> None:
    """DCGAN on a folder of your own images: `val_fraction` holds out files (disjoint, seeded, never flipped), and a
    real fit scores G's fixed-noise samples against them (digit PNGs here, so the shipped digits features apply)."""
    from lightning.pytorch import Trainer

    from lightning_gan.data.image_folder import save_image
    from lightning_gan.data.images import ImageFolderDataModule

    for i, image in enumerate(load_digit_images(32)[:80]):
        save_image(image, tmp_path / "imgs" / f"{i:03d}.png")
    dm = ImageFolderDataModule(str(tmp_path / "imgs"), image_size=32, channels=1, flip=True, batch_size=16,
                               num_workers=0, val_fraction=0.25)  # fmt: skip
    dm.setup("fit")
    assert len(dm.files) == 60 and len(dm.val_files) == 20 and not set(dm.files) & set(dm.val_files)
    again = ImageFolderDataModule(str(tmp_path / "imgs"), num_workers=0, val_fraction=0.25, batch_size=16)
    again.setup("fit")
    assert again.val_files == dm.val_files
    no_split = ImageFolderDataModule(str(tmp_path / "imgs"), num_workers=0, batch_size=16)
    no_split.setup("fit")
    assert len(no_split.files) == 80 and no_split.val_dataloader() == []

    torch.manual_seed(0)
    model = GAN(DCGANGenerator(16, 1, 8, 32), DCGANDiscriminator(1, 8, 32), sample_quality=_quality(num_samples=100))
    trainer = Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)  # fmt: skip
    trainer.fit(model, datamodule=dm)
    assert trainer.callback_metrics["val/reals_digits"] == 20
    assert torch.isfinite(trainer.callback_metrics["val/fid_digits_100"])
