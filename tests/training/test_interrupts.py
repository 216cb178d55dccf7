"""Interrupted and resumed runs keep one consistent history: the step axis, the training rows and the validated epochs
of a run stopped eight times (Ctrl-C and SIGTERM at every kind of moment) equal those of the uninterrupted run; a
relative run folder keeps resuming into ``last.ckpt``; resuming from an older checkpoint starts a branch and leaves
the run as it was."""

import csv
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lightning_gan.cli import main
from tests.conftest import ROOT

TOY = str(ROOT / "tests" / "configs" / "toy.yaml")
EPOCHS = 6  # 8 batches of 2 optimizer steps each
# (signal, moment, epoch, batch): in time order, each leg resumes from the previous leg's last.ckpt.
MOMENTS = [
    (signal.SIGINT, "between_d_and_g", 0, 3),
    (signal.SIGTERM, "batch_end", 0, 5),
    (signal.SIGINT, "before_validation", 0, 0),
    (signal.SIGTERM, "mid_validation", 1, 0),
    (signal.SIGTERM, "between_d_and_g", 2, 0),
    (signal.SIGINT, "batch_end", 2, 7),  # the epoch's last batch
    (signal.SIGTERM, "before_validation", 3, 0),
    (signal.SIGINT, "mid_validation", 4, 0),
]


def _fit_process(root: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "lightning_gan", "fit", "--config", TOY, "--trainer.default_root_dir", str(root),
            "--trainer.max_epochs", str(EPOCHS), *extra]  # fmt: skip
    # A terminal hands Ctrl-C to a process whose SIGINT has the default disposition (a background shell would not).
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


def _history(root: Path) -> dict:
    (metrics,) = root.glob("csv/version_*/metrics.csv")
    with metrics.open(newline="") as f:
        rows = list(csv.DictReader(f))
    last = torch.load(metrics.parent / "checkpoints" / "last.ckpt", weights_only=True)
    return {
        "global_step": last["global_step"],
        "train_steps": [int(r["step"]) for r in rows if r["train/d_real"]],
        "validated_epochs": [int(r["epoch"]) for r in rows if r["val/l1"]],
    }


@pytest.mark.slow
def test_eight_interrupts_leave_the_history_of_an_uninterrupted_run(tmp_path) -> None:
    straight = _fit_process(tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr[-3000:]
    root = tmp_path / "interrupted"
    for signum, moment, epoch, batch in MOMENTS:
        resume = [f"--ckpt_path={p}" for p in root.glob("csv/version_*/checkpoints/last.ckpt")]
        leg = _fit_process(
            root, *resume, "--trainer.callbacks+=tests.probe.InterruptAt", "--trainer.callbacks.signum",
            str(int(signum)), "--trainer.callbacks.where", moment, "--trainer.callbacks.epoch", str(epoch),
            "--trainer.callbacks.batch", str(batch),
        )  # fmt: skip
        output = leg.stdout + leg.stderr
        assert f"interrupting ({moment})" in output, output[-3000:]
        assert leg.returncode == 128 + signum, output[-3000:]  # stopped by the signal, as a killed process reports
    (last,) = root.glob("csv/version_*/checkpoints/last.ckpt")
    final = _fit_process(root, f"--ckpt_path={last}")
    assert final.returncode == 0, final.stderr[-3000:]
    expected, got = _history(tmp_path / "straight"), _history(root)
    assert got["global_step"] == expected["global_step"] == EPOCHS * 8 * 2  # no D step without its G step
    assert got["train_steps"] == expected["train_steps"] == list(range(EPOCHS * 8))  # no gap, no duplicate
    assert got["validated_epochs"] == expected["validated_epochs"] == list(range(EPOCHS))


def test_a_relative_run_folder_keeps_resuming_into_last_ckpt(tmp_path, monkeypatch) -> None:
    """The shipped configs' `runs/<name>` is relative: every leg must update last.ckpt itself (Lightning compares
    the saved and the current dirpath as strings, and wrote last-v1.ckpt beside a stale last.ckpt)."""
    monkeypatch.chdir(tmp_path)
    base = ["fit", "--config", TOY, "--trainer.default_root_dir", "runs/toy"]
    main([*base, "--trainer.max_epochs", "1"])
    checkpoints = Path("runs/toy/csv/version_0/checkpoints")
    main([*base, "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoints / "last.ckpt")])
    main([*base, "--trainer.max_epochs", "3", "--ckpt_path", str(checkpoints / "last.ckpt")])
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch=2-step=48.ckpt", "last.ckpt"]
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == 3 * 8 * 2


def test_resuming_an_older_checkpoint_starts_a_branch_and_leaves_the_run_alone(tmp_path) -> None:
    base = ["fit", "--config", TOY, "--trainer.default_root_dir", str(tmp_path)]
    main([*base, "--trainer.max_epochs", "1"])
    run = tmp_path / "csv" / "version_0"
    older = run / "checkpoints" / "kept-epoch0.ckpt"
    older.write_bytes((run / "checkpoints" / "last.ckpt").read_bytes())
    main([*base, "--trainer.max_epochs", "2", "--ckpt_path", str(run / "checkpoints" / "last.ckpt")])
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}

    with pytest.warns(UserWarning, match=r"at global step 16, but run version_0 went on to step 32 .* new branch in"):
        main([*base, "--trainer.max_epochs", "3", "--ckpt_path", str(older)])

    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before  # the run is as it was
    branch = tmp_path / "csv" / "version_0-from-step16"
    with (branch / "metrics.csv").open(newline="") as f:
        steps = [int(r["step"]) for r in csv.DictReader(f) if r["train/d_real"]]
    assert steps == list(range(8, 24))  # epochs 1 and 2 of the branch: its own history from the checkpoint on
    last = torch.load(branch / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 3 * 8 * 2
    assert last["lightning_gan_run"]["run_id"] == "version_0-from-step16"


def test_a_moved_run_folder_keeps_resuming_into_last_ckpt(tmp_path) -> None:
    """The checkpoint callbacks' saved state names the folder the run had; resuming after a move rewrites it, so
    last.ckpt and the top-k bookkeeping continue instead of starting over beside them."""
    main(["fit", "--config", TOY, "--trainer.default_root_dir", str(tmp_path / "a"), "--trainer.max_epochs", "1"])
    (tmp_path / "a").rename(tmp_path / "b")
    checkpoints = tmp_path / "b" / "csv" / "version_0" / "checkpoints"
    main(["fit", "--config", TOY, "--trainer.default_root_dir", str(tmp_path / "b"), "--trainer.max_epochs", "2",
          "--ckpt_path", str(checkpoints / "last.ckpt")])  # fmt: skip
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch=1-step=32.ckpt", "last.ckpt"]
