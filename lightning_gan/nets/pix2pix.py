"""pix2pix networks: U-Net and ResNet generators, PatchGAN and PixelGAN discriminators.

Isola, Zhu, Zhou and Efros, "Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017
(arXiv 1611.07004). Layers, bias rules, initialisation and parameter counts follow the authors' PyTorch reference,
junyanz/pytorch-CycleGAN-and-pix2pix at commit 2a7afba2895d52556dd5dfe07e8555ef657ced6f, ``models/networks.py``
(``UnetGenerator`` L424-515, ``NLayerDiscriminator`` L518-555, ``PixelDiscriminator`` L558-588, ``ResnetGenerator``);
the counts are checked in ``tests/nets/test_pix2pix.py``. The code is our own: an explicit list of encoder blocks and
decoder blocks instead of the reference's recursive skip-connection block.

Bias rule (reference ``use_bias``): a convolution followed by a norm has no bias with batch norm (the norm's shift
replaces it) and a bias with instance norm (the reference keeps it, although a non-affine instance norm cancels it;
the counts need it). With ``norm="none"`` every convolution has a bias, because nothing else can shift its output.
The reference leaves the bias off there too (its check compares a lambda with ``nn.InstanceNorm2d``): a quirk we do
not copy. Convolutions not followed by a norm (first and last layers) have the bias the reference gives them.
"""

from typing import Any, Literal

import torch
from torch import Tensor, nn

from lightning_gan.nets.init import normal_init_
from lightning_gan.nets.spectral_norm import apply_spectral_norm

Norm = Literal["batch", "instance", "none"]
NORMS: tuple[str, ...] = ("batch", "instance", "none")


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"Expected `norm` to be one of {NORMS}, got {norm!r}.")


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"Expected `{name}` to be a positive integer, got {value!r}.")


def norm_layer(norm: Norm, channels: int) -> nn.Module:
    """The reference's ``get_norm_layer``: batch = ``BatchNorm2d`` (affine, running statistics); instance =
    ``InstanceNorm2d`` (no affine, no running statistics); none = ``Identity``."""
    _check_norm(norm)
    if norm == "batch":
        return nn.BatchNorm2d(channels, affine=True, track_running_stats=True)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    return nn.Identity()


def _check_image(x: Tensor, in_channels: int, owner: str) -> None:
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"{owner} expected input of shape N x {in_channels} x H x W, got {tuple(x.shape)}.")


class UnetGenerator(nn.Module):
    """U-Net generator (Isola et al. 2017, section 3.2.1 and appendix 6.1.1): ``num_downs`` stride-2 4x4
    convolutions down to 1x1 at the input size ``2**num_downs``, then as many transposed convolutions back up, each
    decoder output concatenated after the mirrored encoder output (skip first, as the reference's ``cat([x, y])``).

    Encoder level ``i`` (outermost 0) has ``ngf * min(2**i, 8)`` channels. The outermost encoder conv has no
    activation before it and no norm after it; the innermost has no norm (a 1x1 map has nothing to normalise over at
    batch size 1). The decoder mirrors it with ReLU, ConvTranspose and norm, and ends in a biased ConvTranspose and
    ``tanh`` (images in [-1, 1]). Dropout 0.5 follows the norm in the ``num_downs - 5`` intermediate 512-channel
    decoder blocks; it is the paper's only noise source (section 3.1), hence on by default.

    Parameters with 3 -> 3 channels and ``ngf=64``: ``num_downs=8`` 54,413,955 (batch) / 54,409,603 (instance);
    ``num_downs=7`` 41,828,995 (batch).

    Args:
        in_channels: channels of the condition image A (reference ``input_nc`` = 3).
        out_channels: channels of the generated image B (reference ``output_nc`` = 3).
        num_downs: number of stride-2 downsamplings; H and W must be multiples of ``2**num_downs``. 8 is the
            reference's ``unet_256`` (the pix2pix default), 7 its ``unet_128``. At least 5, as the reference always
            builds the four outer levels plus the innermost one.
        ngf: channels of the outermost level (reference ``--ngf 64``).
        norm: ``"batch"`` (the pix2pix default, reference ``--norm batch``), ``"instance"`` or ``"none"``.
        dropout: dropout 0.5 in the intermediate decoder blocks (reference default; ``--no_dropout`` turns it off).

    Raises:
        ValueError: on an unknown ``norm``, ``num_downs < 5`` or a non-positive size; in ``forward``, on an input
            with the wrong channels or with H or W not a multiple of ``2**num_downs``.
    """

    family = "pix2pix"
    modality = "image"
    # No z: the paper's noise is dropout. The paper also keeps it (and batch statistics) on at test time; the GAN
    # module evaluates in eval mode instead (the two compared in docs/experiments/pix2pix_cpu_recipe.md).
    latent = False

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: Norm = "batch",
        dropout: bool = True,
    ) -> None:
        super().__init__()
        _check_norm(norm)
        _check_positive(in_channels=in_channels, out_channels=out_channels, ngf=ngf)
        if num_downs < 5:
            raise ValueError(f"Expected `num_downs` to be at least 5, got {num_downs!r}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_downs = num_downs
        use_bias = norm != "batch"
        inner = num_downs - 1
        width = [ngf * min(2**i, 8) for i in range(num_downs)]  # output channels of encoder level i

        encoders: list[nn.Module] = [nn.Conv2d(in_channels, width[0], 4, 2, 1, bias=use_bias)]
        for i in range(1, num_downs):
            layers = [nn.LeakyReLU(0.2), nn.Conv2d(width[i - 1], width[i], 4, 2, 1, bias=use_bias)]
            if i < inner:
                layers.append(norm_layer(norm, width[i]))
            encoders.append(nn.Sequential(*layers))

        # decoders[i] undoes encoders[i]: it reads the innermost code (i = inner) or cat(skip, deeper decoder).
        decoders: list[nn.Module] = []
        for i in range(num_downs):
            dec_in = width[i] if i == inner else 2 * width[i]
            if i == 0:
                layers = [nn.ReLU(inplace=True), nn.ConvTranspose2d(dec_in, out_channels, 4, 2, 1), nn.Tanh()]
            else:
                layers = [
                    nn.ReLU(inplace=True),  # its input is a fresh tensor (cat or the innermost conv), safe in place
                    nn.ConvTranspose2d(dec_in, width[i - 1], 4, 2, 1, bias=use_bias),
                    norm_layer(norm, width[i - 1]),
                ]
                if dropout and 4 <= i < inner:
                    layers.append(nn.Dropout(0.5))
            decoders.append(nn.Sequential(*layers))

        self.encoders = nn.ModuleList(encoders)
        self.decoders = nn.ModuleList(decoders)
        normal_init_(self)

    @property
    def size_multiple(self) -> int:
        """H and W of the input must be multiples of this (``2**num_downs``)."""
        return 2**self.num_downs

    def forward(self, x: Tensor) -> Tensor:
        """Map condition ``x`` (N x in_channels x H x W) to an image (N x out_channels x H x W) in [-1, 1]."""
        _check_image(x, self.in_channels, type(self).__name__)
        h, w = x.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple:
            raise ValueError(
                f"{type(self).__name__}(num_downs={self.num_downs}) needs H and W that are multiples of "
                f"{self.size_multiple}, got {h}x{w}."
            )
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
        y = skips.pop()  # the innermost code has no skip of its own
        for i in range(self.num_downs - 1, 0, -1):
            y = torch.cat([skips[i - 1], self.decoders[i](y)], dim=1)
        return self.decoders[0](y)


class _ResnetBlock(nn.Module):
    """``x + [pad, conv3, norm, ReLU, (dropout), pad, conv3, norm](x)`` with reflection padding."""

    def __init__(self, channels: int, norm: Norm, use_bias: bool, dropout: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=use_bias),
            norm_layer(norm, channels),
            nn.ReLU(inplace=True),
        ]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=use_bias), norm_layer(norm, channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """ResNet generator of Johnson et al. 2016 (arXiv 1603.08155), as the reference builds it (its CycleGAN default,
    ``--netG resnet_9blocks``): reflection pad + 7x7 conv, two stride-2 3x3 downsamplings, ``n_blocks`` residual
    blocks at ``4 * ngf`` channels, two stride-2 transposed-conv upsamplings, reflection pad + 7x7 conv and ``tanh``.

    Parameters with 3 -> 3 channels, ``ngf=64``, instance norm: 11,378,179 (9 blocks), 7,837,699 (6 blocks).

    Args:
        in_channels: channels of the condition image (reference ``input_nc`` = 3).
        out_channels: channels of the generated image (reference ``output_nc`` = 3).
        ngf: channels after the first conv (reference ``--ngf 64``).
        norm: ``"instance"`` (the reference's base default for this net), ``"batch"`` or ``"none"``.
        n_blocks: residual blocks; 9 for 256x256 images, 6 for 128x128 (reference ``resnet_9blocks`` /
            ``resnet_6blocks``).
        dropout: dropout 0.5 inside each residual block (off by default, as for CycleGAN).

    Raises:
        ValueError: on an unknown ``norm`` or bad sizes; in ``forward``, on wrong channels or H or W that is not a
            multiple of 4 (so the output has the input's size) or smaller than 8 (reflection padding needs it).
    """

    family = "pix2pix"
    modality = "image"
    latent = False
    size_multiple = 4
    """H and W of the input must be multiples of this (two stride-2 downsamplings)."""

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        ngf: int = 64,
        norm: Norm = "instance",
        n_blocks: int = 9,
        dropout: bool = False,
    ) -> None:
        super().__init__()
        _check_norm(norm)
        _check_positive(in_channels=in_channels, out_channels=out_channels, ngf=ngf)
        if n_blocks < 0:
            raise ValueError(f"Expected `n_blocks` to be >= 0, got {n_blocks!r}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        use_bias = norm != "batch"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, ngf, 7, bias=use_bias),
            norm_layer(norm, ngf),
            nn.ReLU(inplace=True),
        ]
        for mult in (1, 2):  # downsample: ngf -> 2 ngf -> 4 ngf
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1, bias=use_bias),
                norm_layer(norm, ngf * mult * 2),
                nn.ReLU(inplace=True),
            ]
        layers += [_ResnetBlock(ngf * 4, norm, use_bias, dropout) for _ in range(n_blocks)]
        for mult in (4, 2):  # upsample: 4 ngf -> 2 ngf -> ngf
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1, bias=use_bias),
                norm_layer(norm, ngf * mult // 2),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        normal_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Map condition ``x`` (N x in_channels x H x W) to an image (N x out_channels x H x W) in [-1, 1]."""
        _check_image(x, self.in_channels, type(self).__name__)
        h, w = x.shape[-2:]
        if h % self.size_multiple or w % self.size_multiple or min(h, w) < 8:
            raise ValueError(
                f"{type(self).__name__} needs H and W that are multiples of {self.size_multiple} and >= 8, got {h}x{w}."
            )
        return self.model(x)


def patchgan_receptive_field(n_layers: int) -> int:
    """Receptive field (pixels, per side) of one output logit of :class:`PatchGANDiscriminator`.

    ``n_layers`` stride-2 and then two stride-1 4x4 convolutions: 16, 34, 70, 142, 286 for ``n_layers`` 1 to 5.
    """
    _check_positive(n_layers=n_layers)
    field = 1
    for stride in [1, 1] + [2] * n_layers:  # walk back from the output
        field = (field - 1) * stride + 4
    return field


class PatchGANDiscriminator(nn.Module):
    """PatchGAN discriminator (Isola et al. 2017, section 3.2.2; reference ``NLayerDiscriminator``): a grid of
    logits, each judging one ``receptive_field``-sized patch of ``cat(condition, image)``.

    Conv 4x4 stride 2 with bias and LeakyReLU 0.2; ``n_layers - 1`` more stride-2 convs with norm; one stride-1 conv
    with norm; a stride-1 conv to 1 channel with bias. Channels ``ndf * min(2**n, 8)``. No sigmoid: the loss takes
    logits. With ``n_layers=3`` (the paper's 70x70 PatchGAN) a 256x256 input gives N x 1 x 30 x 30.

    Parameters (``ndf=64``, 6 input channels, batch norm), ``n_layers`` 1-5: 139,585 / 666,433 / 2,768,705 /
    6,964,033 / 11,159,361. With 3 input channels (n_layers 3): 2,765,633; with instance norm: 2,767,809.

    Args:
        in_channels: condition plus image channels, 3 + 3 = 6 for pix2pix (reference ``input_nc + output_nc``).
        ndf: channels of the first conv (reference ``--ndf 64``).
        n_layers: stride-2 convolutions; 3 is the reference's ``basic`` (70x70) discriminator.
        norm: ``"batch"`` (pix2pix default), ``"instance"`` or ``"none"``.
        spectral_norm: spectrally normalize every convolution (Miyato et al. 2018; see
            :mod:`lightning_gan.nets.spectral_norm`).

    Raises:
        ValueError: on an unknown ``norm`` or non-positive sizes; in ``forward``, on wrong channels or an input too
            small to leave one logit.
    """

    def __init__(
        self, in_channels: int = 6, ndf: int = 64, n_layers: int = 3, norm: Norm = "batch", spectral_norm: bool = False
    ) -> None:
        super().__init__()
        _check_norm(norm)
        _check_positive(in_channels=in_channels, ndf=ndf, n_layers=n_layers)
        self.in_channels = in_channels
        self.n_layers = n_layers
        use_bias = norm != "batch"
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        channels = ndf
        for n in range(1, n_layers + 1):
            out = ndf * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(channels, out, 4, stride, 1, bias=use_bias),
                norm_layer(norm, out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)
        normal_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    @property
    def receptive_field(self) -> int:
        """Side of the input patch each output logit sees: 70 for ``n_layers=3``."""
        return patchgan_receptive_field(self.n_layers)

    def output_size(self, size: int) -> int:
        """Side of the logit grid for an input side ``size`` (30 for 256 with ``n_layers=3``)."""
        for _ in range(self.n_layers):
            size = size // 2  # k4 s2 p1
        return size - 2  # two k4 s1 p1 convs

    def forward(self, x: Tensor) -> Tensor:
        """Logits N x 1 x H' x W' for ``x`` (N x in_channels x H x W)."""
        _check_image(x, self.in_channels, type(self).__name__)
        h, w = x.shape[-2:]
        if min(self.output_size(h), self.output_size(w)) < 1:
            raise ValueError(
                f"{type(self).__name__}(n_layers={self.n_layers}) gives no logit for a {h}x{w} input; "
                f"H and W must be at least {3 * 2**self.n_layers}."
            )
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PixelGAN discriminator (Isola et al. 2017, section 4.4; reference ``PixelDiscriminator``): one logit per
    pixel, judging colour only. 1x1 convs: in -> ndf (bias), LeakyReLU 0.2, ndf -> 2 ndf, norm, LeakyReLU,
    2 ndf -> 1. As in the reference, the last two convs carry a bias only when the norm is not batch norm.

    Parameters (``ndf=64``, 6 input channels, batch norm): 9,024. Output N x 1 x H x W.

    Args:
        in_channels: condition plus image channels (6 for pix2pix).
        ndf: channels of the first conv (reference ``--ndf 64``).
        norm: ``"batch"`` (pix2pix default), ``"instance"`` or ``"none"``.

    Raises:
        ValueError: on an unknown ``norm`` or non-positive sizes; in ``forward``, on wrong channels.
    """

    def __init__(self, in_channels: int = 6, ndf: int = 64, norm: Norm = "batch") -> None:
        super().__init__()
        _check_norm(norm)
        _check_positive(in_channels=in_channels, ndf=ndf)
        self.in_channels = in_channels
        use_bias = norm != "batch"
        self.model = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=use_bias),
            norm_layer(norm, ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 1, bias=use_bias),
        )
        normal_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Logits N x 1 x H x W for ``x`` (N x in_channels x H x W)."""
        _check_image(x, self.in_channels, type(self).__name__)
        return self.model(x)


def unet_256(in_channels: int = 3, out_channels: int = 3, **kwargs: Any) -> UnetGenerator:
    """The pix2pix default generator (reference ``--netG unet_256``): 8 downsamplings, 256x256 inputs, ngf 64,
    batch norm, dropout. 54,413,955 parameters for 3 -> 3 channels (54,409,603 with ``norm="instance"``)."""
    return UnetGenerator(in_channels, out_channels, num_downs=8, **kwargs)


def unet_128(in_channels: int = 3, out_channels: int = 3, **kwargs: Any) -> UnetGenerator:
    """Reference ``--netG unet_128``: 7 downsamplings, 128x128 inputs. 41,828,995 parameters for 3 -> 3 channels."""
    return UnetGenerator(in_channels, out_channels, num_downs=7, **kwargs)


def patchgan_70(in_channels: int = 6, **kwargs: Any) -> PatchGANDiscriminator:
    """The pix2pix default discriminator (reference ``--netD basic``): 70x70 PatchGAN, 3 layers, ndf 64, batch
    norm. 2,768,705 parameters for 6 input channels; N x 1 x 30 x 30 logits for 256x256."""
    return PatchGANDiscriminator(in_channels, n_layers=3, **kwargs)


def pixelgan(in_channels: int = 6, **kwargs: Any) -> PixelDiscriminator:
    """Reference ``--netD pixel``: 1x1 PixelGAN, ndf 64, batch norm. 9,024 parameters for 6 input channels."""
    return PixelDiscriminator(in_channels, **kwargs)


def resnet_9blocks(in_channels: int = 3, out_channels: int = 3, **kwargs: Any) -> ResnetGenerator:
    """Reference ``--netG resnet_9blocks``: ngf 64, instance norm, no dropout. 11,378,179 parameters for 3 -> 3."""
    return ResnetGenerator(in_channels, out_channels, n_blocks=9, **kwargs)


def resnet_6blocks(in_channels: int = 3, out_channels: int = 3, **kwargs: Any) -> ResnetGenerator:
    """Reference ``--netG resnet_6blocks``: ngf 64, instance norm, no dropout. 7,837,699 parameters for 3 -> 3."""
    return ResnetGenerator(in_channels, out_channels, n_blocks=6, **kwargs)
