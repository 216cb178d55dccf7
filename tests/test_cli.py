"""The command line: every config parses, every experiment config trains through the CLI, errors are readable,
configs and checkpoints land in the run folder, and checkpoints load with no arguments."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lightning_gan.cli import main
from lightning_gan.gan import GAN
from tests.conftest import CONFIGS, ROOT

EXPERIMENTS = sorted(p for p in CONFIGS.glob("*.yaml"))
PIECES = sorted((CONFIGS / "trainer").glob("*.yaml"))

# Per experiment config: overrides that make one real epoch take seconds on a CPU (same code path, tiny sizes).
PIX2PIX_ON_DEMO = [  # the 256-px recipes on the bundled 64-px demo pairs, tiny widths
    "--data.init_args.root", "data/pix2pix_demo",
    "--data.init_args.load_size", "72", "--data.init_args.crop_size", "64",
    "--model.generator.init_args.num_downs", "6", "--model.generator.init_args.ngf", "4",
    "--model.discriminator.init_args.ndf", "4",
    "--data.init_args.num_workers", "0",
]  # fmt: skip
SEGAN_SMALL = [  # 4 layers of <= 32 maps on 2048-sample windows (a multiple of 2**4; the STFT loss needs > 1024)
    "--model.generator.init_args.channels", "[8, 16, 16, 32]",
    "--model.discriminator.init_args.channels", "[8, 16, 16, 32]",
    "--data.init_args.window", "2048", "--data.init_args.hop", "1024",
    "--data.init_args.batch_size", "8", "--data.init_args.num_workers", "0",
]  # fmt: skip
TINY = {
    "segan_demo": SEGAN_SMALL,
    "segan_voicebank": ["--data.init_args.root", "data/speech_demo", "--data.init_args.val_speakers", "[p005]",
                        *SEGAN_SMALL],
    "dcgan_digits": ["--model.generator.init_args.ngf", "8", "--model.discriminator.init_args.ndf", "8"],
    "dcgan_digits_cond": ["--model.generator.init_args.ngf", "8", "--model.discriminator.init_args.ndf", "8"],
    "dcgan_folder": ["--data.init_args.root", "data/pix2pix_demo/train", "--data.init_args.image_size", "16",
                     "--data.init_args.batch_size", "4", "--data.init_args.num_workers", "0",
                     "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4"],
    "pix2pix_demo": ["--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
                     "--data.init_args.num_workers", "0"],
    "pix2pix_cpu": PIX2PIX_ON_DEMO,
    **{f"pix2pix_{name}": PIX2PIX_ON_DEMO for name in ("facades", "edges2shoes", "maps", "cityscapes")},
}  # fmt: skip


def tiny_args(config: Path, tmp_path: Path) -> list[str]:
    return [
        "--config",
        str(config),
        *TINY.get(config.stem, []),
        "--trainer.default_root_dir",
        str(tmp_path / "runs"),
        "--trainer.max_epochs",
        "1",
        "--trainer.limit_train_batches",
        "2",
        "--trainer.limit_val_batches",
        "1",
        "--trainer.num_sanity_val_steps",
        "0",
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.accelerator",
        "cpu",
    ]


def run_dirs(tmp_path: Path) -> list[Path]:
    return sorted(p.parent.parent for p in (tmp_path / "runs").rglob("checkpoints/last.ckpt"))


@pytest.mark.parametrize("config", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_experiment_config_parses(config: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(config), "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert "${" not in str(printed)  # every interpolation resolved
    cli = main(["--config", str(config)], run=False)
    assert isinstance(cli.model, GAN)


@pytest.mark.parametrize("piece", PIECES, ids=lambda p: p.stem)
def test_every_trainer_piece_composes_with_an_experiment(piece: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(CONFIGS / "dcgan_digits.yaml"), "--config", str(piece), "--print_config"])
    assert exit_info.value.code in (0, None)


def test_interpolation_follows_command_line_overrides() -> None:
    cli = main(["--config", str(CONFIGS / "dcgan_digits.yaml"), "--data.init_args.image_size", "16"], run=False)
    assert cli.model.discriminator.image_size == 16
    assert cli.model.generator(torch.randn(1, 100, 1, 1)).shape[-1] == 16


@pytest.mark.parametrize("config", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_experiment_config_fits_and_writes_a_checkpoint(config: Path, tmp_path: Path) -> None:
    main(["fit", *tiny_args(config, tmp_path)])
    (run,) = run_dirs(tmp_path)
    assert (run / "config.yaml").is_file()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["trainer"]["max_epochs"] == 1 and "${" not in str(saved)
    model = GAN.load_from_checkpoint(run / "checkpoints" / "last.ckpt")  # no arguments needed
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, checkpoint["state_dict"][key])


def test_second_run_does_not_trip_over_the_first_ones_config(tmp_path: Path) -> None:
    config = CONFIGS / "dcgan_digits.yaml"
    for _ in range(2):
        main(["fit", *tiny_args(config, tmp_path)])
    runs = run_dirs(tmp_path)
    assert len(runs) == 2 and all((r / "config.yaml").is_file() for r in runs)
    assert all(list((r / "samples").glob("*.png")) for r in runs)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lightning_gan", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--config", "configs/no_such_file.yaml"], "no_such_file.yaml"),
        (["--config", "configs/dcgan_digits.yaml", "--model.generator.init_args.ngff", "8"], "ngff"),
        (
            [
                "--config",
                "configs/dcgan_digits.yaml",
                "--model.objective.init_args.loss",
                "lightning_gan.objectives.NoSuchLoss",
            ],
            "NoSuchLoss",
        ),
        (
            ["--config", "configs/dcgan_digits.yaml", "--model.loss", "lightning_gan.objectives.HingeLoss"],
            "--model.loss moved to --model.objective.init_args.loss",
        ),
        (
            [
                "--config",
                "configs/dcgan_digits.yaml",
                "--model.objective.init_args.loss",
                "lightning_gan.losses.HingeLoss",
            ],
            "lightning_gan.losses.HingeLoss moved to lightning_gan.objectives.HingeLoss",
        ),
    ],
    ids=["missing_file", "misspelt_key", "unknown_class", "moved_key", "moved_class_path"],
)
def test_bad_input_exits_non_zero_naming_the_problem(args: list[str], expected: str) -> None:
    result = run_cli("fit", *args)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_writes_one_image_per_requested_sample(tmp_path: Path) -> None:
    config = CONFIGS / "dcgan_digits.yaml"
    main(["fit", *tiny_args(config, tmp_path)])
    (run,) = run_dirs(tmp_path)
    out = tmp_path / "generated"
    ckpt = str(run / "checkpoints" / "last.ckpt")
    main(["predict", "--config", str(config), *TINY["dcgan_digits"], "--ckpt_path", ckpt,
          "--data.init_args.num_predict", "10", "--prediction_writer.output_dir", str(out),
          "--trainer.default_root_dir", str(tmp_path / "runs")])  # fmt: skip
    written = sorted(p.name for p in out.iterdir())
    assert written == [f"sample_{i:05d}.png" for i in range(10)]
