"""Networks, one module per family. They know nothing of Lightning.

The contract the GAN loop (:mod:`lightning_gan.gan`) relies on, and nothing more:

Generator
    ``forward(*inputs)`` where ``inputs`` is ``[condition]`` for a conditional generator (pix2pix: image A; SEGAN:
    noisy speech), followed by ``z`` when the generator takes noise. A generator that takes noise defines
    ``latent_shape(batch_size: int, condition: Tensor | None) -> tuple[int, ...]``; the loop draws ``z`` from its
    own per-rank random generator, so every DDP rank gets different noise. Attributes ``in_channels`` (channels of
    the condition, absent for unconditional generators) and ``out_channels`` let the loop check the data at setup.
    Each generator also states its own facts, which :mod:`lightning_gan.deploy.description` and
    :mod:`lightning_gan.deploy.export`
    read: ``family`` (``"pix2pix"``, ``"segan"``, ``"dcgan"``), ``modality`` (``"image"`` or ``"audio"``),
    ``latent`` (whether it takes ``z``) and ``size_multiple`` (input H and W, or T, must be multiples of it;
    ``None`` for an unconditional generator, which has no input to size).
    CycleGAN's two generators are one :class:`~lightning_gan.nets.GeneratorPair` whose ``forward(x)`` translates in
    its ``direction``, so code written for one generator uses it unchanged.

Discriminator
    ``forward(x) -> scores`` (raw logits of any shape, e.g. N x 1 x 30 x 30 patches). A conditional loop feeds
    ``torch.cat([condition, sample], dim=1)``, as pix2pix and SEGAN do. Attribute ``in_channels``.

Class-conditional networks
    declare ``num_classes`` and take the batch's class indices as their last input: ``G(z, labels)``,
    ``D(x, labels)`` (:mod:`lightning_gan.nets.labels`, :mod:`lightning_gan.nets.conditional`).

Spectral normalization
    the discriminators' ``spectral_norm`` option, or :func:`lightning_gan.nets.spectral_norm.apply_spectral_norm`.

Initialisation
    :func:`lightning_gan.nets.init.normal_init_` (DCGAN/pix2pix: N(0, 0.02) weights, N(1, 0.02) norm scales).
"""

from lightning_gan.nets.conditional import ConditionalDCGANGenerator, ProjectionDiscriminator
from lightning_gan.nets.cyclegan import DiscriminatorPair, GeneratorPair
from lightning_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from lightning_gan.nets.metricgan import LearnableSigmoid, MetricDiscriminator, MetricGANGenerator
from lightning_gan.nets.pix2pix import PatchGANDiscriminator, PixelDiscriminator, ResnetGenerator, UnetGenerator
from lightning_gan.nets.segan import SEGANDiscriminator, SEGANGenerator

__all__ = [
    "ConditionalDCGANGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DiscriminatorPair",
    "GeneratorPair",
    "LearnableSigmoid",
    "MetricDiscriminator",
    "MetricGANGenerator",
    "PatchGANDiscriminator",
    "PixelDiscriminator",
    "ProjectionDiscriminator",
    "ResnetGenerator",
    "SEGANDiscriminator",
    "SEGANGenerator",
    "UnetGenerator",
]
