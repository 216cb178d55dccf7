"""Shared test setup: W&B offline and confined to the test's temp dir; helpers to run the CLI."""

import os
from pathlib import Path

import pytest
import torch

# One intra-op thread for the in-process runs and every subprocess they start: the nets here are tiny, and on a
# shared 2-core machine OpenMP threads waiting on each other made a tiny fit ~20x slower (26 s vs 1.2 s).
os.environ["OMP_NUM_THREADS"] = "1"
# The suite's toy networks and data (tests.toy, tests.probe) are named in its checkpoints: trust them, as a user trusts
# their own modules (docs/security.md). Subprocesses inherit it.
os.environ.setdefault("LIGHTNING_GAN_TRUSTED_MODULES", "tests")
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path, monkeypatch):
    """Never reach the network or write W&B files outside the test (W&B also writes under ~/.cache, ~/.config)."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
        folder = tmp_path / "_wandb" / var.lower()
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(folder))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.chdir(ROOT)


def console_error(args: list[str], capsys: pytest.CaptureFixture) -> str:
    """Run ``args`` as the ``lightning_gan`` console script does and return its one error line, without the
    ``lightning_gan[ export]: error: `` prefix; fails unless it exits with status 2, no traceback and one such line."""
    from lightning_gan.cli import console

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        console(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    assert line.startswith(("lightning_gan: error: ", "lightning_gan export: error: ")), line
    return line.split("error: ", 1)[1]
