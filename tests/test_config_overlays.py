"""The pix2pix dataset configs are one base plus per-dataset overlays (``configs/pix2pix/``), composed with two
``--config`` files; composed, each resolves to exactly the config its single self-contained file resolved to before.

``tests/golden/pix2pix_<dataset>.config.yaml`` is the ``--print_config`` output of the old
``configs/pix2pix_<dataset>.yaml``, recorded before the split (lightning 2.6.6, jsonargparse 4.53.0; a dependency
upgrade that adds or renames a default argument changes that output for every config alike), then changed on purpose
once: issue #29 added the SWD metric (``model.metrics.swd_lap4_7x7``), made it the "best" checkpoint's monitor
instead of ``val/psnr``, and added ``PairedTranslation``'s ``adversarial_weight`` (default 1) and ``GAN``'s
``ema_warmup`` (default true). The comparison is of the parsed YAML, whole: no field depends on the config files'
paths, so none is left out.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from lightning_gan.cli import main
from tests.conftest import CONFIGS
from tests.experiments import EXPERIMENTS

GOLDEN = Path(__file__).resolve().parent / "golden"
DATASETS = ["facades", "edges2shoes", "maps", "cityscapes"]

# What a dataset overlay may set: its data, its direction (and the generator's sides that follow it), its run name
# and its budget. Everything else is the reference recipe of configs/pix2pix/base.yaml.
OVERLAY_KEYS = {
    "trainer.default_root_dir",
    "trainer.max_epochs",
    "trainer.logger.init_args.name",
    "trainer.logger.init_args.tags",
    "model.generator.init_args.in_channels",
    "model.generator.init_args.out_channels",
    "model.g_scheduler.init_args.constant_epochs",
    "model.g_scheduler.init_args.decay_epochs",
    "model.d_scheduler.init_args.constant_epochs",
    "model.d_scheduler.init_args.decay_epochs",
    "data.init_args.root",
    "data.init_args.direction",
    "data.init_args.batch_size",
}


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        return {k: v for key, value in node.items() for k, v in _flatten(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): node}


def _printed(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *args, "--print_config"])
    assert exit_info.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


@pytest.mark.parametrize("dataset", DATASETS)
def test_base_plus_overlay_resolves_to_the_old_self_contained_config(dataset: str, capsys) -> None:
    experiment = EXPERIMENTS[f"pix2pix_{dataset}"]
    assert experiment.configs == (CONFIGS / "pix2pix" / "base.yaml", CONFIGS / "pix2pix" / f"{dataset}.yaml")
    recorded = yaml.safe_load((GOLDEN / f"pix2pix_{dataset}.config.yaml").read_text())
    assert _printed(experiment.config_args(), capsys) == recorded


# Isola et al. 2017, appendix 6.2: maps and Cityscapes batch 1 for 200 epochs, edges2shoes batch 4 for 15 (its
# 8 + 7 split of the linear policy is ours); facades the reference's defaults. The direction is each archive's layout.
PAPER = {  # dataset: (direction, batch size, max_epochs, constant_epochs)
    "facades": ("BtoA", 1, 200, 100),
    "edges2shoes": ("AtoB", 4, 15, 8),
    "maps": ("AtoB", 1, 200, 100),
    "cityscapes": ("BtoA", 1, 200, 100),
}


@pytest.mark.parametrize("dataset", DATASETS)
def test_each_dataset_has_its_direction_batch_and_budget(dataset: str, capsys) -> None:
    printed = _printed(EXPERIMENTS[f"pix2pix_{dataset}"].config_args(), capsys)
    direction, batch_size, epochs, constant = PAPER[dataset]
    data = printed["data"]["init_args"]
    assert (data["root"], data["direction"], data["batch_size"]) == (f"datasets/{dataset}", direction, batch_size)
    assert printed["trainer"]["max_epochs"] == epochs
    for net in ("g", "d"):
        scheduler = printed["model"][f"{net}_scheduler"]["init_args"]
        assert (scheduler["constant_epochs"], scheduler["decay_epochs"]) == (constant, epochs - constant)


@pytest.mark.parametrize("dataset", DATASETS)
def test_an_overlay_holds_only_its_datasets_settings(dataset: str) -> None:
    overlay = _flatten(yaml.safe_load((CONFIGS / "pix2pix" / f"{dataset}.yaml").read_text()))
    assert set(overlay) <= OVERLAY_KEYS  # no class_path either: an overlay never swaps a class of the base
    assert overlay["data.init_args.root"] == f"datasets/{dataset}"
    assert overlay["trainer.default_root_dir"] == f"runs/pix2pix_{dataset}"
    assert overlay["trainer.logger.init_args.name"] == f"pix2pix_{dataset}"


@pytest.mark.parametrize(
    ("configs", "direction"),
    [(["base"], "AtoB"), (["base", "facades"], "BtoA"), (["base", "edges2shoes"], "AtoB"), (["base", "maps"], "AtoB"),
     (["base", "cityscapes"], "BtoA")],
)  # fmt: skip
def test_the_generator_reads_the_condition_side_over_the_merged_config(
    configs: list[str], direction: str, capsys
) -> None:
    """The overlays' and the base's ``${data.init_args.channels_*}`` resolve after merging, so a 1-channel side given
    on the command line reaches the generator's input (AtoB: A) or output (BtoA: A)."""
    args = [arg for name in configs for arg in ("--config", str(CONFIGS / "pix2pix" / f"{name}.yaml"))]
    printed = _printed([*args, "--data.init_args.root", "my_pairs", "--data.init_args.channels_a", "1"], capsys)
    assert printed["data"]["init_args"]["direction"] == direction
    generator = printed["model"]["generator"]["init_args"]
    assert (generator["in_channels"], generator["out_channels"]) == ((1, 3) if direction == "AtoB" else (3, 1))
    assert printed["model"]["discriminator"]["init_args"]["in_channels"] == 4
    assert printed["trainer"]["logger"]["init_args"]["save_dir"] == printed["trainer"]["default_root_dir"]


def test_every_experiment_config_is_in_the_registry() -> None:
    """tests/experiments.py lists every config file that runs an experiment (alone or composed), and only files that
    exist; configs/trainer, configs/metrics and configs/sweeps hold pieces and sweeps, not experiments."""
    registered = {config for experiment in EXPERIMENTS.values() for config in experiment.configs}
    on_disk = {*CONFIGS.glob("*.yaml"), *(CONFIGS / "pix2pix").glob("*.yaml"), *(CONFIGS / "cyclegan").glob("*.yaml")}
    assert registered == on_disk
    assert {p.name for p in CONFIGS.iterdir() if p.is_dir()} == {"pix2pix", "cyclegan", "trainer", "metrics", "sweeps"}
