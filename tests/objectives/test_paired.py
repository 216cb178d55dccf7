"""PairedTranslation (pix2pix, SEGAN): the loss terms and the data it needs."""

from pathlib import Path

import pytest
import torch

from lightning_gan.gan import GAN
from lightning_gan.objectives import PairedTranslation
from tests.objectives.test_base import _trainer
from tests.toy import ToyConditionalGenerator, ToyData, ToyDiscriminator, ToyGenerator


def test_a_paired_objective_on_unpaired_data_stops_at_setup(tmp_path: Path) -> None:
    model = GAN(ToyGenerator(), ToyDiscriminator(), PairedTranslation())
    with pytest.raises(ValueError, match=r"PairedTranslation needs paired batches .* ToyData yields unpaired samples"):
        _trainer(tmp_path, max_steps=1).fit(model, ToyData(conditional=False))


def test_paired_translation_adds_the_weighted_reconstruction_term() -> None:
    """L_G = adversarial + w * L1, one step equal to the formula computed by hand."""
    torch.manual_seed(0)
    g, d = ToyConditionalGenerator(), ToyDiscriminator(2)
    objective = PairedTranslation(reconstruction_weight=7.0)
    model = GAN(g, d, objective)
    batch = {"condition": torch.randn(4, 1, 4, 4), "real": torch.randn(4, 1, 4, 4)}
    fake = g(batch["condition"])
    loss, logs = objective.generator_loss(model, batch, fake)
    scores = d(torch.cat([batch["condition"], fake], 1))
    adversarial = torch.nn.functional.binary_cross_entropy_with_logits(scores, torch.ones_like(scores))
    expected = adversarial + 7.0 * (fake - batch["real"]).abs().mean()
    torch.testing.assert_close(loss, expected)
    assert set(logs) == {"train/gen_loss_GAN", "train/gen_loss_L1"}
