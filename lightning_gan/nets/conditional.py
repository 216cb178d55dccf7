"""Class-conditional DCGAN: a generator with a label embedding and a projection discriminator.

Both networks take the class indices as their last input (``G(z, labels)``, ``D(x, labels)``) and declare
``num_classes``, which is how the GAN loop knows to pass the batch's ``label`` (see :mod:`lightning_gan.nets.labels`).

- :class:`ConditionalDCGANGenerator`: the DCGAN generator of :mod:`lightning_gan.nets.dcgan` fed ``[z, e(y)]``,
  the noise concatenated with a learned embedding of the label, as the conditional GAN of Mirza & Osindero 2014
  (arXiv 1411.1784) concatenates ``z`` and ``y``.
- :class:`ProjectionDiscriminator`: Miyato & Koyama 2018, "cGANs with Projection Discriminator" (arXiv
  1802.05637), eq. 3: ``D(x, y) = psi(phi(x)) + embed(y) . phi(x)``, with ``phi`` DCGAN's strided convolutions
  followed by global sum pooling, ``psi`` a linear layer and the inner product with a class embedding in place of
  concatenating the label to the input. Spectrally normalized and without batch norm by default, as in the paper.
"""

from itertools import pairwise

import torch
from torch import Tensor, nn

from lightning_gan.nets.dcgan import DCGANGenerator, _stages
from lightning_gan.nets.init import normal_init_
from lightning_gan.nets.labels import check_label_values
from lightning_gan.nets.spectral_norm import apply_spectral_norm


def _check_num_classes(num_classes: int, owner: str) -> None:
    if num_classes < 1:
        raise ValueError(f"{owner}: expected `num_classes` >= 1, got {num_classes!r}.")


class ConditionalDCGANGenerator(DCGANGenerator):
    """Noise and class to image: DCGAN's generator fed ``[z, e(y)]``, the noise concatenated with a learned
    embedding of the label (as the conditional GAN of Mirza & Osindero 2014 concatenates ``z`` and ``y``).

    Args:
        num_classes: number of classes; labels are ``0 .. num_classes - 1``.
        latent_dim: size of ``z``.
        out_channels: image channels.
        ngf: channels of the last hidden layer (see :class:`~lightning_gan.nets.dcgan.DCGANGenerator`).
        image_size: output height and width, a power of two >= 8.
        embedding_dim: size of the label embedding concatenated to ``z``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        latent_dim: int = 100,
        out_channels: int = 3,
        ngf: int = 64,
        image_size: int = 64,
        embedding_dim: int = 32,
    ) -> None:
        _check_num_classes(num_classes, type(self).__name__)
        super().__init__(latent_dim + embedding_dim, out_channels, ngf, image_size)
        self.latent_dim = latent_dim  # the noise alone: what latent_shape draws
        self.num_classes = num_classes
        self.embedding = nn.Embedding(num_classes, embedding_dim)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:  # type: ignore[override]  # labels: the nets contract
        """Images N x C x S x S for noise ``z`` (N x latent_dim x 1 x 1) and class indices ``labels`` (N)."""
        labels = _checked(labels, self.num_classes, type(self).__name__)
        e = self.embedding(labels).to(z.dtype)[:, :, None, None]
        return self.net(torch.cat([z, e], dim=1))


class ProjectionDiscriminator(nn.Module):
    """Image and class to one logit, ``linear(h) + <embed(y), h>`` with ``h`` the sum-pooled conv features.

    Args:
        num_classes: number of classes.
        in_channels: image channels.
        ndf: channels of the first convolution; each later one doubles it (as DCGAN's discriminator).
        image_size: input height and width, a power of two >= 8.
        spectral_norm: spectrally normalize every layer, the embedding included (Miyato & Koyama 2018).
        batch_norm: batch norm after the hidden convolutions, as DCGAN's discriminator (not in the paper).
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 3,
        ndf: int = 64,
        image_size: int = 64,
        spectral_norm: bool = True,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        _check_num_classes(num_classes, type(self).__name__)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.image_size = image_size
        channels = [ndf * 2**i for i in range(_stages(image_size))]
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in pairwise(channels):
            norm = nn.BatchNorm2d(c_out) if batch_norm else nn.Identity()
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batch_norm), norm, nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)  # N x channels[-1] x 4 x 4
        self.linear = nn.Linear(channels[-1], 1)
        self.embedding = nn.Embedding(num_classes, channels[-1])
        normal_init_(self)
        nn.init.xavier_uniform_(self.embedding.weight)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        """Logits N x 1 for images ``x`` (N x in_channels x S x S) of classes ``labels`` (N)."""
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            raise ValueError(f"Expected {self.image_size} x {self.image_size} images, got {tuple(x.shape[-2:])}.")
        labels = _checked(labels, self.num_classes, type(self).__name__)
        h = self.features(x).sum(dim=(2, 3))
        projection = (self.embedding(labels).to(h.dtype) * h).sum(dim=1, keepdim=True)
        return self.linear(h) + projection


def _checked(labels: Tensor, num_classes: int, owner: str) -> Tensor:
    """Labels checked against ``num_classes`` (a clear error instead of an embedding index error), except while
    ``torch.compile`` traces, where a data-dependent check would break the graph."""
    if torch.compiler.is_compiling():
        return labels
    return check_label_values(labels, num_classes, owner)
