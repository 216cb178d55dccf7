"""A real 2-process DDP fit on the CPU (gloo), launched through the CLI in a subprocess, as a user would.

(Inside pytest, Lightning's `ddp` launcher would re-run the pytest command line in the child process; a subprocess
running `python -m lightning_gan` is what users run anyway.)
"""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from lightning_gan.cli import console, main
from lightning_gan.training.ddp import gan_strategy
from tests.conftest import ROOT

STRATEGIES = ("ddp_find_unused_parameters_true", "ddp_separate")


def ddp_fit(tmp_path: Path, strategy: str, *extra: str) -> list[dict]:
    """A 2-process CPU fit of the toy config through the CLI; returns each rank's RankProbe record."""
    args = [
        sys.executable, "-m", "lightning_gan", "fit",
        "--config", "tests/configs/toy.yaml",
        "--trainer.devices", "2",
        "--trainer.strategy", strategy,
        "--trainer.default_root_dir", str(tmp_path / "runs"),
        "--trainer.callbacks+=tests.probe.RankProbe",
        "--trainer.callbacks.out_dir", str(tmp_path / "probe"),
        *extra,
    ]  # fmt: skip
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(tmp_path / "probe" / f"rank{r}.pt", weights_only=False) for r in (0, 1)]


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> dict[str, tuple[Path, list[dict]]]:
    """One real 2-process fit per strategy, shared by the tests below."""
    runs = {}
    for strategy in STRATEGIES:
        tmp_path = tmp_path_factory.mktemp(strategy)
        runs[strategy] = (tmp_path, ddp_fit(tmp_path, strategy))
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_two_process_ddp_fit(ddp_runs, strategy: str) -> None:
    tmp_path, ranks = ddp_runs[strategy]
    root = tmp_path / "runs"

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


@pytest.mark.slow
def test_separate_wrappers_train_exactly_as_one_wrapper(ddp_runs) -> None:
    """G and D in their own DDP wrappers reduce the same gradients as one DDP with unused-parameter detection: the
    final weights of the two strategies are bit-identical, and the checkpoints hold the same (bare) keys."""
    (_, one), (separate_dir, separate) = ddp_runs[STRATEGIES[0]], ddp_runs[STRATEGIES[1]]
    for key, value in one[0]["state"].items():
        assert torch.equal(value, separate[0]["state"][key]), key
    checkpoint = torch.load(next((separate_dir / "runs").rglob("last.ckpt")), weights_only=False)
    assert set(checkpoint["state_dict"]) == set(one[0]["state"])


@pytest.mark.slow
def test_separate_wrappers_with_gradient_penalty_and_critic_steps(tmp_path) -> None:
    """WGAN-GP's penalty (a double backward through the bare D) and 2 critic steps per batch under ddp_separate:
    ranks stay bit-identical after 4 batches x 3 optimizer steps x 2 epochs."""
    ranks = ddp_fit(
        tmp_path,
        "ddp_separate",
        "--model.objective.init_args.loss",
        "lightning_gan.objectives.WassersteinGPLoss",
        "--model.n_critic",
        "2",
    )
    assert ranks[0]["global_step"] == ranks[1]["global_step"] == 24
    for key, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][key]), key


def test_shipped_ddp_piece_uses_a_tested_strategy() -> None:
    """configs/trainer/ddp.yaml names one of the strategies the real 2-process fits above check."""
    import yaml

    piece = yaml.safe_load((ROOT / "configs" / "trainer" / "ddp.yaml").read_text())
    assert piece["trainer"]["strategy"] == "ddp_separate"
    assert piece["trainer"]["strategy"] in STRATEGIES


@pytest.mark.slow
def test_several_devices_with_the_default_strategy_train_with_ddp_separate(tmp_path) -> None:
    """`--trainer.devices 2` and no strategy: Lightning's `auto` would pick plain `ddp`, whose ranks die after the first
    batch; the CLI picks ddp_separate, says so, and the run's config records it."""
    result = subprocess.run(
        [sys.executable, "-m", "lightning_gan", "fit", "--config", "tests/configs/toy.yaml", "--trainer.devices", "2",
         "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
         "--trainer.default_root_dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trainer.devices = 2: training with strategy ddp_separate" in result.stdout + result.stderr
    (config,) = tmp_path.rglob("config.yaml")
    assert yaml.safe_load(config.read_text())["trainer"]["strategy"] == "ddp_separate"
    assert (config.parent / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.parametrize(
    "strategy",
    [
        "ddp",
        "ddp_spawn",
        "ddp_find_unused_parameters_false",
        '{"class_path": "lightning.pytorch.strategies.DDPStrategy"}',
    ],
)
def test_a_ddp_that_cannot_train_the_gan_is_refused_before_anything_starts(tmp_path, capsys, strategy: str) -> None:
    """Refused whatever the device count (one device here, so that a regression fails in this process instead of
    launching ranks that re-run pytest)."""
    try:
        console(["fit", "--config", "tests/configs/toy.yaml", "--trainer.devices", "1", "--trainer.strategy", strategy,
                 "--trainer.default_root_dir", str(tmp_path / "runs")])  # fmt: skip
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2, err[-3000:]
    assert "Traceback" not in err
    shown = "lightning.pytorch.strategies.DDPStrategy" if strategy.startswith("{") else strategy
    assert f"lightning_gan: error: trainer.strategy = {shown}: " in err
    assert "use --trainer.strategy ddp_separate" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("trainer", "expected"),
    [
        ({"strategy": "auto", "accelerator": "cpu", "devices": 3}, "ddp_separate"),
        ({"strategy": "auto", "accelerator": "cpu", "devices": 1, "num_nodes": 2}, "ddp_separate"),
        ({"strategy": "auto", "accelerator": "cpu", "devices": 1}, None),
        ({"strategy": "auto", "accelerator": "cpu", "devices": "auto"}, None),
        ({"strategy": "ddp_find_unused_parameters_true", "accelerator": "cpu", "devices": 2}, None),
        (
            {
                "strategy": {
                    "class_path": "lightning.pytorch.strategies.DDPStrategy",
                    "init_args": {"find_unused_parameters": True},
                },
                "accelerator": "cpu",
                "devices": 2,
            },
            None,
        ),
    ],
    ids=["three_cpus", "two_nodes", "one_cpu", "auto_devices_on_a_cpu", "find_unused_true", "class_path_find_unused"],
)
def test_which_strategy_the_gan_gets(trainer: dict, expected: str | None) -> None:
    assert gan_strategy(trainer) == expected
