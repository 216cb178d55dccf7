"""lightning_gan: GAN training on PyTorch Lightning.

One manual-optimization LightningModule (:class:`lightning_gan.gan.GAN`) runs every family (pix2pix, CycleGAN, SEGAN,
DCGAN); networks, losses, data and callbacks are swapped by YAML through ``python -m lightning_gan``.
"""

__version__ = "0.2.0"
