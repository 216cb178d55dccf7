"""The pix2pix family end to end through the CLI: the facades config is the reference's recipe and the other
configs differ from it only where their experiment does; a short fit learns; ``predict`` writes one whole-size file
per input; data whose channels do not match the networks stops at setup. Also pix2pix's linear learning-rate decay.

Training runs use the demo config with tiny networks (ngf 4) on a few bundled demo pairs: seconds on a CPU.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image

from lightning_gan.callbacks import PredictionWriter
from lightning_gan.cli import main
from lightning_gan.data.paired_images import PairedImageDataModule
from lightning_gan.objectives import PairedTranslation
from lightning_gan.objectives.losses import NonSaturatingLoss
from lightning_gan.training.schedulers import LinearDecay
from lightning_gan.whole_input.geometry import AtTrainingScale
from tests.conftest import CONFIGS, ROOT
from tests.experiments import EXPERIMENTS as ALL_EXPERIMENTS

DEMO = ROOT / "data" / "pix2pix_demo"
BASE_LR = 2e-4


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run many tiny ops; with 2 OpenMP threads on a busy shared CPU each op can wait a scheduler
    time slice for its second thread (a 4-epoch tiny fit: 26 s with 2 threads, 1.2 s with 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------------- learning-rate decay
def _lr_per_epoch(scheduler: LinearDecay, optimizer: torch.optim.Optimizer, epochs: int) -> list[float]:
    """The rate used in each epoch 1..epochs when the scheduler steps after every epoch, as GAN does."""
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def _adam() -> torch.optim.Optimizer:
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR, betas=(0.5, 0.999))


# docs/references.md ("pix2pix: defaults and schedule"), to 5 significant digits by the reference's own scheduler.
REFERENCE_LR = [(1, 2e-4), (100, 2e-4), (101, 1.9802e-4), (150, 1.0099e-4), (200, 1.98e-6)]


@pytest.mark.parametrize(("epoch", "expected"), REFERENCE_LR)
def test_linear_decay_matches_the_reference_schedule(epoch: int, expected: float) -> None:
    optimizer = _adam()
    rates = _lr_per_epoch(LinearDecay(optimizer, constant_epochs=100, decay_epochs=100), optimizer, 200)
    assert rates[epoch - 1] == pytest.approx(expected, abs=5e-9)  # half a unit of the last printed digit
    # and the exact value: base * (1 - max(0, e + 1 - 100) / 101) with e = epoch - 1
    assert rates[epoch - 1] == pytest.approx(BASE_LR * (1 - max(0, epoch - 100) / 101), rel=1e-12)


def test_linear_decay_ends_at_zero_never_below_and_resumes_exactly() -> None:
    optimizer = _adam()
    scheduler = LinearDecay(optimizer, constant_epochs=3, decay_epochs=2)
    rates = _lr_per_epoch(scheduler, optimizer, 8)
    assert rates == pytest.approx([BASE_LR] * 3 + [BASE_LR * 2 / 3, BASE_LR / 3] + [0.0] * 3, abs=1e-15)

    first = _adam()
    interrupted = LinearDecay(first, constant_epochs=3, decay_epochs=2)
    _lr_per_epoch(interrupted, first, 4)
    second = _adam()  # a fresh run loading the state after epoch 4, as a resumed Lightning run does
    resumed = LinearDecay(second, constant_epochs=3, decay_epochs=2)
    resumed.load_state_dict(interrupted.state_dict())
    second.param_groups[0]["lr"] = resumed.get_last_lr()[0]  # Lightning restores the optimizer state too
    assert _lr_per_epoch(resumed, second, 4) == pytest.approx(rates[4:], abs=1e-15)


@pytest.mark.parametrize("kwargs", [{"constant_epochs": -1}, {"decay_epochs": -5}])
def test_linear_decay_rejects_negative_epochs(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        LinearDecay(_adam(), **kwargs)


# ---------------------------------------------------------------------------------------------------- the configs
def test_facades_config_is_the_reference_recipe() -> None:
    cli = main(ALL_EXPERIMENTS["pix2pix_facades"].config_args(), run=False)
    model, data, trainer = cli.model, cli.datamodule, cli.trainer

    # Networks: unet_256 and the 70x70 PatchGAN, parameter counts as the reference's (docs/references.md).
    assert sum(p.numel() for p in model.generator.parameters()) == 54_413_955
    assert sum(p.numel() for p in model.discriminator.parameters()) == 2_768_705
    assert model.discriminator.receptive_field == 70
    assert any(isinstance(m, torch.nn.Dropout) for m in model.generator.modules())
    # Objective and update rule (sections 4-5).
    assert isinstance(model.objective, PairedTranslation) and isinstance(model.objective.loss, NonSaturatingLoss)
    assert model.objective.reconstruction_weight == 100
    assert model.objective.discriminator_loss_weight == 0.5
    assert model.hparams.n_critic == 1
    # Optimizers and schedule (section 6): two Adams at 2e-4, betas (0.5, 0.999), 100 + 100 epochs linear decay.
    for build, net in ((model.g_optimizer, model.generator), (model.d_optimizer, model.discriminator)):
        optimizer = build(net.parameters())
        assert isinstance(optimizer, torch.optim.Adam)
        assert optimizer.defaults["lr"] == BASE_LR and optimizer.defaults["betas"] == (0.5, 0.999)
    for build in (model.g_scheduler, model.d_scheduler):
        scheduler = build(_adam())
        assert isinstance(scheduler, LinearDecay)
        assert (scheduler.constant_epochs, scheduler.decay_epochs) == (100, 100)
    assert model.hparams.scheduler_interval == "epoch"
    assert trainer.max_epochs == 200
    # Data (sections 6-7): facades labels -> photo, batch 1, resize 286, random 256 crop, flip.
    assert isinstance(data, PairedImageDataModule)
    assert data.direction == "BtoA" and data.batch_size == 1
    assert (data.load_size, data.crop_size, data.flip) == (286, 256, True)
    assert str(data.root) == "datasets/facades"
    # Whole-image inference and model selection.
    assert isinstance(model.inference, AtTrainingScale) and data.geometry.preprocess == "resize_and_crop"
    # Realism (SWD, Karras et al. 2018, appendix D) chooses the best checkpoint; L1/PSNR/SSIM are secondary (#29).
    assert set(model.val_metrics.keys()) == {"val/l1", "val/psnr", "val/ssim", "val/swd_lap4_7x7"}
    assert model.val_metrics["val/psnr"].data_range == 2.0
    best, latest = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]
    assert (best.monitor, best.mode, best.save_top_k) == ("val/swd_lap4_7x7", "min", 1)
    assert (latest.monitor, latest.save_last) == (None, "link")  # last.ckpt follows every epoch, not only the best
    assert len([c for c in trainer.callbacks if isinstance(c, PredictionWriter)]) == 1  # the CLI's, no duplicate


# ------------------------------------------------------------------------------------------ runs through the CLI
def _tiny(tmp_path: Path, *extra: str, ngf: int = 4) -> list[str]:
    """The demo config with small networks and no logger, writing into tmp_path; `extra` overrides come last."""
    return [
        "--config", str(CONFIGS / "pix2pix_demo.yaml"),
        "--model.generator.init_args.ngf", str(ngf),
        "--model.discriminator.init_args.ndf", "4",
        "--trainer.default_root_dir", str(tmp_path / "run"),
        "--trainer.logger", "false",
        "--trainer.accelerator", "cpu",
        "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false",
        "--trainer.num_sanity_val_steps", "0",
        "--data.init_args.num_workers", "0",
        *extra,
    ]  # fmt: skip


def _copy_pairs(src: Path, dst: Path, count: int) -> None:
    dst.mkdir(parents=True)
    for path in sorted(src.glob("*.png"))[:count]:
        shutil.copy(path, dst / path.name)


def test_short_fit_lowers_validation_l1_and_decays_the_learning_rate(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    _copy_pairs(DEMO / "train", root / "train", 8)
    _copy_pairs(DEMO / "val", root / "val", 4)
    lr = 2e-3  # 10x the reference's, so that 40 steps (20 epochs of 2 batches) are enough
    overrides = ["--data.init_args.root", str(root), "--data.init_args.batch_size", "4"]
    for net in ("g", "d"):
        overrides += [f"--model.{net}_optimizer.init_args.lr", str(lr)]
        overrides += [f"--model.{net}_scheduler.init_args.constant_epochs", "10"]
        overrides += [f"--model.{net}_scheduler.init_args.decay_epochs", "10"]

    untrained = main(["validate", "--untrained", "true", *_tiny(tmp_path / "untrained", *overrides, ngf=8)])
    before = float(untrained.trainer.callback_metrics["val/l1"])
    trained = main(["fit", *_tiny(tmp_path / "trained", *overrides, "--trainer.max_epochs", "20", ngf=8)])
    after = float(trained.trainer.callback_metrics["val/l1"])

    assert before > 0.3  # an untrained generator is no better than mid-grey (0.33 on these pairs)
    assert after < 0.6 * before, (before, after)
    # The last epoch (e = 19) ran at lr * (1 - 10/11): the decay is wired through the GAN's epoch-end step.
    for net in ("G", "D"):
        assert float(trained.trainer.callback_metrics[f"train/lr_{net}"]) == pytest.approx(lr / 11, rel=1e-6)


def _write_image(path: Path, width: int, height: int, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def test_predict_writes_one_whole_size_file_per_input(tmp_path: Path) -> None:
    train = [
        "--data.init_args.root", str(DEMO),
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "1",
        "--trainer.limit_val_batches", "1",
    ]  # fmt: skip
    main(["fit", *_tiny(tmp_path, *train)])
    (checkpoint,) = (tmp_path / "run").glob("*/checkpoints/last.ckpt")  # the run's own folder

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    sizes = {"square.png": (64, 64), "odd.png": (70, 50), "wide.jpg": (131, 67)}  # (width, height)
    for seed, (name, (width, height)) in enumerate(sizes.items()):
        _write_image(inputs / name, width, height, seed)

    predict = ["predict", *_tiny(tmp_path, "--ckpt_path", str(checkpoint), "--data.init_args.predict_dir", str(inputs))]
    main(predict)
    main([*predict, "--prediction_writer.output_dir", str(tmp_path / "elsewhere")])

    # The default stays with the run (<run>/predictions/<input folder name>), then the override.
    for written in (checkpoint.parent.parent / "predictions" / "inputs", tmp_path / "elsewhere"):
        assert sorted(p.name for p in written.iterdir()) == sorted(sizes)
        for name, size in sizes.items():
            with Image.open(written / name) as image:
                assert image.size == size and image.mode == "RGB"


def test_data_channels_that_do_not_match_the_networks_fail_at_setup_naming_both(tmp_path: Path) -> None:
    args = _tiny(tmp_path, "--data.init_args.channels_a", "1", "--model.generator.init_args.in_channels", "3")
    with pytest.raises(ValueError, match=r"condition_channels = 1 .* generator\.in_channels = 3"):
        main(["fit", *args, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1"])
    assert not list((tmp_path / "run").rglob("*.ckpt"))  # stopped before any training step
