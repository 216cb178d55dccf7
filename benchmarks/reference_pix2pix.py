"""The pix2pix reference's training update, as a speed baseline for ``python -m benchmarks`` (``benchmarks/run.py``).

Written by us from the documented architecture of junyanz/pytorch-CycleGAN-and-pix2pix at commit 2a7afba
(``models/networks.py`` ``UnetGenerator``/``UnetSkipConnectionBlock``/``NLayerDiscriminator``,
``models/pix2pix_model.py`` ``optimize_parameters``; docs/references.md, "pix2pix"): its layer list (blocks built
from the innermost outwards, in-place LeakyReLU, skip concatenated first), N(0, 0.02) initialisation, two Adams with
torch's default (unfused) implementation, and its update order: G forward once; D on the detached fake and on the
real pair, ``0.5 * (fake + real)``, D steps; D frozen; D on the fake again, G steps on GAN + 100 * L1.

It exists so the benchmark can time the reference's update in the same process as ours, alternating, instead of
quoting a figure measured elsewhere.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _UnetBlock(nn.Module):
    """One level of the reference U-Net: ``x -> cat([x, up(sub(down(x)))])``; the outermost returns the output."""

    def __init__(
        self,
        outer: int,
        inner: int,
        in_channels: int | None = None,
        sub: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        in_channels = outer if in_channels is None else in_channels
        down = nn.Conv2d(in_channels, inner, 4, 2, 1, bias=False)  # BatchNorm: no bias
        if outermost:
            layers = [down, sub, nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            up = nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, nn.BatchNorm2d(outer)]
        else:
            up = nn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False)
            layers = [nn.LeakyReLU(0.2, True), down, nn.BatchNorm2d(inner), sub, nn.ReLU(True), up]
            layers.append(nn.BatchNorm2d(outer))
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def reference_unet(in_channels: int = 3, out_channels: int = 3, num_downs: int = 8, ngf: int = 64) -> nn.Module:
    """``define_G(..., "unet_256", "batch", use_dropout=True)`` for ``num_downs=8``."""
    block = _UnetBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(num_downs - 5):
        block = _UnetBlock(ngf * 8, ngf * 8, sub=block, dropout=True)
    block = _UnetBlock(ngf * 4, ngf * 8, sub=block)
    block = _UnetBlock(ngf * 2, ngf * 4, sub=block)
    block = _UnetBlock(ngf, ngf * 2, sub=block)
    return _UnetBlock(out_channels, ngf, in_channels=in_channels, sub=block, outermost=True)


def reference_patchgan(in_channels: int = 6, ndf: int = 64, n_layers: int = 3) -> nn.Module:
    """``define_D(6, 64, "basic", norm="batch")``: the 70x70 PatchGAN."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, n_layers + 1):
        previous, mult = mult, min(2**n, 8)
        stride = 2 if n < n_layers else 1
        layers += [nn.Conv2d(ndf * previous, ndf * mult, 4, stride, 1, bias=False), nn.BatchNorm2d(ndf * mult)]
        layers.append(nn.LeakyReLU(0.2, True))
    layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
    return nn.Sequential(*layers)


def _init(module: nn.Module) -> None:
    """``init_weights(net, "normal", 0.02)``."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad = flag


class ReferencePix2PixStep:
    """The reference's ``optimize_parameters`` on fixed tensors ``A`` (condition) and ``B`` (target)."""

    def __init__(self, num_downs: int = 8, ngf: int = 64, ndf: int = 64, device: torch.device | str = "cpu") -> None:
        self.g = reference_unet(num_downs=num_downs, ngf=ngf).to(device).train()
        self.d = reference_patchgan(ndf=ndf).to(device).train()
        _init(self.g)
        _init(self.d)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))

    @staticmethod
    def _gan(pred: Tensor, real: bool) -> Tensor:
        return F.binary_cross_entropy_with_logits(pred, torch.full_like(pred, 1.0 if real else 0.0))

    def step(self, batch: dict[str, Tensor]) -> float:
        a, b = batch["condition"], batch["real"]
        fake = self.g(a)
        _set_requires_grad(self.d, True)
        self.opt_d.zero_grad()
        loss_d_fake = self._gan(self.d(torch.cat([a, fake.detach()], 1)), False)
        loss_d_real = self._gan(self.d(torch.cat([a, b], 1)), True)
        ((loss_d_fake + loss_d_real) * 0.5).backward()
        self.opt_d.step()
        _set_requires_grad(self.d, False)
        self.opt_g.zero_grad()
        loss_g = self._gan(self.d(torch.cat([a, fake], 1)), True) + F.l1_loss(fake, b) * 100.0
        loss_g.backward()
        self.opt_g.step()
        return float(loss_g.detach())
