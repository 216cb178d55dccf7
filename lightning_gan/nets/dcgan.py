"""DCGAN generator and discriminator (Radford, Metz & Chintala 2016, arXiv 1511.06434).

The paper's guidelines, which both nets follow: strided convolutions instead of pooling, fractionally-strided
(transposed) convolutions in G, batch norm in both nets except G's output and D's input layer, ReLU in G with a tanh
output, LeakyReLU(0.2) in D, no fully connected hidden layers, weights ~ N(0, 0.02). Layers carry no bias, as in
the PyTorch DCGAN example: the batch norm that follows makes it redundant.

Sizes: G maps ``z`` (N x latent_dim x 1 x 1) to a 4 x 4 map of ``ngf * 2**(k-1)`` channels and doubles the size
``k = log2(image_size) - 2`` times, halving the channels, down to ``out_channels`` at ``image_size``. D mirrors it
and ends with a 4 x 4 valid convolution to one logit per image (no sigmoid: the loss strategy takes logits).
At image_size 64, latent_dim 100, ngf = ndf = 64, 3 channels: G has 3,576,704 parameters, D 2,765,568.
"""

import math
from itertools import pairwise

from torch import Tensor, nn

from lightning_gan.nets.init import normal_init_
from lightning_gan.nets.spectral_norm import apply_spectral_norm


def _stages(image_size: int) -> int:
    stages = math.log2(image_size) - 2
    if image_size < 8 or stages != int(stages):
        raise ValueError(f"Expected `image_size` to be a power of two >= 8, got {image_size!r}.")
    return int(stages)


class DCGANGenerator(nn.Module):
    """Noise to image.

    Args:
        latent_dim: size of ``z`` (100 in the paper).
        out_channels: image channels.
        ngf: channels of the last hidden layer; earlier layers double it (64 in the paper's 64 x 64 model).
        image_size: output height and width, a power of two >= 8.
    """

    family = "dcgan"
    modality = "image"
    latent = True
    size_multiple = None
    """No input to size: the output is ``image_size`` x ``image_size``."""

    def __init__(self, latent_dim: int = 100, out_channels: int = 3, ngf: int = 64, image_size: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.out_channels = out_channels
        stages = _stages(image_size)
        channels = [ngf * 2 ** (stages - 1 - i) for i in range(stages)]
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, channels[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in pairwise(channels):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(channels[-1], out_channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        normal_init_(self)

    def latent_shape(self, batch_size: int, condition: Tensor | None = None) -> tuple[int, ...]:
        return (batch_size, self.latent_dim, 1, 1)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """Image to one logit.

    Args:
        in_channels: image channels.
        ndf: channels of the first layer; later layers double it (64 in the paper).
        image_size: input height and width, a power of two >= 8.
        spectral_norm: spectrally normalize every convolution (Miyato et al. 2018; see
            :mod:`lightning_gan.nets.spectral_norm`); the batch norms stay unless ``batch_norm`` is off.
        batch_norm: batch norm after the hidden convolutions (the DCGAN paper); SN-GAN's discriminators have none.
    """

    def __init__(
        self,
        in_channels: int = 3,
        ndf: int = 64,
        image_size: int = 64,
        spectral_norm: bool = False,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.image_size = image_size
        stages = _stages(image_size)
        channels = [ndf * 2**i for i in range(stages)]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in pairwise(channels):
            norm = nn.BatchNorm2d(c_out) if batch_norm else nn.Identity()
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batch_norm), norm, nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(channels[-1], 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        normal_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            raise ValueError(f"Expected {self.image_size} x {self.image_size} images, got {tuple(x.shape[-2:])}.")
        return self.net(x).flatten(1)
