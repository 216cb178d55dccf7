"""SEGAN networks: paper parameter counts, shapes, latent, VBN statistics and checkpointing."""

import warnings

import pytest
import torch

from lightning_gan.nets.segan import (
    SEGANDiscriminator,
    SEGANGenerator,
    VirtualBatchNorm1d,
    segan_paper_discriminator,
    segan_paper_generator,
)

SMALL = {"channels": (4, 8, 8, 16), "kernel_size": 7}
WINDOW = 1024


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_paper_parameter_counts() -> None:
    """``docs/references.md`` ("SEGAN: networks and parameter counts"):
    G 73,100,049 and D 24,373,081 (k=31, biases, per-channel PReLU, D 16...1024)."""
    with torch.device("meta"):  # counting only: skip allocating and initialising 97 M weights
        g, d = segan_paper_generator(), segan_paper_discriminator()
        tf_d = SEGANDiscriminator(bias=False)
        g_no_z = SEGANGenerator(latent=False)
    assert count(g) == 73_100_049
    assert count(d) == 24_373_081
    assert count(tf_d) == 24_373_081 - 2_512
    assert count(g_no_z) == 73_100_049 - 31 * 1024 * 512


def test_paper_shapes_on_meta() -> None:
    with torch.device("meta"):
        g, d = segan_paper_generator(), segan_paper_discriminator()
        x = torch.empty(2, 1, 16384)
        assert g.latent_shape(2, x) == (2, 1024, 8)
        y = g(x)
        assert y.shape == (2, 1, 16384)
        pair = torch.cat([x, y], 1)
        d.set_reference(pair)
        assert d(pair).shape == (2, 1)


def test_small_generator_shapes_and_range() -> None:
    g = SEGANGenerator(**SMALL)
    x = torch.randn(3, 1, WINDOW)
    shape = g.latent_shape(3, x)
    assert shape == (3, 16, WINDOW // 16)
    y = g(x, torch.randn(shape))
    assert y.shape == (3, 1, WINDOW)
    assert y.abs().max() <= 1.0
    assert g.in_channels == 1 and g.out_channels == 1
    # Any multiple of 2**4 works, not only the training window.
    assert g(torch.randn(1, 1, 48)).shape == (1, 1, 48)


def test_generator_uses_z() -> None:
    g = SEGANGenerator(**SMALL)
    x = torch.randn(2, 1, WINDOW)
    z1, z2 = torch.randn(2, 16, 64), torch.randn(2, 16, 64)
    assert torch.equal(g(x, z1), g(x, z1))
    assert not torch.allclose(g(x, z1), g(x, z2))
    assert g(x).shape == (2, 1, WINDOW)  # z drawn internally


def test_generator_without_latent() -> None:
    g = SEGANGenerator(**SMALL, latent=False)
    x = torch.randn(2, 1, WINDOW)
    assert g.latent_shape(2, x) is None
    assert torch.equal(g(x), g(x))
    with pytest.raises(ValueError, match="latent=False"):
        g(x, torch.randn(2, 16, 64))


def test_generator_skip_is_taken_before_activation() -> None:
    """With PReLU slopes at their TF init 0, a negative pre-activation skip still reaches the decoder."""
    g = SEGANGenerator(channels=(2, 4), kernel_size=3)
    assert all(torch.all(act.weight == 0) for act in g.encoder_act)
    captured = {}
    g.decoder[1].register_forward_pre_hook(lambda _m, args: captured.setdefault("input", args[0]))
    x = torch.randn(1, 1, 64)
    g(x)
    skip = captured["input"][:, 2:]  # decoder 0 output (channels[0] = 2 after PReLU), then the 2-channel skip
    assert skip.shape[1] == 2
    assert torch.equal(skip, g.encoder[0](x))
    assert (skip < 0).any()


def test_generator_bad_inputs() -> None:
    g = SEGANGenerator(**SMALL)
    with pytest.raises(ValueError, match=r"length 1000 is not a positive multiple of 16"):
        g(torch.randn(1, 1, 1000))
    with pytest.raises(ValueError, match="N x 1 x T"):
        g(torch.randn(1, 2, WINDOW))
    with pytest.raises(ValueError, match="z of shape"):
        g(torch.randn(1, 1, WINDOW), torch.randn(1, 16, 32))
    with pytest.raises(ValueError, match="length 1000"):
        g.latent_shape(1, torch.randn(1, 1, 1000))
    with pytest.raises(ValueError, match="channels"):
        SEGANGenerator(channels=())


def test_init_is_truncated_normal() -> None:
    g = SEGANGenerator(channels=(16, 32), kernel_size=31)
    w = torch.cat([m.weight.flatten() for m in (*g.encoder, *g.decoder)])
    assert w.abs().max() <= 0.04
    assert 0.015 < w.std() < 0.02  # truncation at 2 std leaves std 0.88 * 0.02
    assert all(torch.all(m.bias == 0) for m in (*g.encoder, *g.decoder))


def _hand_vbn(x: torch.Tensor, mean: torch.Tensor, mean_sq: torch.Tensor, vbn: VirtualBatchNorm1d) -> torch.Tensor:
    std = torch.sqrt(vbn.eps + mean_sq - mean**2)
    return (x - mean.view(1, -1, 1)) / std.view(1, -1, 1) * vbn.weight.view(1, -1, 1) + vbn.bias.view(1, -1, 1)


def test_vbn_matches_hand_computation() -> None:
    vbn = VirtualBatchNorm1d(3)
    with torch.no_grad():
        vbn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    ref = torch.randn(4, 3, 10) * 2 + 1
    live = torch.randn(2, 3, 10) - 0.5
    ref_mean, ref_sq = ref.mean(dim=(0, 2)), (ref**2).mean(dim=(0, 2))
    out_ref = vbn.set_reference(ref)
    torch.testing.assert_close(out_ref, _hand_vbn(ref, ref_mean, ref_sq, vbn))

    vbn.eval()  # reference statistics alone
    torch.testing.assert_close(vbn(live), _hand_vbn(live, ref_mean, ref_sq, vbn))
    vbn.train()  # 1/(B+1) own + B/(B+1) reference, B = 4
    mean = 0.2 * live.mean(dim=(0, 2)) + 0.8 * ref_mean
    mean_sq = 0.2 * (live**2).mean(dim=(0, 2)) + 0.8 * ref_sq
    torch.testing.assert_close(vbn(live), _hand_vbn(live, mean, mean_sq, vbn))
    torch.testing.assert_close(vbn.reference_mean, ref_mean)  # forward does not touch the reference


def test_vbn_init_and_fallback() -> None:
    vbn = VirtualBatchNorm1d(64)
    assert torch.all(vbn.bias == 0) and abs(vbn.weight.mean().item() - 1.0) < 0.01
    x = torch.randn(5, 64, 7)
    mean, mean_sq = x.mean(dim=(0, 2)), (x**2).mean(dim=(0, 2))
    assert not vbn.has_reference
    torch.testing.assert_close(vbn(x), _hand_vbn(x, mean, mean_sq, vbn))  # plain batch norm


def test_vbn_reference_in_state_dict_and_restored() -> None:
    vbn = VirtualBatchNorm1d(3)
    vbn.set_reference(torch.randn(4, 3, 10))
    state = vbn.state_dict()
    assert {"reference_mean", "reference_mean_sq", "reference_batch_size"} <= state.keys()
    assert state["reference_batch_size"].item() == 4
    assert not any(p.requires_grad for p in vbn.buffers())

    fresh = VirtualBatchNorm1d(3)
    fresh.load_state_dict(state)
    assert fresh.has_reference
    x = torch.randn(2, 3, 10)
    vbn.eval(), fresh.eval()
    torch.testing.assert_close(fresh(x), vbn(x))


def test_discriminator_shapes_reference_and_eval_independence() -> None:
    d = SEGANDiscriminator(**SMALL, window=WINDOW)
    x = torch.randn(4, 2, WINDOW)
    d.set_reference(torch.randn(6, 2, WINDOW))
    assert d.has_reference
    assert all(norm.reference_batch_size.item() == 6 for norm in d.norms)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reference is set: no fallback warning
        scores = d(x)
    assert scores.shape == (4, 1)
    scores.sum().backward()
    assert d.convs[0].weight.grad is not None
    d.eval()
    with torch.no_grad():
        torch.testing.assert_close(d(x)[:1], d(x[:1]))  # eval: each example normalised by the reference only

    restored = SEGANDiscriminator(**SMALL, window=WINDOW).eval()
    restored.load_state_dict(d.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(restored(x), d(x))


def test_discriminator_without_reference_warns_once() -> None:
    d = SEGANDiscriminator(**SMALL, window=WINDOW)
    x = torch.randn(2, 2, WINDOW)
    with pytest.warns(UserWarning, match="no VBN reference"):
        d(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert d(x).shape == (2, 1)


def test_discriminator_bad_inputs() -> None:
    d = SEGANDiscriminator(**SMALL, window=WINDOW)
    with pytest.raises(ValueError, match=r"N x 2 x 1024"):
        d(torch.randn(1, 2, 2048))
    with pytest.raises(ValueError, match=r"N x 2 x 1024"):
        d.set_reference(torch.randn(1, 1, WINDOW))
    with pytest.raises(ValueError, match="window"):
        SEGANDiscriminator(**SMALL, window=1000)
