"""pix2pix networks: exact reference parameter counts (docs/references.md, "pix2pix: networks and parameter
counts"), shapes, init,
dropout placement, receptive field and input checks. Counts are taken on the meta device (no memory, no time);
forward passes use tiny widths."""

from collections.abc import Callable

import pytest
import torch
from torch import nn

from lightning_gan.nets.pix2pix import (
    PatchGANDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    patchgan_70,
    patchgan_receptive_field,
    pixelgan,
    resnet_6blocks,
    resnet_9blocks,
    unet_128,
    unet_256,
)


def n_params(build: Callable[[], nn.Module]) -> int:
    with torch.device("meta"):
        net = build()
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: unet_256(), 54_413_955),
        (lambda: UnetGenerator(), 54_413_955),
        (lambda: unet_256(norm="instance"), 54_409_603),
        (lambda: unet_256(dropout=False), 54_413_955),
        (lambda: unet_128(), 41_828_995),
        (lambda: patchgan_70(), 2_768_705),
        (lambda: PatchGANDiscriminator(), 2_768_705),
        (lambda: PatchGANDiscriminator(in_channels=3), 2_765_633),
        (lambda: PatchGANDiscriminator(norm="instance"), 2_767_809),
        (lambda: PatchGANDiscriminator(n_layers=1), 139_585),
        (lambda: PatchGANDiscriminator(n_layers=2), 666_433),
        (lambda: PatchGANDiscriminator(n_layers=4), 6_964_033),
        (lambda: PatchGANDiscriminator(n_layers=5), 11_159_361),
        (lambda: pixelgan(), 9_024),
        (lambda: PixelDiscriminator(), 9_024),
        (lambda: resnet_9blocks(), 11_378_179),
        (lambda: ResnetGenerator(), 11_378_179),
        (lambda: resnet_6blocks(), 7_837_699),
    ],
)
def test_parameter_counts_match_reference(build: Callable[[], nn.Module], expected: int) -> None:
    assert n_params(build) == expected


def test_unet_level_counts_match_reference() -> None:
    """Per level, outermost to innermost (reference section 1): encoder i + decoder i."""
    with torch.device("meta"):
        net = unet_256()
    levels = [
        sum(p.numel() for p in net.encoders[i].parameters()) + sum(p.numel() for p in net.decoders[i].parameters())
        for i in range(8)
    ]
    assert levels == [9_219, 393_600, 1_573_632, 6_292_992, 12_584_960, 12_584_960, 12_584_960, 8_389_632]
    assert sum(b.numel() for b in net.buffers() if b.dtype.is_floating_point) == 9_869 - 13  # minus 13 step counters
    assert sum(1 for m in net.modules() if isinstance(m, nn.BatchNorm2d)) == 13


@pytest.mark.parametrize(("norm", "biased_convs"), [("batch", 1), ("instance", 16), ("none", 16)])
def test_unet_bias_rule(norm: str, biased_convs: int) -> None:
    """Batch norm: only the final ConvTranspose has a bias; instance (reference) and none (our choice): all 16."""
    net = UnetGenerator(num_downs=8, ngf=1, norm=norm)
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert len(convs) == 16
    assert sum(m.bias is not None for m in convs) == biased_convs
    assert net.decoders[0][1].bias is not None  # the output ConvTranspose always has one


@pytest.mark.parametrize("num_downs", [5, 6, 7, 8, 9])
def test_unet_dropout_only_in_intermediate_decoders(num_downs: int) -> None:
    on = UnetGenerator(num_downs=num_downs, ngf=1, dropout=True)
    off = UnetGenerator(num_downs=num_downs, ngf=1, dropout=False)
    assert sum(isinstance(m, nn.Dropout) for m in on.modules()) == num_downs - 5
    assert sum(isinstance(m, nn.Dropout) for m in off.modules()) == 0
    for i, decoder in enumerate(on.decoders):
        has = any(isinstance(m, nn.Dropout) for m in decoder)
        assert has == (4 <= i < num_downs - 1)
        if has:  # after the norm, as the last layer of the block
            assert isinstance(decoder[-1], nn.Dropout) and isinstance(decoder[-2], nn.BatchNorm2d)


def test_unet_forward_shape_range_and_dropout_noise() -> None:
    torch.manual_seed(0)
    net = UnetGenerator(in_channels=1, out_channels=2, num_downs=6, ngf=8)
    x = torch.randn(2, 1, 64, 128) * 10
    y = net(x)
    assert y.shape == (2, 2, 64, 128)
    assert y.abs().max() <= 1.0 and y.std() > 0
    assert not torch.equal(net(x), net(x))  # dropout is live in train mode
    net.eval()
    with torch.no_grad():
        assert torch.equal(net(x), net(x))


def test_unet_skip_comes_first_in_concat() -> None:
    torch.manual_seed(0)
    net = UnetGenerator(num_downs=5, ngf=4, norm="none")
    seen: dict[str, torch.Tensor] = {}
    net.encoders[0].register_forward_hook(lambda m, i, o: seen.__setitem__("skip", o.clone()))
    net.decoders[1].register_forward_hook(lambda m, i, o: seen.__setitem__("deep", o.clone()))
    net.decoders[0].register_forward_pre_hook(lambda m, i: seen.__setitem__("cat", i[0].clone()))
    net(torch.randn(1, 3, 32, 32))
    assert seen["cat"].shape == (1, 8, 16, 16)  # the outermost decoder reads cat(encoder 0, decoder 1)
    torch.testing.assert_close(seen["cat"][:, :4], seen["skip"], rtol=0, atol=0)
    torch.testing.assert_close(seen["cat"][:, 4:], seen["deep"], rtol=0, atol=0)


def test_unet_rejects_bad_input_size_and_channels() -> None:
    net = UnetGenerator(num_downs=6, ngf=2)
    with pytest.raises(ValueError, match=r"multiples of 64, got 48x64"):
        net(torch.zeros(1, 3, 48, 64))
    with pytest.raises(ValueError, match=r"N x 3 x H x W, got \(1, 1, 64, 64\)"):
        net(torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="`num_downs` to be at least 5, got 4"):
        UnetGenerator(num_downs=4)


@pytest.mark.parametrize(
    "build",
    [
        lambda norm: UnetGenerator(ngf=1, norm=norm),
        lambda norm: ResnetGenerator(ngf=1, norm=norm),
        lambda norm: PatchGANDiscriminator(ndf=1, norm=norm),
        lambda norm: PixelDiscriminator(ndf=1, norm=norm),
    ],
)
def test_unknown_norm_lists_choices(build: Callable[[str], nn.Module]) -> None:
    with pytest.raises(ValueError, match=r"`norm` to be one of \('batch', 'instance', 'none'\), got 'group'"):
        build("group")


def test_norm_layers() -> None:
    bn = [m for m in PatchGANDiscriminator(ndf=2).modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bn) == 3 and all(m.affine and m.track_running_stats for m in bn)
    inn = [m for m in PatchGANDiscriminator(ndf=2, norm="instance").modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(inn) == 3 and not any(m.affine or m.track_running_stats for m in inn)
    none = PatchGANDiscriminator(ndf=2, norm="none")
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) for m in none.modules())


def test_init_statistics() -> None:
    torch.manual_seed(0)
    net = UnetGenerator(num_downs=6, ngf=16)  # ~0.9 M conv weights
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    w = torch.cat([m.weight.flatten() for m in convs])
    assert abs(w.std().item() - 0.02) < 2e-4 and abs(w.mean().item()) < 2e-4
    assert all(torch.count_nonzero(m.bias) == 0 for m in convs if m.bias is not None)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    g = torch.cat([m.weight for m in bns])
    assert abs(g.mean().item() - 1.0) < 0.005 and 0.015 < g.std().item() < 0.025
    assert all(torch.count_nonzero(m.bias) == 0 for m in bns)
    for d in (PatchGANDiscriminator(ndf=32), ResnetGenerator(ngf=16, n_blocks=2)):
        w = torch.cat([m.weight.flatten() for m in d.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
        assert abs(w.std().item() - 0.02) < 5e-4


@pytest.mark.parametrize(("n_layers", "out"), [(1, 126), (2, 62), (3, 30), (4, 14), (5, 6)])
def test_patchgan_output_shape_256(n_layers: int, out: int) -> None:
    torch.manual_seed(0)
    d = PatchGANDiscriminator(in_channels=6, ndf=4 if n_layers != 3 else 8, n_layers=n_layers)
    assert d.output_size(256) == out
    with torch.no_grad():
        assert d(torch.randn(1, 6, 256, 256)).shape == (1, 1, out, out)


def test_patchgan_rejects_too_small_input_and_wrong_channels() -> None:
    d = PatchGANDiscriminator(ndf=2)
    assert d(torch.randn(2, 6, 24, 24)).shape == (2, 1, 1, 1)
    with pytest.raises(ValueError, match="no logit for a 16x24 input; H and W must be at least 24"):
        d(torch.randn(1, 6, 16, 24))
    with pytest.raises(ValueError, match=r"N x 6 x H x W, got \(1, 3, 32, 32\)"):
        d(torch.randn(1, 3, 32, 32))


@pytest.mark.parametrize(("n_layers", "field"), [(1, 16), (2, 34), (3, 70), (4, 142), (5, 286)])
def test_patchgan_receptive_field_is_measured_extent(n_layers: int, field: int) -> None:
    """The table value equals the extent of input pixels with a non-zero gradient for one central logit."""
    d = PatchGANDiscriminator(in_channels=1, ndf=1, n_layers=n_layers, norm="none").double()
    assert d.receptive_field == patchgan_receptive_field(n_layers) == field
    size = 2 ** (n_layers + 1) * ((field // 2 ** (n_layers + 1)) + 2)  # room on both sides, a valid size
    x = torch.randn(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    logits = d(x)
    c = logits.shape[-1] // 2
    logits[0, 0, c, c].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
    assert rows.min() > 0 and rows.max() < size - 1  # not clipped by the border
    assert rows.max() - rows.min() + 1 == field
    assert cols.max() - cols.min() + 1 == field


def test_pixel_discriminator_shape() -> None:
    torch.manual_seed(0)
    d = pixelgan(ndf=4)
    assert d.in_channels == 6
    assert d(torch.randn(3, 6, 17, 9)).shape == (3, 1, 17, 9)


def test_resnet_forward_dropout_and_size_check() -> None:
    torch.manual_seed(0)
    g = ResnetGenerator(in_channels=1, out_channels=3, ngf=4, n_blocks=2)
    y = g(torch.randn(2, 1, 32, 24) * 10)
    assert y.shape == (2, 3, 32, 24) and y.abs().max() <= 1.0
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in g.modules()) == 2 + 2 * 2
    assert sum(isinstance(m, nn.Dropout) for m in g.modules()) == 0
    assert sum(isinstance(m, nn.Dropout) for m in ResnetGenerator(ngf=1, n_blocks=3, dropout=True).modules()) == 3
    with pytest.raises(ValueError, match="multiples of 4 and >= 8, got 30x32"):
        g(torch.randn(1, 1, 30, 32))


def test_channel_attributes() -> None:
    g = UnetGenerator(in_channels=1, out_channels=2, ngf=1)
    r = resnet_9blocks(in_channels=4, out_channels=1, ngf=1)
    assert (g.in_channels, g.out_channels, r.in_channels, r.out_channels) == (1, 2, 4, 1)
    assert patchgan_70(in_channels=3, ndf=1).in_channels == 3
    assert PixelDiscriminator(in_channels=2, ndf=1).in_channels == 2


@pytest.mark.parametrize(
    "build",
    [
        lambda: UnetGenerator(num_downs=5, ngf=2),
        lambda: ResnetGenerator(ngf=2, n_blocks=1, dropout=True),
        lambda: PatchGANDiscriminator(in_channels=3, ndf=2, n_layers=2),
        lambda: PixelDiscriminator(in_channels=3, ndf=2),
    ],
)
def test_backward_reaches_every_parameter(build: Callable[[], nn.Module]) -> None:
    """In-place activations must not break autograd; every parameter gets a gradient."""
    torch.manual_seed(0)
    net = build()
    net(torch.randn(2, 3, 32, 32)).square().mean().backward()
    assert all(p.grad is not None and torch.count_nonzero(p.grad) > 0 for p in net.parameters())
