"""Synthesis (DCGAN): the data it refuses."""

from pathlib import Path

import pytest

from lightning_gan.gan import GAN
from lightning_gan.objectives import Synthesis
from tests.objectives.test_base import _trainer
from tests.toy import ToyConditionalGenerator, ToyData, ToyDiscriminator


def test_synthesis_on_paired_data_stops_at_setup(tmp_path: Path) -> None:
    model = GAN(ToyConditionalGenerator(), ToyDiscriminator(2), Synthesis())
    with pytest.raises(ValueError, match=r"Synthesis generates from noise, but the data module ToyData yields"):
        _trainer(tmp_path, max_steps=1).fit(model, ToyData(conditional=True))
