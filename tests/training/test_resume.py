"""Checkpoints and resume: exact continuation, command-line values winning over the checkpoint's, atomic writes,
and a complete checkpoint left by SIGTERM / Ctrl-C during a real run."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lightning_gan.checkpoints.atomic import atomic_torch_save
from lightning_gan.cli import main
from tests.conftest import ROOT

TOY = "tests/configs/toy.yaml"


def fit(root: Path, *extra: str):
    return main(["fit", "--config", TOY, "--trainer.default_root_dir", str(root), *extra])


def last_checkpoint(root: Path, version: int = 0) -> Path:
    return root / "csv" / f"version_{version}" / "checkpoints" / "last.ckpt"


def assert_same_training_state(a: dict, b: dict) -> None:
    assert a["global_step"] == b["global_step"] and a["epoch"] == b["epoch"]
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        assert opt_a["param_groups"] == opt_b["param_groups"]
        for index, state in opt_a["state"].items():
            for name, value in state.items():
                assert torch.equal(value, opt_b["state"][index][name]), (index, name)
    assert a["lr_schedulers"] == b["lr_schedulers"]


def test_resume_continues_the_same_run_bit_for_bit(tmp_path) -> None:
    """4 epochs in one run == 2 epochs, then resume from last.ckpt for 2 more: same weights (G, D, EMA), same
    optimizer and scheduler states, same counters. Exact because each epoch's randomness is seeded from (seed, rank,
    epoch) and the checkpoint is taken at an epoch boundary."""
    fit(tmp_path / "straight", "--trainer.max_epochs", "4")
    fit(tmp_path / "resumed", "--trainer.max_epochs", "2")
    fit(tmp_path / "resumed", "--trainer.max_epochs", "4", "--ckpt_path", str(last_checkpoint(tmp_path / "resumed")))
    straight = torch.load(last_checkpoint(tmp_path / "straight"), weights_only=False)
    resumed = torch.load(last_checkpoint(tmp_path / "resumed"), weights_only=False)  # the same run folder
    assert straight["global_step"] == 4 * 8 * 2
    assert any(k.startswith("generator_ema.") for k in straight["state_dict"])
    assert_same_training_state(straight, resumed)


def test_command_line_values_win_over_the_checkpoint_on_resume(tmp_path) -> None:
    fit(tmp_path / "a", "--trainer.max_epochs", "1")
    cli = fit(
        tmp_path / "a",
        "--trainer.max_epochs", "2",
        "--ckpt_path", str(last_checkpoint(tmp_path / "a")),
        "--model.objective.init_args.reconstruction_weight", "3.0",
        "--model.g_optimizer.init_args.lr", "0.5",
    )  # fmt: skip
    assert cli.model.objective.reconstruction_weight == 3.0
    # lr 0.5 from the command line (not the checkpoint's 0.005), halved once by StepLR at the end of epoch 2.
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.25)
    assert cli.trainer.optimizers[1].param_groups[0]["lr"] == pytest.approx(0.01)  # D: not given, restored
    # Values not given on the command line come from the checkpoint, so the architecture matches the weights.
    assert cli.trainer.global_step == 2 * 8 * 2


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch) -> None:
    path = tmp_path / "checkpoints" / "last.ckpt"
    atomic_torch_save({"step": 1}, path)

    def crash_midway(obj, f):
        f.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        atomic_torch_save({"step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path) == {"step": 1}  # the old checkpoint is intact
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # and no temporary file is left behind


def test_cli_installs_the_atomic_writer(tmp_path) -> None:
    cli = main(["--config", TOY, "--trainer.default_root_dir", str(tmp_path)], run=False)
    from lightning_gan.checkpoints.atomic import AtomicCheckpointIO

    assert isinstance(cli.trainer.strategy.checkpoint_io, AtomicCheckpointIO)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_signal_during_fit_leaves_a_complete_resumable_checkpoint(tmp_path, signum: int) -> None:
    """SIGTERM or Ctrl-C in the middle of epoch 1 (8 batches x 2 optimizer steps in epoch 0, then 3 batches:
    global step 22): the run stops, and the signal itself writes a complete last.ckpt at exactly that step, which
    resumes."""
    root = tmp_path / "runs"
    args = [
        sys.executable, "-m", "lightning_gan", "fit", "--config", TOY, "--trainer.default_root_dir", str(root),
        "--trainer.max_epochs", "100",
        "--trainer.callbacks+=tests.probe.SignalAt",
        "--trainer.callbacks.signum", str(int(signum)),
        "--trainer.callbacks.epoch", "1",
        "--trainer.callbacks.batch", "2",
    ]  # fmt: skip
    # Ctrl-C in a terminal reaches a process whose SIGINT has the default disposition; a shell that starts the suite
    # in the background without job control hands SIGINT down as ignored, which would make the run ignore it too.
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=_default_sigint)
    output = result.stdout + result.stderr
    assert "signalling at global step 22" in output, output[-3000:]
    assert result.returncode == 128 + signum  # stopped by it, as a process the signal killed reports
    assert "was raised" in output and "saved checkpoint to" in output, output[-3000:]
    checkpoints = root / "csv" / "version_0" / "checkpoints"
    assert not list(checkpoints.glob(".*tmp")), "a temporary checkpoint file was left behind"
    checkpoint = torch.load(checkpoints / "last.ckpt", weights_only=False)
    interrupted_at = checkpoint["global_step"]
    assert interrupted_at == 22  # nothing trained after the last checkpoint is lost
    # Resuming from it continues the run.
    resume = ["--trainer.max_epochs", str(checkpoint["epoch"] + 2), "--ckpt_path", str(checkpoints / "last.ckpt")]
    cli = main(["fit", "--config", TOY, "--trainer.default_root_dir", str(tmp_path / "resume"), *resume])
    assert cli.trainer.global_step > interrupted_at


def test_segan_with_window_augment_resumes_bit_for_bit(tmp_path) -> None:
    """The shipped SEGAN demo (random window starts and remixed noise: lightning_gan.data.speech_augment) should
    continue a resumed run exactly as an uninterrupted one: 2 epochs == 1 epoch + resume for 1 more."""
    from tests.cli.test_app import SEGAN_SMALL

    def segan(root: Path, *extra: str) -> None:
        main([
            "fit", "--config", "configs/segan_demo.yaml", "--config", "configs/trainer/csv.yaml", *SEGAN_SMALL,
            "--trainer.default_root_dir", str(root), "--trainer.limit_train_batches", "3",
            "--trainer.limit_val_batches", "1", "--trainer.check_val_every_n_epoch", "1",
            "--trainer.enable_progress_bar", "false", *extra,
        ])  # fmt: skip

    segan(tmp_path / "straight", "--trainer.max_epochs", "2")
    # Stopped by max_steps, not by a smaller max_epochs: the demo's cosine schedule takes T_max from
    # trainer.max_epochs, and a resumed scheduler keeps the T_max it was built with.
    segan(tmp_path / "resumed", "--trainer.max_epochs", "2", "--trainer.max_steps", str(2 * 3))
    segan(tmp_path / "resumed", "--trainer.max_epochs", "2", "--ckpt_path", str(last_checkpoint(tmp_path / "resumed")))
    straight = torch.load(last_checkpoint(tmp_path / "straight"), weights_only=False)
    resumed = torch.load(last_checkpoint(tmp_path / "resumed"), weights_only=False)
    assert straight["datamodule_hyper_parameters"]["window_augment"] is not None  # the config's augmentation is on
    assert straight["global_step"] == 2 * 3 * 2
    assert_same_training_state(straight, resumed)
