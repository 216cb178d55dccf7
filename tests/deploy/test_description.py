"""Networks and whole-input strategies declare their own facts; ``describe`` reads them, whatever the class."""

import pytest
import torch

from lightning_gan.deploy.description import describe
from lightning_gan.gan import GAN
from lightning_gan.nets.dcgan import DCGANGenerator
from lightning_gan.nets.pix2pix import ResnetGenerator, UnetGenerator
from lightning_gan.nets.segan import SEGANGenerator
from lightning_gan.whole_input.strategies import Direct, OverlapAdd, PadToMultiple, ResizeTo, StrategyInfo, WholeInput
from tests.toy import ToyConditionalGenerator, ToyDiscriminator


@pytest.mark.parametrize(
    ("generator", "shape", "multiple"),
    [
        (UnetGenerator(3, 3, num_downs=5, ngf=2), (1, 3, 32, 32), 32),
        (ResnetGenerator(3, 3, ngf=4, n_blocks=1), (1, 3, 8, 8), 4),
        (SEGANGenerator(channels=(4, 8, 8), kernel_size=5, latent=False), (1, 1, 16), 8),
    ],
    ids=["unet", "resnet", "segan"],
)
def test_size_multiple_is_what_the_generator_accepts(generator, shape: tuple[int, ...], multiple: int) -> None:
    assert generator.size_multiple == multiple
    with torch.no_grad():
        assert generator(torch.zeros(shape)).shape[-1] == shape[-1]  # a multiple runs
        off = (*shape[:-1], shape[-1] + multiple // 2)  # half a multiple more does not
        with pytest.raises(ValueError, match=f"multiple.* {multiple}|{multiple} and"):
            generator(torch.zeros(off))


def test_every_generator_states_its_family_modality_noise_and_size_multiple() -> None:
    facts = {
        cls.__name__: (g.family, g.modality, g.latent, g.size_multiple)
        for cls, g in [
            (UnetGenerator, UnetGenerator(num_downs=8, ngf=4)),
            (ResnetGenerator, ResnetGenerator(ngf=4, n_blocks=1)),
            (SEGANGenerator, SEGANGenerator(channels=(4, 8), kernel_size=5)),
            (DCGANGenerator, DCGANGenerator(ngf=4, image_size=16)),
        ]
    }
    assert facts == {
        "UnetGenerator": ("pix2pix", "image", False, 256),
        "ResnetGenerator": ("pix2pix", "image", False, 4),
        "SEGANGenerator": ("segan", "audio", True, 4),
        "DCGANGenerator": ("dcgan", "image", True, None),
    }


def test_every_strategy_describes_itself() -> None:
    pad = PadToMultiple(64).describe()
    assert pad == StrategyInfo(
        "lightning_gan.whole_input.strategies.PadToMultiple",
        {"multiple": 64, "mode": "reflect"},
        "image",
        64,
        pad.words,
    )
    assert "multiples of 64" in pad.words
    resize, overlap, direct = ResizeTo(128).describe(), OverlapAdd(16, 8, 4).describe(), Direct().describe()
    assert (resize.modality, resize.example_size, resize.settings) == ("image", 128, {"size": 128, "clamp": True})
    assert (overlap.modality, overlap.example_size) == ("audio", 16)
    assert overlap.settings == {"window": 16, "hop": 8, "batch_size": 4} and "16-sample windows" in overlap.words
    assert (direct.modality, direct.example_size, direct.settings) == (None, None, {})

    class Tiles(WholeInput):  # a strategy that declares nothing gets its settings described
        def __init__(self) -> None:
            self.tile = 32

    assert Tiles().describe().settings == {"tile": 32} and Tiles().describe().modality is None


def test_describe_reads_the_declared_facts_not_the_class() -> None:
    class Declared(ToyConditionalGenerator):
        family, modality, latent, size_multiple = "segan", "audio", False, 8

    info = describe(GAN(Declared(), ToyDiscriminator(2)), {"window": 64, "sample_rate": 8000})
    assert (info.family, info.modality, info.size_multiple, info.example_size) == ("segan", "audio", 8, 64)
    assert info.sample_rate == 8000 and not info.latent
    undeclared = describe(GAN(ToyConditionalGenerator(), ToyDiscriminator(2), inference=PadToMultiple(16)))
    assert (undeclared.family, undeclared.modality, undeclared.size_multiple) == ("conditional", "image", None)
    assert undeclared.example_size == 16  # from the strategy
