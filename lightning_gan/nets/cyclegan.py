"""CycleGAN's two generators and two discriminators, each pair one module under one optimizer.

Zhu, Park, Isola and Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks", ICCV
2017 (arXiv 1703.10593). The reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix, ``cycle_gan_model.py``)
trains ``G_A: A -> B`` and ``G_B: B -> A`` under one Adam and ``D_A`` (judges domain B) and ``D_B`` (judges domain A)
under another. Keeping each side one ``nn.Module`` keeps the loop's two optimizers, per-side clipping, the EMA of G
and one ``DistributedDataParallel`` per side (:mod:`lightning_gan.training.ddp`) unchanged: the loop never learns
that a side has two networks.

Each pair's ``forward`` computes everything its side needs from a batch in one call, so a DDP wrapper sees every
parameter used by one forward. Outside training, :class:`GeneratorPair` called with one image translates it in its
``direction``, which is what the inference, export and prediction code (written for one generator) calls.
"""

from typing import Literal, NamedTuple

from torch import Tensor, nn

from lightning_gan.nets.pix2pix import Norm, PatchGANDiscriminator, ResnetGenerator

Direction = Literal["AtoB", "BtoA"]
DIRECTIONS: tuple[str, ...] = ("AtoB", "BtoA")


def check_direction(direction: str, key: str = "direction") -> None:
    """Fail naming ``key``, the value and the two directions that exist."""
    if direction not in DIRECTIONS:
        raise ValueError(f"Expected `{key}` to be one of {DIRECTIONS} (AtoB: G_A, BtoA: G_B), got {direction!r}.")


class CycleOutputs(NamedTuple):
    """One training forward of both generators: translations, their round trips and (optionally) identities."""

    fake_b: Tensor  # G_A(real_A)
    rec_a: Tensor  # G_B(G_A(real_A))
    fake_a: Tensor  # G_B(real_B)
    rec_b: Tensor  # G_A(G_B(real_B))
    idt_a: Tensor | None  # G_A(real_B): G_A should leave a B image alone
    idt_b: Tensor | None  # G_B(real_A)


class GeneratorPair(nn.Module):
    """``G_A: A -> B`` and ``G_B: B -> A``, the reference's ``resnet_9blocks`` each by default.

    ``forward(x)`` translates ``x`` in ``direction`` (inference, export, prediction); ``forward(real_a, real_b)``
    runs the reference's training forward (``fake_B = G_A(A)``, ``rec_A = G_B(fake_B)``, ``fake_A = G_B(B)``,
    ``rec_B = G_A(fake_A)``, plus the identity mappings ``G_A(B)`` and ``G_B(A)`` when ``identity=True``) and returns
    :class:`CycleOutputs`.

    Parameters with 3 <-> 3 channels: 2 x 11,378,179 (the reference prints 11.378 M per generator).

    Args:
        channels_a: channels of domain A images (reference ``--input_nc`` 3).
        channels_b: channels of domain B images (reference ``--output_nc`` 3).
        ngf: channels after each generator's first conv (reference ``--ngf`` 64).
        norm: ``"instance"`` (reference CycleGAN default), ``"batch"`` or ``"none"``.
        n_blocks: residual blocks (9: ``resnet_9blocks``; 6: ``resnet_6blocks``, for 128x128 images).
        dropout: dropout in the residual blocks (reference ``--no_dropout`` is the CycleGAN default: off).
        direction: what ``forward(x)`` translates outside training: ``"AtoB"`` (G_A, the reference's default) or
            ``"BtoA"`` (G_B).
    """

    family = "cyclegan"
    modality = "image"
    latent = False
    size_multiple = ResnetGenerator.size_multiple

    def __init__(
        self,
        channels_a: int = 3,
        channels_b: int = 3,
        ngf: int = 64,
        norm: Norm = "instance",
        n_blocks: int = 9,
        dropout: bool = False,
        direction: Direction = "AtoB",
    ) -> None:
        super().__init__()
        check_direction(direction)
        self.channels_a, self.channels_b = channels_a, channels_b
        self.g_a = ResnetGenerator(channels_a, channels_b, ngf, norm, n_blocks, dropout)
        self.g_b = ResnetGenerator(channels_b, channels_a, ngf, norm, n_blocks, dropout)
        self.direction: Direction = direction

    @property
    def in_channels(self) -> int:
        """Channels of what ``forward(x)`` takes in ``direction`` (the data contract's ``in_channels``)."""
        return self.channels_a if self.direction == "AtoB" else self.channels_b

    @property
    def out_channels(self) -> int:
        """Channels of what ``forward(x)`` returns in ``direction``."""
        return self.channels_b if self.direction == "AtoB" else self.channels_a

    def translator(self, direction: Direction | None = None) -> ResnetGenerator:
        """The generator of ``direction`` (default: this pair's): G_A for ``"AtoB"``, G_B for ``"BtoA"``."""
        direction = self.direction if direction is None else direction
        check_direction(direction)
        return self.g_a if direction == "AtoB" else self.g_b

    def forward(self, x: Tensor, real_b: Tensor | None = None, identity: bool = False) -> Tensor | CycleOutputs:
        """``forward(x)``: ``x`` translated in ``direction``. ``forward(real_a, real_b, identity)``: the training
        forward of both generators (:class:`CycleOutputs`)."""
        if real_b is None:
            return self.translator()(x)
        fake_b = self.g_a(x)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(real_b)
        rec_b = self.g_a(fake_a)
        idt_a = self.g_a(real_b) if identity else None
        idt_b = self.g_b(x) if identity else None
        return CycleOutputs(fake_b, rec_a, fake_a, rec_b, idt_a, idt_b)


class DiscriminatorPair(nn.Module):
    """``D_A`` (real B versus G_A's fakes) and ``D_B`` (real A versus G_B's fakes), the reference's 70x70 PatchGAN
    (``--netD basic``, 3 layers, instance norm) each by default. Unconditional: each sees one image.

    ``forward(b_images, a_images)`` returns ``(D_A(b_images), D_B(a_images))``: both networks in one call.

    Parameters with 3 channels per domain: 2 x 2,764,737 (the reference prints 2.765 M per discriminator).

    Args:
        channels_a: channels of domain A images (D_B's input).
        channels_b: channels of domain B images (D_A's input).
        ndf: channels of the first conv (reference ``--ndf`` 64).
        n_layers: stride-2 convolutions (3: the 70x70 PatchGAN).
        norm: ``"instance"`` (reference CycleGAN default), ``"batch"`` or ``"none"``.
        spectral_norm: spectrally normalize every convolution of both.
    """

    def __init__(
        self,
        channels_a: int = 3,
        channels_b: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: Norm = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.channels_a, self.channels_b = channels_a, channels_b
        self.d_a = PatchGANDiscriminator(channels_b, ndf, n_layers, norm, spectral_norm)
        self.d_b = PatchGANDiscriminator(channels_a, ndf, n_layers, norm, spectral_norm)

    def forward(self, b_images: Tensor, a_images: Tensor) -> tuple[Tensor, Tensor]:
        """Logits of ``D_A`` for domain-B images and of ``D_B`` for domain-A images."""
        return self.d_a(b_images), self.d_b(a_images)


__all__ = ["DIRECTIONS", "CycleOutputs", "Direction", "DiscriminatorPair", "GeneratorPair", "check_direction"]
