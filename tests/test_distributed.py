"""A real 2-process DDP fit on the CPU (gloo), launched through the CLI in a subprocess, as a user would.

(Inside pytest, Lightning's `ddp` launcher would re-run the pytest command line in the child process; a subprocess
running `python -m lightning_gan` is what users run anyway.)
"""

import subprocess
import sys

import pytest
import torch

from lightning_gan.cli import main
from tests.conftest import ROOT


@pytest.mark.slow
def test_two_process_ddp_fit(tmp_path) -> None:
    root = tmp_path / "runs"
    args = [
        sys.executable, "-m", "lightning_gan", "fit",
        "--config", "tests/configs/toy.yaml",
        "--trainer.devices", "2",
        "--trainer.strategy", "ddp_find_unused_parameters_true",
        "--trainer.default_root_dir", str(root),
        "--trainer.callbacks+=tests.probe.RankProbe",
        "--trainer.callbacks.out_dir", str(tmp_path / "probe"),
    ]  # fmt: skip
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / "probe" / f"rank{r}.pt", weights_only=False) for r in (0, 1)]

    # Both ranks end with bit-identical G, D and EMA weights.
    assert ranks[0]["state"].keys() == ranks[1]["state"].keys()
    for key, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][key]), key
    # ... after the same number of optimizer steps: 32 samples / 2 ranks / batch 4 = 4 batches x 2 steps x 2 epochs.
    assert ranks[0]["global_step"] == ranks[1]["global_step"] == 16
    # Each rank draws different noise.
    assert not torch.equal(ranks[0]["noise"], ranks[1]["noise"])
    # Validation metrics are reduced across ranks: equal on both, and equal to one process scoring the whole set.
    assert ranks[0]["val"] == ranks[1]["val"] and len(ranks[0]["val"]) == 2
    # Only rank 0 writes: one run folder, holding checkpoints, config, samples and logs.
    run_dirs = sorted(p.parent for p in root.rglob("checkpoints"))
    assert len(run_dirs) == 1
    run = run_dirs[0]
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "config.yaml").is_file()
    assert list((run / "samples").glob("*.png")) and (run / "metrics.csv").is_file()
    assert sorted(p.name for p in (root / "csv").iterdir()) == ["version_0"]

    single = main(
        ["validate", "--config", "tests/configs/toy.yaml", "--trainer.default_root_dir", str(tmp_path / "single"),
         "--ckpt_path", str(run / "checkpoints" / "last.ckpt")]
    )  # fmt: skip
    assert float(single.trainer.callback_metrics["val/l1"]) == pytest.approx(ranks[0]["val"][-1]["val/l1"], abs=1e-6)
