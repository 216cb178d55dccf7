"""Checkpoints of the flat 0.1 layout: refused with the command that upgrades them, and upgraded into models that
rebuild as they were trained.

``old_hparams/*.json`` are the hyper-parameters of real 0.1 checkpoints (tiny fits of dcgan_digits, pix2pix_demo and
segan_demo at commit f41329e). Their weights' names did not change, so each test writes a 0.1-layout checkpoint
from them and a model built from the upgraded hyper-parameters.
"""

import json
from pathlib import Path
from typing import Any

import lightning
import pytest
import torch
from lightning.pytorch.cli import instantiate_module

from lightning_gan.checkpoints import read_checkpoint
from lightning_gan.checkpoints.upgrade import main, old_names, upgrade, upgrade_hyperparameters
from lightning_gan.data import DeEmphasis
from lightning_gan.errors import CheckpointError
from lightning_gan.gan import GAN
from lightning_gan.objectives import LeastSquaresLoss, NonSaturatingLoss, PairedTranslation, Synthesis, WeightedSum

OLD = Path(__file__).resolve().parent / "old_hparams"


def _old_checkpoint(name: str, folder: Path) -> Path:
    hparams = json.loads((OLD / f"{name}.json").read_text())
    new = {k: v for k, v in upgrade_hyperparameters(hparams).items() if k != "_instantiator"}
    model = instantiate_module(GAN, new)
    path = folder / f"{name}.ckpt"
    meta = {"epoch": 0, "global_step": 2, "pytorch-lightning_version": lightning.__version__}
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": hparams, **meta}, path)
    return path


@pytest.mark.parametrize("name", ["dcgan_digits", "pix2pix_demo", "segan_demo"])
def test_an_old_checkpoint_is_refused_with_the_upgrade_command(tmp_path: Path, name: str) -> None:
    old = _old_checkpoint(name, tmp_path)
    refused = r"written by lightning_gan 0\.1, .*python -m lightning_gan\.checkpoints\.upgrade"
    with pytest.raises(CheckpointError, match=refused):
        read_checkpoint(old)


def _upgraded(name: str, tmp_path: Path) -> tuple[GAN, dict[str, Any]]:
    old = _old_checkpoint(name, tmp_path)
    new = upgrade(old, tmp_path / "new.ckpt")
    checkpoint = read_checkpoint(new)  # no longer refused
    assert not old_names(checkpoint["hyper_parameters"])
    model = GAN.load_from_checkpoint(new, map_location="cpu")
    for key, value in torch.load(old, weights_only=True)["state_dict"].items():
        assert torch.equal(model.state_dict()[key], value), key
    return model, checkpoint["hyper_parameters"]


def test_dcgan_becomes_synthesis_with_its_speed_switch(tmp_path: Path) -> None:
    model, hparams = _upgraded("dcgan_digits", tmp_path)
    assert type(model.objective) is Synthesis and isinstance(model.objective.loss, NonSaturatingLoss)
    assert model.speed.channels_last is True
    assert hparams["sample_quality"]["class_path"] == "lightning_gan.metrics.SampleQuality"


def test_pix2pix_becomes_paired_translation_with_its_weights(tmp_path: Path) -> None:
    model, _ = _upgraded("pix2pix_demo", tmp_path)
    objective = model.objective
    assert isinstance(objective, PairedTranslation) and isinstance(objective.loss, NonSaturatingLoss)
    assert (objective.reconstruction_weight, objective.discriminator_loss_weight) == (100.0, 0.5)
    assert type(model.inference).__name__ == "AtTrainingScale"


def test_segan_keeps_its_reconstruction_post_processing_and_baseline(tmp_path: Path) -> None:
    model, _ = _upgraded("segan_demo", tmp_path)
    objective = model.objective
    assert isinstance(objective, PairedTranslation) and isinstance(objective.loss, LeastSquaresLoss)
    assert isinstance(objective.reconstruction, WeightedSum) and objective.log_input_baseline
    assert isinstance(objective.postprocess, DeEmphasis) and objective.postprocess.coef == 0.95


def test_upgrade_never_overwrites_and_refuses_a_current_checkpoint(tmp_path: Path, capsys) -> None:
    old = _old_checkpoint("dcgan_digits", tmp_path)
    main([str(old)])
    written = tmp_path / "dcgan_digits-upgraded.ckpt"
    assert f"wrote {written}" in capsys.readouterr().out
    with pytest.raises(CheckpointError, match="exists"):
        upgrade(old, written)
    with pytest.raises(CheckpointError, match="current layout already"):
        upgrade(written, tmp_path / "again.ckpt")
