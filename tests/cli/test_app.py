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
from tests.experiments import EXPERIMENTS as REGISTRY
from tests.experiments import NAMES as EXPERIMENTS
from tests.experiments import (
    SEGAN_SMALL as SEGAN_SMALL,  # re-exported: tests/training/test_resume.py imports it from here
)

PIECES = sorted((CONFIGS / "trainer").glob("*.yaml"))

# Per experiment (tests/experiments.py): overrides that make one real epoch take seconds on a CPU.
TINY = {name: list(experiment.tiny) for name, experiment in REGISTRY.items()}


def config_args(experiment: str | Path) -> list[str]:
    """An experiment's ``--config`` files and tiny overrides; a path: that one config file and the tiny overrides of
    the experiment of its name, if any."""
    if isinstance(experiment, Path):
        return ["--config", str(experiment), *TINY.get(experiment.stem, [])]
    return [*REGISTRY[experiment].config_args(), *TINY[experiment]]


def tiny_args(experiment: str | Path, tmp_path: Path) -> list[str]:
    return [
        *config_args(experiment),
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


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_config_parses(experiment: str, capsys) -> None:
    configs = REGISTRY[experiment].config_args()
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *configs, "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert "${" not in str(printed)  # every interpolation resolved
    cli = main(configs, run=False)
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


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_config_fits_and_writes_a_checkpoint(experiment: str, tmp_path: Path) -> None:
    main(["fit", *tiny_args(experiment, tmp_path)])
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
