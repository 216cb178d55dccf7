"""MetricGAN+ networks: the BLSTM mask generator and the metric discriminator.

Fu, Yu, Hsieh, Plantinga, Ravanelli, Lu and Tsao, "MetricGAN+: An Improved Version of MetricGAN for Speech
Enhancement", Interspeech 2021 (arXiv 2104.03538). Layer sizes, activations, initialisation, the STFT settings, the
learnable sigmoid (beta 1.2) and the mask floor (0.05) follow the authors' SpeechBrain recipe, speechbrain/speechbrain
at 9c826ef3937bac885c8a6ca86c6889a30f256fb5 (``speechbrain/lobes/models/MetricGAN.py``,
``recipes/Voicebank/enhance/MetricGAN/{hparams/train.yaml,models/MetricGAN.yaml,train.py}``), as summarised in
``docs/metricgan.md``. The code is our own.

Why a mask generator on waveforms: the generator predicts a bounded multiplicative mask on the noisy log1p magnitude
(``0.05 <= mask <= 1.2``), so an untrained network already returns something close to its input instead of noise,
and resynthesis reuses the noisy phase. :class:`MetricGANGenerator` wraps the STFT (``torch.stft``/``torch.istft``)
around the mask network so it maps a waveform ``N x 1 x T`` to a waveform of the same length: the loop, the data
module, whole-file inference, the prediction writer and the speech metrics treat it as they treat SEGAN's generator.

Parameter counts (the recipe's, ``tests/nets/test_metricgan.py`` checks them on the meta device): generator
1,895,514 (BLSTM 1,697,600; Linear 400->300 120,300; Linear 300->257 77,357; sigmoid slopes 257); discriminator
19,010 (batch norm 4; convolutions 765 + 3 x 5,640; Linear 15->50 800, 50->10 510, 10->1 11).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lightning_gan.nets.spectral_norm import apply_spectral_norm

RECIPE_N_FFT = 512
"""512-point STFT: 32 ms at 16 kHz (recipe ``N_fft``, ``Win_length: 32``)."""
RECIPE_HOP = 256
"""16 ms hop at 16 kHz (recipe ``Hop_length: 16``)."""
RECIPE_MASK_FLOOR = 0.05
"""The mask's lower bound (recipe ``min_mask``)."""
RECIPE_BETA = 1.2
"""The learnable sigmoid's upper bound (``1.2 * sigmoid(slope * x)`` in the recipe)."""
RECIPE_SLOPE_MAX = 3.5
"""The recipe clamps the sigmoid slopes to at most this before every generator step (``train.py``, "to prevent
gradient goes to infinity")."""


class LearnableSigmoid(nn.Module):
    """``beta * sigmoid(slope * x)`` with one trainable slope per feature, initialised to 1.

    Why: a mask above 1 lets the generator restore energy the noise masked (beta 1.2 in the paper, section 2.3),
    and a slope per frequency lets each bin choose how sharply it switches between floor and ceiling.

    Args:
        features: size of the last input dimension (257 frequency bins for a 512-point STFT).
        beta: the output's upper bound.
    """

    def __init__(self, features: int = RECIPE_N_FFT // 2 + 1, beta: float = RECIPE_BETA) -> None:
        super().__init__()
        if features < 1:
            raise ValueError(f"LearnableSigmoid: expected `features` >= 1, got {features!r}.")
        if beta <= 0:
            raise ValueError(f"LearnableSigmoid: expected `beta` > 0, got {beta!r}.")
        self.beta = float(beta)
        self.slope = nn.Parameter(torch.ones(features))

    def forward(self, x: Tensor) -> Tensor:
        return self.beta * torch.sigmoid(self.slope * x)

    @torch.no_grad()
    def clamp_slope_(self, maximum: float = RECIPE_SLOPE_MAX) -> None:
        """Clamp the slopes to ``<= maximum`` and replace NaN by ``maximum``, as the recipe does before each G step."""
        self.slope.nan_to_num_(nan=maximum).clamp_(max=maximum)


class MetricGANGenerator(nn.Module):
    """MetricGAN+'s generator: waveform in, enhanced waveform of the same length out.

    ``log1p(|STFT(noisy)|)`` (frames x 257) -> 2-layer BLSTM (``hidden_size`` per direction) -> Linear 400->300 ->
    LeakyReLU(0.3) -> Linear 300->257 -> :class:`LearnableSigmoid` = the mask, floored at ``mask_floor``. The mask
    multiplies the noisy *log1p* magnitude (the recipe's "signal approximation": ``predict_spec = mask *
    noisy_spec``), ``expm1`` returns to a magnitude, and the inverse STFT with the noisy phase gives the waveform.
    An all-ones mask therefore returns the input (the STFT round trip).

    STFT: ``torch.stft`` with a periodic Hamming window of ``n_fft`` samples, ``hop_length``, ``center=True`` with
    zero padding, as SpeechBrain's ``STFT``; the recipe's 32 ms / 16 ms at 16 kHz are 512 / 256 samples.

    Args:
        n_fft: STFT size; the mask network has ``n_fft // 2 + 1`` inputs and outputs.
        hop_length: STFT hop in samples.
        hidden_size: LSTM units per direction (200).
        num_layers: BLSTM layers (2).
        linear_size: width of the hidden linear layer (300).
        mask_floor: the mask's lower bound (0.05).
        beta: the learnable sigmoid's upper bound (1.2).

    Raises:
        ValueError: on a non-positive size, ``hop_length > n_fft`` (the inverse STFT needs overlapping or touching
            windows), a floor outside ``[0, beta)``; in ``forward``, on an input that is not ``N x 1 x T`` or is
            shorter than ``n_fft // 2 + 1`` samples.
    """

    window: Tensor
    in_channels: int = 1
    out_channels: int = 1
    family = "metricgan"
    modality = "audio"
    latent = False
    size_multiple = 1

    def __init__(
        self,
        n_fft: int = RECIPE_N_FFT,
        hop_length: int = RECIPE_HOP,
        hidden_size: int = 200,
        num_layers: int = 2,
        linear_size: int = 300,
        mask_floor: float = RECIPE_MASK_FLOOR,
        beta: float = RECIPE_BETA,
    ) -> None:
        super().__init__()
        for name, value in (
            ("n_fft", n_fft),
            ("hop_length", hop_length),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
            ("linear_size", linear_size),
        ):
            if int(value) < 1:
                raise ValueError(f"MetricGANGenerator: expected `{name}` >= 1, got {value!r}.")
        if hop_length > n_fft:
            raise ValueError(
                f"MetricGANGenerator: expected `hop_length` <= `n_fft` ({n_fft}) so the inverse STFT can overlap-add "
                f"the frames, got {hop_length!r}."
            )
        if not 0.0 <= mask_floor < beta:
            raise ValueError(f"MetricGANGenerator: expected 0 <= `mask_floor` < beta ({beta}), got {mask_floor!r}.")
        self.n_fft, self.hop_length, self.mask_floor = int(n_fft), int(hop_length), float(mask_floor)
        self.freq_bins = self.n_fft // 2 + 1
        self.blstm = nn.LSTM(self.freq_bins, hidden_size, num_layers=num_layers, bidirectional=True, batch_first=True)
        self.linear1 = nn.Linear(2 * hidden_size, linear_size)
        self.activation = nn.LeakyReLU(negative_slope=0.3)
        self.linear2 = nn.Linear(linear_size, self.freq_bins)
        self.sigmoid = LearnableSigmoid(self.freq_bins, beta)
        # Not a parameter and not saved: a fixed function of n_fft.
        self.register_buffer("window", torch.hamming_window(self.n_fft, periodic=True), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The recipe's initialisation: Xavier-uniform input weights, orthogonal recurrent weights, zero biases."""
        if self.linear1.weight.is_meta:  # counting parameters on the meta device: nothing to initialise
            return
        for name, param in self.blstm.named_parameters():
            if "bias" in name:
                nn.init.zeros_(param)
            elif "weight_ih" in name:
                nn.init.xavier_uniform_(param)
            elif "weight_hh" in name:
                nn.init.orthogonal_(param)
        for linear in (self.linear1, self.linear2):
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)

    # ------------------------------------------------------------------ the STFT front end
    def stft(self, wave: Tensor) -> Tensor:
        """Complex STFT of ``N x 1 x T`` (or ``N x T``) waveforms: ``N x frames x freq_bins``."""
        if wave.ndim == 3:
            if wave.shape[1] != 1:
                raise ValueError(f"MetricGANGenerator: expected N x 1 x T waveforms, got shape {tuple(wave.shape)}.")
            wave = wave[:, 0]
        if wave.ndim != 2:
            raise ValueError(f"MetricGANGenerator: expected N x 1 x T waveforms, got shape {tuple(wave.shape)}.")
        if wave.shape[-1] <= self.n_fft // 2:
            raise ValueError(
                f"MetricGANGenerator: an input of {wave.shape[-1]} samples is too short for a {self.n_fft}-point "
                f"STFT; it needs more than {self.n_fft // 2} samples."
            )
        window = self.window.to(device=wave.device, dtype=torch.float32)
        spec = torch.stft(
            wave.float(),
            self.n_fft,
            self.hop_length,
            window=window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return spec.transpose(1, 2)

    def istft(self, spec: Tensor, length: int) -> Tensor:
        """Inverse of :meth:`stft` (``N x frames x freq_bins`` complex) to ``N x 1 x length`` waveforms."""
        window = self.window.to(device=spec.device, dtype=torch.float32)
        wave = torch.istft(spec.transpose(1, 2), self.n_fft, self.hop_length, window=window, center=True, length=length)
        return wave.unsqueeze(1)

    def spectrogram(self, wave: Tensor) -> Tensor:
        """The features the networks see: ``log1p(|STFT|)``, ``N x frames x freq_bins`` (the recipe's
        ``compute_feats``)."""
        return torch.log1p(self.stft(wave).abs())

    # ------------------------------------------------------------------ the mask network
    def mask(self, features: Tensor) -> Tensor:
        """The floored mask for ``N x frames x freq_bins`` log1p magnitudes."""
        if features.ndim != 3 or features.shape[-1] != self.freq_bins:
            raise ValueError(
                f"MetricGANGenerator: expected N x frames x {self.freq_bins} features (n_fft={self.n_fft}), got shape "
                f"{tuple(features.shape)}; the STFT configuration differs from the one this generator was built for."
            )
        out, _ = self.blstm(features)
        out = self.linear2(self.activation(self.linear1(out)))
        return self.sigmoid(out).clamp(min=self.mask_floor)

    def apply_mask(self, wave: Tensor, mask: Tensor) -> Tensor:
        """Resynthesise ``wave`` with ``mask`` applied to its log1p magnitude, keeping its phase."""
        spec = self.stft(wave)
        enhanced = torch.expm1(mask * torch.log1p(spec.abs()))
        return self.istft(torch.polar(enhanced, spec.angle()), wave.shape[-1])

    def forward(self, noisy: Tensor) -> Tensor:
        """Enhance ``N x 1 x T`` waveforms; the output has the input's shape."""
        return self.apply_mask(noisy, self.mask(self.spectrogram(noisy)))

    def sigmoids(self) -> list[LearnableSigmoid]:
        """The learnable sigmoids inside, whose slopes the objective clamps before each generator step."""
        return [m for m in self.modules() if isinstance(m, LearnableSigmoid)]


class MetricDiscriminator(nn.Module):
    """MetricGAN+'s discriminator: a metric estimator on a pair of log1p magnitude spectrograms.

    Input ``N x 2 x frames x freq_bins`` (the signal under test, then the clean reference) -> BatchNorm2d(2,
    momentum 0.01) -> four 5x5 convolutions of ``base_channels`` maps (no padding), each followed by LeakyReLU(0.3)
    -> the mean over time and frequency (so any utterance length works) -> Linear 15->50 -> LeakyReLU -> Linear
    50->10 -> LeakyReLU -> Linear 10->1: the predicted normalised metric, ``N x 1``. Every convolution and linear
    layer is spectrally normalised (Lipschitz-1, as the recipe does; MetricGAN, arXiv 1905.04874, section 3.2, needs
    D smooth so its gradient guides G), Xavier-uniform initialised with zero biases.

    Args:
        kernel_size: the convolutions' kernel (5 x 5).
        base_channels: maps per convolution (15).
        spectral_norm: spectrally normalise the layers (the recipe: yes).

    Raises:
        ValueError: on non-positive sizes; in ``forward``, on an input that is not ``N x 2 x frames x bins`` or whose
            spectrogram is smaller than the four convolutions need.
    """

    in_channels: int = 2

    def __init__(self, kernel_size: int = 5, base_channels: int = 15, spectral_norm: bool = True) -> None:
        super().__init__()
        if kernel_size < 1 or base_channels < 1:
            raise ValueError(
                f"MetricDiscriminator: expected positive `kernel_size` and `base_channels`, got {kernel_size!r}, "
                f"{base_channels!r}."
            )
        self.kernel_size = int(kernel_size)
        self.norm = nn.BatchNorm2d(self.in_channels, momentum=0.01)
        self.convs = nn.ModuleList(
            nn.Conv2d(self.in_channels if i == 0 else base_channels, base_channels, kernel_size) for i in range(4)
        )
        self.linears = nn.ModuleList([nn.Linear(base_channels, 50), nn.Linear(50, 10), nn.Linear(10, 1)])
        self.activation = nn.LeakyReLU(negative_slope=0.3)
        if not self.norm.weight.is_meta:
            for layer in [*self.convs, *self.linears]:
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
        if spectral_norm:
            apply_spectral_norm(self)

    @property
    def min_size(self) -> int:
        """The smallest number of frames (and bins) the four unpadded convolutions accept."""
        return 4 * (self.kernel_size - 1) + 1

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"MetricDiscriminator: expected N x 2 x frames x bins, got shape {tuple(x.shape)}.")
        if min(x.shape[2], x.shape[3]) < self.min_size:
            raise ValueError(
                f"MetricDiscriminator: a {x.shape[2]} x {x.shape[3]} spectrogram is smaller than the "
                f"{self.min_size} x {self.min_size} its four {self.kernel_size}x{self.kernel_size} convolutions need."
            )
        out = self.norm(x)
        for conv in self.convs:
            out = self.activation(conv(out))
        out = out.mean(dim=(2, 3))
        for i, linear in enumerate(self.linears):
            out = linear(out)
            if i < len(self.linears) - 1:
                out = self.activation(out)
        return out


__all__ = [
    "RECIPE_BETA",
    "RECIPE_HOP",
    "RECIPE_MASK_FLOOR",
    "RECIPE_N_FFT",
    "RECIPE_SLOPE_MAX",
    "LearnableSigmoid",
    "MetricDiscriminator",
    "MetricGANGenerator",
]
