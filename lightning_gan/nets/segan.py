"""SEGAN networks: the fully convolutional encoder-decoder generator and the VBN discriminator.

Pascual, Bonafonte and Serrà, "SEGAN: Speech Enhancement Generative Adversarial Network", Interspeech 2017
(arXiv 1703.09452). Layers, activations, initialisation and the virtual batch norm follow the authors' TensorFlow
code, santi-pdp/segan at c88a08d (``generator.py`` ``AEGenerator``, ``discriminator.py``, ``bnorm.py``, ``ops.py``),
as summarised in ``docs/references.md`` ("SEGAN: networks and parameter counts"). The code is our own.

Where we differ from TF, on purpose:

- Padding. TF "SAME" pads a stride-2, k=31 convolution 14 left / 15 right; we pad ``(k - 1) // 2`` on both sides
  (``padding=15``). Lengths halve (and double in the decoder) exactly in both; only the sub-sample alignment of the
  kernels differs, which does not change the parameter count or what the network can learn.
- VBN reference statistics are computed without gradient and kept as buffers (TF lets the gradient flow through the
  reference pass because the reference batch is the current real batch in the same graph). This is what
  users of the references ask for (torchgan/torchgan issue #146, dansuh17/segan-pytorch issue #1): stored
  statistics, saved in checkpoints, no second graph per D call.
- The discriminator's strided convolutions have a bias by default (``bias=True``), as the "paper configuration"
  count (24,373,081, ``docs/references.md``) assumes. TF's ``discriminator.py`` calls ``downconv`` without
  ``bias_init``, so its D convs have no bias: ``SEGANDiscriminator(bias=False)`` is the exact TF v1.1 D
  (24,370,569 parameters, 2,512 fewer).

Small variants for CPU work (tests, smoke runs): e.g. ``channels=(8, 16, 32, 32, 64)`` and ``kernel_size=15``; the
window must then be a multiple of ``2**5 = 32`` (e.g. 4096). The full model belongs on a GPU: its step time and
memory on a 2-core CPU are measured in ``docs/benchmarks.md``.
"""

import warnings
from typing import Any, cast

import torch
from torch import Tensor, nn

from lightning_gan.nets.spectral_norm import apply_spectral_norm

PAPER_CHANNELS: tuple[int, ...] = (16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024)
"""Encoder / discriminator feature maps of the paper (TF ``model.py`` ``g_enc_depths`` and ``d_num_fmaps``)."""


def _check_config(channels: tuple[int, ...], kernel_size: int, owner: str) -> None:
    if len(channels) == 0 or any(int(c) < 1 for c in channels):
        raise ValueError(f"{owner}: expected `channels` to be a non-empty tuple of positive ints, got {channels!r}.")
    if kernel_size < 1:
        raise ValueError(f"{owner}: expected `kernel_size` to be a positive int, got {kernel_size!r}.")


def _padding(kernel_size: int) -> tuple[int, int]:
    """(padding, output_padding) that make a stride-2 conv halve and its transpose double any even length exactly."""
    padding = (kernel_size - 1) // 2
    return padding, 2 - (kernel_size - 2 * padding)


def _trunc_normal_init_(module: nn.Module, std: float = 0.02) -> None:
    """TF ``truncated_normal_initializer(stddev=0.02)`` on every convolution (cut at 2 std, as TF), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=std, a=-2 * std, b=2 * std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class SEGANGenerator(nn.Module):
    """SEGAN generator (paper section 3; TF ``AEGenerator``): a 1-D U-Net on raw (pre-emphasised) waveforms.

    Encoder: ``len(channels)`` strided convolutions (stride 2, lengths halve exactly), each followed by a PReLU with
    one slope per channel, initialised to 0 as TF ``ops.prelu``. At the bottleneck (length ``T / 2**L``) the latent
    ``z ~ N(0, 1)`` with ``channels[-1]`` channels is concatenated in front of the code, as TF ``concat([z, h])``.
    Decoder: as many transposed convolutions (stride 2, lengths double exactly) with output channels
    ``channels[-2], ..., channels[0], 1``; after each one except the last, PReLU, then concatenation with the mirrored
    encoder output taken *before* its activation (TF stores the skip before ``prelu``). ``tanh`` on the output.

    The paper configuration (the defaults, see :func:`segan_paper_generator`) has 73,100,049 parameters:
    73,092,048 convolution weights (encoder 24,364,016, decoder 48,728,032; the decoder is twice as wide because of
    the skips and ``z``), 4,001 biases (2,512 + 1,489) and 4,000 PReLU slopes (11 encoder + 10 decoder layers). With
    ``latent=False`` the first decoder layer reads 1024 instead of 2048 channels: 56,847,121.

    Args:
        channels: encoder feature maps (TF ``g_enc_depths``, paper 16-32-32-64-64-128-128-256-256-512-1024, giving an
            8 x 1024 code for a 16384-sample window).
        kernel_size: convolution width (paper and TF: 31; deNsuh/segan-pytorch 938b6c8 uses 32).
        latent: concatenate ``z`` at the bottleneck (paper: yes). Without it the generator is deterministic and
            :meth:`latent_shape` returns ``None``.
        bias: biases on every (transposed) convolution. TF's flags default to off, but the released v1.1 model and
            its scripts turn them on (``train_segan.sh``), so on here.

    Raises:
        ValueError: on empty/non-positive ``channels`` or ``kernel_size < 1``; in ``forward``, on an input that is
            not N x 1 x T, a ``T`` that is not a multiple of ``2**len(channels)``, or a ``z`` of the wrong shape.
    """

    in_channels: int = 1
    out_channels: int = 1

    family = "segan"
    modality = "audio"

    def __init__(
        self,
        channels: tuple[int, ...] = PAPER_CHANNELS,
        kernel_size: int = 31,
        latent: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_config(channels, kernel_size, "SEGANGenerator")
        self.channels = tuple(int(c) for c in channels)
        self.kernel_size = kernel_size
        self.latent = latent
        padding, output_padding = _padding(kernel_size)

        self.encoder = nn.ModuleList()
        self.encoder_act = nn.ModuleList()
        previous = self.in_channels
        for c in self.channels:
            self.encoder.append(nn.Conv1d(previous, c, kernel_size, stride=2, padding=padding, bias=bias))
            self.encoder_act.append(nn.PReLU(c, init=0.0))
            previous = c

        decoder_out = (*self.channels[:-1][::-1], self.out_channels)
        self.decoder = nn.ModuleList()
        self.decoder_act = nn.ModuleList()
        previous = self.channels[-1] * (2 if latent else 1)
        for i, c in enumerate(decoder_out):
            self.decoder.append(
                nn.ConvTranspose1d(
                    previous, c, kernel_size, stride=2, padding=padding, output_padding=output_padding, bias=bias
                )
            )
            if i < len(decoder_out) - 1:
                self.decoder_act.append(nn.PReLU(c, init=0.0))
                previous = 2 * c  # activated decoder output + skip of the same width
        _trunc_normal_init_(self)

    @property
    def size_multiple(self) -> int:
        """Input lengths must be multiples of this (``2**len(channels)``; 2048 for the paper model)."""
        return 2 ** len(self.channels)

    def _check_length(self, length: int) -> None:
        if length < 1 or length % self.size_multiple:
            raise ValueError(
                f"SEGANGenerator: input length {length} is not a positive multiple of {self.size_multiple} "
                f"(2**len(channels) with {len(self.channels)} stride-2 layers); pad or cut the audio to a multiple "
                f"of {self.size_multiple} (the paper uses 16384-sample windows)."
            )

    def latent_shape(self, batch_size: int, condition: Tensor | None) -> tuple[int, ...] | None:
        """Shape of ``z`` for ``condition`` (N x 1 x T): ``(batch_size, channels[-1], T / 2**len(channels))``.

        Returns ``None`` when ``latent=False``: the generator takes no noise, so the loop must not draw any.

        Raises:
            ValueError: if ``condition`` is ``None`` (SEGAN is conditional) or its length is not a valid multiple.
        """
        if not self.latent:
            return None
        if condition is None:
            raise ValueError("SEGANGenerator.latent_shape needs the condition (noisy speech, N x 1 x T), got None.")
        length = condition.shape[-1]
        self._check_length(length)
        return (batch_size, self.channels[-1], length // self.size_multiple)

    def forward(self, x: Tensor, z: Tensor | None = None) -> Tensor:
        """Enhance ``x`` (N x 1 x T, pre-emphasised, T a multiple of :attr:`size_multiple`) into N x 1 x T in [-1, 1].

        ``z`` (N x channels[-1] x T / 2**L) is drawn with ``torch.randn`` when omitted (inference, export); training
        loops pass their own so every rank draws from its own generator.
        """
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"SEGANGenerator expected input of shape N x 1 x T, got {tuple(x.shape)}.")
        self._check_length(x.shape[-1])
        skips = []
        h = x
        for i, (conv, act) in enumerate(zip(self.encoder, self.encoder_act, strict=True)):
            h = conv(h)
            if i < len(self.encoder) - 1:  # the last encoder output is the code, not a skip
                skips.append(h)
            h = act(h)
        if self.latent:
            shape = self.latent_shape(x.shape[0], x)
            assert shape is not None  # a latent G has a latent shape
            if z is None:
                z = torch.randn(shape, device=x.device, dtype=x.dtype)
            elif tuple(z.shape) != shape:
                raise ValueError(f"SEGANGenerator expected z of shape {shape}, got {tuple(z.shape)}.")
            h = torch.cat([z, h], dim=1)
        elif z is not None:
            raise ValueError("SEGANGenerator was built with latent=False but got a z.")
        for i, deconv in enumerate(self.decoder):
            h = deconv(h)
            if i < len(self.decoder) - 1:
                h = torch.cat([self.decoder_act[i](h), skips[-(i + 1)]], dim=1)
        return torch.tanh(h)


class VirtualBatchNorm1d(nn.Module):
    """Virtual batch normalisation (Salimans et al. 2016, arXiv 1606.03498, section 3.4) as SEGAN's TF ``bnorm.VBN``.

    Statistics are the per-channel mean and mean square over batch x time. :meth:`set_reference` computes them from
    a reference batch of size ``B`` (without gradient) and stores them as buffers (``reference_mean``,
    ``reference_mean_sq``, ``reference_batch_size``), so they are saved in checkpoints and restored by
    ``load_state_dict``; the reference batch itself is normalised with its own statistics and returned, so that the
    next layer can take its reference from it. Then:

    - train mode: a live batch is normalised with ``1/(B+1) * own + B/(B+1) * reference`` statistics (mean and mean
      square mixed separately, as TF); the gradient flows through the live part only;
    - eval mode: with the reference statistics alone, so every example is normalised independently of the others
      in its batch (the ``B -> infinity`` limit, like BatchNorm's running statistics);
    - no reference yet (either mode): with the batch's own statistics, i.e. plain batch norm, silently
      (:class:`SEGANDiscriminator` warns once).

    ``y = (x - mean) / sqrt(eps + mean_sq - mean**2) * weight + bias`` with ``weight ~ N(1, 0.02)``, ``bias = 0``
    per channel (TF gamma and beta).

    Args:
        num_features: channels ``C`` of the N x C x T input.
        eps: added to the variance (TF ``epsilon=1e-5``).
    """

    reference_mean: Tensor
    reference_mean_sq: Tensor
    reference_batch_size: Tensor

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        if num_features < 1:
            raise ValueError(f"VirtualBatchNorm1d: expected `num_features` >= 1, got {num_features!r}.")
        self.num_features = num_features
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        nn.init.normal_(self.weight, 1.0, 0.02)
        self.register_buffer("reference_mean", torch.zeros(num_features))
        self.register_buffer("reference_mean_sq", torch.zeros(num_features))
        self.register_buffer("reference_batch_size", torch.zeros((), dtype=torch.long))
        # Python mirror of ``reference_batch_size > 0``: checking the buffer would sync the GPU on every forward.
        self._has_reference = False

    @property
    def has_reference(self) -> bool:
        """Whether reference statistics have been set (or loaded)."""
        return self._has_reference

    def _check(self, x: Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.num_features:
            raise ValueError(
                f"VirtualBatchNorm1d expected input of shape N x {self.num_features} x T, got {tuple(x.shape)}."
            )

    @staticmethod
    def _moments(x: Tensor) -> tuple[Tensor, Tensor]:
        return x.mean(dim=(0, 2)), x.square().mean(dim=(0, 2))

    def _normalize(self, x: Tensor, mean: Tensor, mean_sq: Tensor) -> Tensor:
        std = (self.eps + (mean_sq - mean.square()).clamp_min(0.0)).sqrt()
        return (x - mean[:, None]) / std[:, None] * self.weight[:, None] + self.bias[:, None]

    @torch.no_grad()
    def set_reference(self, x: Tensor) -> Tensor:
        """Store the statistics of the reference batch ``x`` (N x C x T) and return ``x`` normalised with them."""
        self._check(x)
        mean, mean_sq = self._moments(x)
        self.reference_mean.copy_(mean)
        self.reference_mean_sq.copy_(mean_sq)
        self.reference_batch_size.fill_(x.shape[0])
        self._has_reference = True
        return self._normalize(x, mean, mean_sq)

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` (N x C x T) as described in the class docstring."""
        self._check(x)
        if not self._has_reference:
            mean, mean_sq = self._moments(x)
        elif not self.training:
            mean, mean_sq = self.reference_mean, self.reference_mean_sq
        else:
            own_mean, own_mean_sq = self._moments(x)
            new = 1.0 / (self.reference_batch_size.to(x.dtype) + 1.0)
            mean = new * own_mean + (1.0 - new) * self.reference_mean
            mean_sq = new * own_mean_sq + (1.0 - new) * self.reference_mean_sq
        return self._normalize(x, mean, mean_sq)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        size = self.reference_batch_size
        if not size.is_meta:
            self._has_reference = bool(size.item() > 0)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class SEGANDiscriminator(nn.Module):
    """SEGAN discriminator (paper section 3; TF ``discriminator.py``): conditional, one score per 1-s window.

    Input: ``cat([noisy, clean_or_enhanced], dim=1)``, N x 2 x window. ``len(channels)`` blocks of strided
    convolution (stride 2) -> :class:`VirtualBatchNorm1d` -> LeakyReLU(0.3), then a 1x1 convolution to one channel
    without bias and a fully connected ``window / 2**L -> 1`` layer: raw logits N x 1 (LSGAN takes them as they are).

    VBN reference: call :meth:`set_reference` with a D input batch (TF recomputes it from each step's real
    (noisy, clean) batch; deNsuh keeps a fixed batch; which one is the training loop's choice). Until then,
    ``forward`` falls back to each batch's own statistics (plain batch norm) and warns once, so the network is usable
    standalone. In eval mode the stored reference statistics alone are used (see :class:`VirtualBatchNorm1d`).

    The paper configuration (defaults, :func:`segan_paper_discriminator`) has 24,373,081 parameters: 24,364,512
    convolution weights (31 x sum of in x out), 2,512 convolution biases, 5,024 VBN scales and shifts, 1,024 in the
    1x1 convolution and 9 in the 8 -> 1 layer. TF's own D has no convolution biases (``bias=False``: 24,370,569).

    Args:
        in_channels: input channels (2: noisy and clean/enhanced, TF ``model.py``).
        channels: feature maps (TF ``d_num_fmaps``, the same 16...1024 as G; deNsuh doubles them).
        kernel_size: convolution width (paper 31).
        negative_slope: LeakyReLU slope (TF ``ops.leakyrelu`` 0.3; deNsuh/segan-pytorch's 0.03 is a typo).
        bias: biases on the strided convolutions (see the module docstring).
        window: input length; fixed because the final linear layer reads ``window / 2**L`` positions (paper 16384).
        spectral_norm: spectrally normalize every convolution and the linear layer (Miyato et al. 2018; see
            :mod:`lightning_gan.nets.spectral_norm`); not in the paper.

    Raises:
        ValueError: on an invalid configuration or a ``window`` that is not a multiple of ``2**len(channels)``; in
            ``forward`` and ``set_reference``, on an input that is not N x in_channels x window.
    """

    def __init__(
        self,
        in_channels: int = 2,
        channels: tuple[int, ...] = PAPER_CHANNELS,
        kernel_size: int = 31,
        negative_slope: float = 0.3,
        bias: bool = True,
        window: int = 16384,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        _check_config(channels, kernel_size, "SEGANDiscriminator")
        multiple = 2 ** len(channels)
        if in_channels < 1:
            raise ValueError(f"SEGANDiscriminator: expected `in_channels` >= 1, got {in_channels!r}.")
        if window < multiple or window % multiple:
            raise ValueError(
                f"SEGANDiscriminator: `window` {window} is not a positive multiple of {multiple} "
                f"(2**len(channels) with {len(channels)} stride-2 layers)."
            )
        self.in_channels = in_channels
        self.channels = tuple(int(c) for c in channels)
        self.window = window
        padding, _ = _padding(kernel_size)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        previous = in_channels
        for c in self.channels:
            self.convs.append(nn.Conv1d(previous, c, kernel_size, stride=2, padding=padding, bias=bias))
            self.norms.append(VirtualBatchNorm1d(c))
            previous = c
        self.act = nn.LeakyReLU(negative_slope)
        self.to_logit = nn.Conv1d(previous, 1, 1, bias=False)
        self.fc = nn.Linear(window // multiple, 1)
        _trunc_normal_init_(self)
        nn.init.xavier_uniform_(self.fc.weight)  # TF ``fully_connected`` default initialiser
        nn.init.zeros_(self.fc.bias)
        if spectral_norm:
            apply_spectral_norm(self)
        self._warned = False

    @property
    def has_reference(self) -> bool:
        """Whether every VBN layer has reference statistics (set or loaded)."""
        return all(norm.has_reference for norm in self.norms)

    def _check(self, x: Tensor) -> None:
        if x.ndim != 3 or x.shape[1] != self.in_channels or x.shape[2] != self.window:
            raise ValueError(
                f"SEGANDiscriminator expected input of shape N x {self.in_channels} x {self.window} "
                f"(cat([noisy, clean], 1) over one window), got {tuple(x.shape)}."
            )

    @torch.no_grad()
    def set_reference(self, x: Tensor) -> None:
        """Compute and store every VBN layer's reference statistics from the D input batch ``x``.

        Each layer takes its statistics from the previous layer's reference output (normalised with the reference's
        own statistics), as the TF reference pass does. No gradient; train/eval mode does not matter.
        """
        self._check(x)
        h = x
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = self.act(cast(VirtualBatchNorm1d, norm).set_reference(conv(h)))

    def forward(self, x: Tensor) -> Tensor:
        """Score ``x`` (N x in_channels x window): logits of shape N x 1."""
        self._check(x)
        if not self._warned and not self.has_reference:
            warnings.warn(
                "SEGANDiscriminator: no VBN reference statistics set; normalising with each batch's own statistics. "
                "Call set_reference(cat([noisy, clean], 1)) on a reference batch first.",
                stacklevel=2,
            )
            self._warned = True
        h = x
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = self.act(norm(conv(h)))
        return self.fc(self.to_logit(h).squeeze(1))


def segan_paper_generator() -> SEGANGenerator:
    """The paper's generator: channels 16...1024, k=31, latent on, biases on; 73,100,049 parameters.

    For CPU experiments use e.g. ``SEGANGenerator(channels=(8, 16, 32, 32, 64), kernel_size=15)`` (windows a
    multiple of 32).
    """
    return SEGANGenerator()


def segan_paper_discriminator() -> SEGANDiscriminator:
    """The paper's discriminator on 16384-sample windows: channels 16...1024, k=31, LeakyReLU 0.3, VBN;
    24,373,081 parameters (24,370,569 with ``bias=False``, which is TF's exact D).

    For CPU experiments use e.g. ``SEGANDiscriminator(channels=(8, 16, 32, 32, 64), kernel_size=15, window=4096)``.
    """
    return SEGANDiscriminator()
