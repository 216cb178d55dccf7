"""Real logger runs: W&B offline (no account), TensorBoard and CSV by config; sweep definitions call our CLI."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lightning_gan.cli import main
from tests.conftest import CONFIGS, ROOT

TINY_DIGITS = [
    "--config", str(CONFIGS / "dcgan_digits.yaml"),
    "--model.generator.init_args.ngf", "8", "--model.discriminator.init_args.ndf", "8",
    "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "3", "--trainer.enable_progress_bar", "false",
    "--trainer.log_every_n_steps", "1",
]  # fmt: skip


def test_wandb_offline_run_without_an_account(tmp_path: Path) -> None:
    """Run as a user would (a subprocess, no API key, no WANDB_MODE): the run goes offline by itself, never prompts,
    says how to sync, and writes history, config and media into its run folder; asked to, it logs the checkpoints
    as a model artifact (staged byte for byte, uploaded by `wandb sync`)."""
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("WANDB_")}
    env.update({k: str(tmp_path / k.lower()) for k in ("WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR")})
    env["HOME"] = str(tmp_path / "home")  # no ~/.netrc credentials
    args = [
        sys.executable,
        "-m",
        "lightning_gan",
        "fit",
        *TINY_DIGITS,
        "--trainer.default_root_dir",
        str(tmp_path / "runs"),
        "--trainer.logger.init_args.log_model",
        "true",
    ]
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "logging offline" in output and "wandb sync" in output
    (run_dir,) = (tmp_path / "runs" / "wandb").glob("offline-run-*")
    (history,) = run_dir.glob("run-*.wandb")
    records = history.read_bytes()
    for needle in (b"train/discrim_loss", b"train/gen_loss_GAN", b"Synthesis", b"DCGANGenerator"):
        assert needle in records, needle  # history and the resolved config are in the run file
    assert len(list((run_dir / "files" / "media" / "images").glob("samples_*.png"))) == 2  # one grid per epoch

    run_id = run_dir.name.rsplit("-", 1)[1]
    (checkpoint,) = (tmp_path / "runs").rglob("epoch=*.ckpt")
    assert f"model-{run_id}".encode() in records and checkpoint.name.encode() in records
    staged = {p.read_bytes() for p in (tmp_path / "wandb_data_dir" / "artifacts" / "staging").iterdir()}
    # the latest checkpoint and the best by val/fid_digits_1k (two callbacks), each staged byte for byte
    assert checkpoint.read_bytes() in staged
    assert staged <= {c.read_bytes() for c in (tmp_path / "runs").rglob("*.ckpt") if c.name != "last.ckpt"}


@pytest.mark.parametrize(("piece", "artifact"), [("tensorboard", "events.out.tfevents.*"), ("csv", "metrics.csv")])
def test_other_loggers_by_config(tmp_path: Path, piece: str, artifact: str) -> None:
    main(["fit", *TINY_DIGITS, "--config", str(CONFIGS / "trainer" / f"{piece}.yaml"),
          "--trainer.default_root_dir", str(tmp_path)])  # fmt: skip
    (found,) = tmp_path.rglob(artifact)
    if piece == "csv":
        header = found.read_text().splitlines()[0]
        assert "train/discrim_loss" in header and "train/gen_loss_GAN" in header
    assert list(found.parent.rglob("samples/epoch_0001.png"))


@pytest.mark.parametrize("sweep", sorted((CONFIGS / "sweeps").glob("*.yaml")), ids=lambda p: p.stem)
def test_sweep_definitions_call_the_cli_correctly(sweep: Path, capsys) -> None:
    spec = yaml.safe_load(sweep.read_text())
    command = spec["command"]
    assert command[:5] == ["${env}", "${interpreter}", "-m", "lightning_gan", "fit"]
    assert command.index("--config") < command.index("${args}")  # the sweep's values must win
    config = command[command.index("--config") + 1]
    # What the agent runs: the config, then each swept parameter as --key=value.
    args = ["fit", "--config", config]
    for key, values in spec["parameters"].items():
        value = values["values"][0] if "values" in values else values["min"]
        args.append(f"--{key}={value}")
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    for key, values in spec["parameters"].items():
        node = printed
        for part in key.split("."):
            node = node[part]
        expected = values["values"][0] if "values" in values else values["min"]
        assert node == expected or node.get("class_path") == expected
