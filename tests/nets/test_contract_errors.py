"""A generator, discriminator or loss strategy that breaks the contract stops at setup with one message naming the
class and what it must provide (issue #26), not with a TypeError from the first training step."""

from pathlib import Path

import pytest

import lightning_gan.cli  # noqa: F401  # imported at collection, so Lightning's log handler holds the real stderr
from tests.conftest import ROOT, console_error

TOY = str(ROOT / "tests" / "configs" / "toy.yaml")


def _fit(tmp_path: Path, *overrides: str) -> list[str]:
    return ["fit", "--config", TOY, "--trainer.default_root_dir", str(tmp_path), "--trainer.logger", "false",
            "--trainer.max_epochs", "1", *overrides]  # fmt: skip


def test_a_generator_taking_noise_without_latent_shape_is_named(tmp_path: Path, capsys) -> None:
    args = _fit(tmp_path, "--model.generator", "tests.nets.contract_nets.NoiseWithoutLatentShape")
    assert console_error(args, capsys) == (
        "The generator tests.nets.contract_nets.NoiseWithoutLatentShape.forward requires (condition, z) but the GAN "
        "loop calls it with (condition), so z would be missing. A generator that takes noise z must define "
        "latent_shape(batch_size, condition) -> tuple[int, ...] (z's shape, e.g. (batch_size, 100, 1, 1)); the loop "
        "then draws z and passes it after the condition. One that takes class labels must have an integer attribute "
        "num_classes. (the network contract: lightning_gan.nets, docs/write_your_own_gan.md)"
    )
    assert not list(tmp_path.rglob("*.ckpt"))  # stopped at setup, before a training step


def test_a_discriminator_wanting_labels_without_num_classes_is_named(tmp_path: Path, capsys) -> None:
    args = _fit(tmp_path, "--model.discriminator", "tests.nets.contract_nets.LabelsWithoutNumClasses")
    message = console_error(args, capsys)
    assert message.startswith(
        "The discriminator tests.nets.contract_nets.LabelsWithoutNumClasses.forward requires (x, labels) but the "
        "GAN loop calls it with (x), so labels would be missing."
    )
    assert "D(x, labels) when it has an integer attribute num_classes" in message


def test_a_loss_strategy_missing_a_method_is_named(tmp_path: Path, capsys) -> None:
    args = _fit(tmp_path, "--model.objective.init_args.loss", "tests.nets.contract_nets.HalfLoss")
    assert console_error(args, capsys) == (
        "The loss strategy tests.nets.contract_nets.HalfLoss does not define generator_loss(fake_scores) -> Tensor: "
        "a loss strategy derives from lightning_gan.objectives.AdversarialLoss and defines both loss methods "
        "(penalty, after_discriminator_step and probability are optional)"
    )


@pytest.mark.parametrize("loss", ["NonSaturatingLoss", "WassersteinGPLoss", "HingeLoss", "LeastSquaresLoss"])
def test_the_shipped_losses_keep_the_contract(loss: str) -> None:
    from lightning_gan import objectives
    from lightning_gan.objectives.losses import check_loss

    check_loss(getattr(objectives, loss)())
