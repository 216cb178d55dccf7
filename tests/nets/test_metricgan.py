"""MetricGAN+ networks: the recipe's parameter counts, the learnable sigmoid, the mask floor, the STFT round trip."""

import pytest
import torch

from lightning_gan.nets.metricgan import LearnableSigmoid, MetricDiscriminator, MetricGANGenerator
from lightning_gan.nets.spectral_norm import spectrally_normalized


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_recipe_parameter_counts() -> None:
    """SpeechBrain's EnhancementGenerator / MetricDiscriminator (speechbrain 9c826ef, lobes/models/MetricGAN.py)."""
    with torch.device("meta"):
        g, d = MetricGANGenerator(), MetricDiscriminator()
    lstm = 2 * (4 * 200 * (257 + 200) + 8 * 200) + 2 * (4 * 200 * (400 + 200) + 8 * 200)
    assert lstm == 1_697_600
    assert count(g) == lstm + (400 * 300 + 300) + (300 * 257 + 257) + 257 == 1_895_514
    assert count(d) == 4 + (2 * 15 * 25 + 15) + 3 * (15 * 15 * 25 + 15) + (15 * 50 + 50) + (50 * 10 + 10) + 11
    assert count(d) == 19_010
    assert len(spectrally_normalized(d)) == 7  # four convolutions, three linear layers
    assert len(spectrally_normalized(MetricDiscriminator(spectral_norm=False))) == 0


def test_learnable_sigmoid_values_and_slope_clamp() -> None:
    s = LearnableSigmoid(3, beta=1.2)
    x = torch.tensor([[-50.0, 0.0, 50.0]])
    assert torch.allclose(s(x), torch.tensor([[0.0, 0.6, 1.2]]), atol=1e-6)
    with torch.no_grad():
        s.slope.copy_(torch.tensor([2.0, float("nan"), 7.0]))
    assert torch.allclose(s(torch.ones(1, 3))[0, 0], 1.2 * torch.sigmoid(torch.tensor(2.0)))
    s.clamp_slope_(3.5)
    assert s.slope.tolist() == [2.0, 3.5, 3.5]


def test_mask_range_and_floor() -> None:
    g = MetricGANGenerator(n_fft=64, hop_length=32, hidden_size=8, linear_size=8)
    with torch.no_grad():
        g.linear2.bias.fill_(-1e4)  # sigmoid -> 0: only the floor is left
        assert torch.allclose(g.mask(torch.rand(2, 5, 33)), torch.full((2, 5, 33), 0.05))
        g.linear2.bias.fill_(1e4)
        assert torch.allclose(g.mask(torch.rand(2, 5, 33)), torch.full((2, 5, 33), 1.2))


def test_all_ones_mask_is_the_stft_round_trip() -> None:
    g = MetricGANGenerator()
    x = 0.3 * torch.randn(2, 1, 8000)
    out = g.apply_mask(x, torch.ones(2, *g.spectrogram(x).shape[1:]))
    assert out.shape == x.shape
    assert (out - x).abs().max() < 1e-5


def test_generator_keeps_any_length_and_feeds_the_discriminator() -> None:
    g = MetricGANGenerator(n_fft=64, hop_length=32, hidden_size=8, linear_size=8)
    d = MetricDiscriminator(base_channels=4)
    for length in (700, 1001):
        x = torch.randn(3, 1, length)
        y = g(x)
        assert y.shape == x.shape
        spec = g.spectrogram(y)
        assert d(torch.stack([spec, g.spectrogram(x)], dim=1)).shape == (3, 1)


def test_bad_input_is_refused_with_its_shape() -> None:
    g = MetricGANGenerator(n_fft=64, hop_length=32, hidden_size=8, linear_size=8)
    with pytest.raises(ValueError, match="N x 1 x T"):
        g(torch.randn(2, 2, 500))
    with pytest.raises(ValueError, match="too short"):
        g(torch.randn(2, 1, 20))
    with pytest.raises(ValueError, match="STFT configuration"):
        g.mask(torch.randn(2, 5, 257))
    with pytest.raises(ValueError, match="hop_length"):
        MetricGANGenerator(n_fft=64, hop_length=128)
    with pytest.raises(ValueError, match="mask_floor"):
        MetricGANGenerator(mask_floor=1.5)
    with pytest.raises(ValueError, match="smaller than"):
        MetricDiscriminator()(torch.randn(1, 2, 10, 257))
