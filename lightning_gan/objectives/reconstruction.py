"""Reconstruction losses as strategy objects: the generator's ``reconstruction_weight * loss(fake, real)`` term.

pix2pix and SEGAN add an L1 distance between G's output and the paired target to the adversarial loss; speech vocoders
and enhancers since Parallel WaveGAN (Yamamoto et al. 2020, arXiv 1910.11480) use a multi-resolution STFT loss
instead or besides. Every strategy maps ``(fake, real)`` of any shape to a 0-dim float32 tensor, and names the
``train/gen_loss_<log_name>`` value it is logged under. Select one in YAML::

    model:
      reconstruction:
        class_path: lightning_gan.objectives.reconstruction.MultiResolutionSTFTLoss
      reconstruction_weight: 1.0

:class:`L1Loss` (the default) works for every family; the STFT loss needs 1-D signals (``N x C x T``);
:class:`DeEmphasised` scores any of them on de-emphasised audio (SEGAN's heard signal).
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lightning_gan.data.emphasis import de_emphasis_differentiable


class ReconstructionLoss(nn.Module):
    """Base class: ``forward(fake, real)`` returns a 0-dim tensor; ``log_name`` names its training log."""

    log_name: str = "rec"

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        raise NotImplementedError


class L1Loss(ReconstructionLoss):
    """Mean absolute error, pix2pix's and SEGAN's reconstruction term (logged as ``train/gen_loss_L1``)."""

    log_name = "L1"

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        return F.l1_loss(fake.float(), real.float())


class MSELoss(ReconstructionLoss):
    """Mean squared error (logged as ``train/gen_loss_L2``): its minimiser is the conditional mean, the output that
    maximises PSNR, where L1's is the conditional median."""

    log_name = "L2"

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        return F.mse_loss(fake.float(), real.float())


class MultiResolutionSTFTLoss(ReconstructionLoss):
    """Spectral convergence plus log STFT magnitude distance, averaged over resolutions (Parallel WaveGAN, eq. 1-4).

    For each resolution, with ``|S|`` and ``|S_hat|`` the STFT magnitudes of ``real`` and ``fake``:

    .. math::
        L_{sc} = \\frac{\\lVert |S| - |\\hat S| \\rVert_F}{\\lVert |S| \\rVert_F}, \\qquad
        L_{mag} = \\frac{1}{N} \\lVert \\log |S| - \\log |\\hat S| \\rVert_1

    and the loss is the mean of ``L_sc + L_mag`` over the resolutions. Defaults are the paper's three resolutions
    (FFT 1024/2048/512, Hann windows of 600/1200/240 samples, hops 120/240/50 at 24 kHz). Magnitudes are
    ``sqrt(max(re^2 + im^2, floor))`` so the loss and its gradient stay finite at digital silence.

    Args:
        fft_sizes: FFT length per resolution.
        hop_sizes: hop per resolution.
        win_lengths: Hann window length per resolution (at most the FFT length).
        floor: lower bound of the squared magnitude (1e-7, as the ``kan-bayashi/ParallelWaveGAN`` reference code).
    """

    log_name = "STFT"

    def __init__(
        self,
        fft_sizes: Sequence[int] = (1024, 2048, 512),
        hop_sizes: Sequence[int] = (120, 240, 50),
        win_lengths: Sequence[int] = (600, 1200, 240),
        floor: float = 1e-7,
    ) -> None:
        super().__init__()
        if not len(fft_sizes) == len(hop_sizes) == len(win_lengths) >= 1:
            raise ValueError(
                f"fft_sizes, hop_sizes and win_lengths need one entry per resolution, got {list(fft_sizes)}, "
                f"{list(hop_sizes)} and {list(win_lengths)}"
            )
        for n_fft, hop, win in zip(fft_sizes, hop_sizes, win_lengths, strict=True):
            if not (hop > 0 and 0 < win <= n_fft):
                raise ValueError(f"expected 0 < hop and 0 < win_length <= fft_size, got {hop}, {win}, {n_fft}")
        if floor <= 0:
            raise ValueError(f"floor must be > 0, got {floor}")
        self.resolutions = [(int(n), int(h), int(w)) for n, h, w in zip(fft_sizes, hop_sizes, win_lengths, strict=True)]
        self.floor = floor
        for i, (_, _, win) in enumerate(self.resolutions):
            self.register_buffer(f"window_{i}", torch.hann_window(win), persistent=False)

    def magnitude(self, x: Tensor, resolution: int) -> Tensor:
        """STFT magnitude of ``x`` (B x T) at one resolution: B x frames x bins."""
        n_fft, hop, win = self.resolutions[resolution]
        if x.shape[-1] <= n_fft // 2:
            raise ValueError(
                f"MultiResolutionSTFTLoss: signals of {x.shape[-1]} samples are too short for fft_size {n_fft} "
                f"(need more than {n_fft // 2}); use smaller fft_sizes or longer windows"
            )
        window = getattr(self, f"window_{resolution}")
        spec = torch.stft(x, n_fft, hop, win, window, return_complex=True)
        return (spec.real.square() + spec.imag.square()).clamp(min=self.floor).sqrt().transpose(1, 2)

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        if fake.shape != real.shape or fake.dim() < 2:
            raise ValueError(f"expected fake and real of one shape N x ... x T, got {fake.shape} and {real.shape}")
        with torch.autocast(fake.device.type, enabled=False):
            fake, real = fake.float().reshape(-1, fake.shape[-1]), real.float().reshape(-1, real.shape[-1])
            total = fake.new_zeros(())
            for i in range(len(self.resolutions)):
                mag_fake, mag_real = self.magnitude(fake, i), self.magnitude(real, i)
                sc = torch.linalg.norm(mag_real - mag_fake) / torch.linalg.norm(mag_real)
                log_mag = F.l1_loss(mag_fake.log(), mag_real.log())
                total = total + sc + log_mag
            return total / len(self.resolutions)


class WeightedSum(ReconstructionLoss):
    """``sum_i weights[i] * losses[i](fake, real)``, e.g. L1 plus a multi-resolution STFT loss.

    Args:
        losses: the terms.
        weights: one weight per term (default: all 1).
    """

    log_name = "rec"

    def __init__(self, losses: Sequence[ReconstructionLoss], weights: Sequence[float] | None = None) -> None:
        super().__init__()
        weights = [1.0] * len(losses) if weights is None else [float(w) for w in weights]
        if not losses or len(weights) != len(losses):
            raise ValueError(f"expected one weight per loss and at least one loss, got {len(losses)} and {weights}")
        self.losses = nn.ModuleList(losses)
        self.weights = weights

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        return sum(
            (w * loss(fake, real) for w, loss in zip(self.weights, self.losses, strict=True)),
            fake.new_zeros(()).float(),
        )


class DeEmphasised(ReconstructionLoss):
    """``loss`` on de-emphasised signals, i.e. on the waveform a listener hears rather than the one G outputs.

    SEGAN's G works on pre-emphasised audio (``y[n] = x[n] - c x[n-1]``), whose spectrum is the heard one times
    ``|1 - c e^{-jw}|``: at c = 0.95 and 16 kHz that is -18 dB at 300 Hz and +3 dB at 4 kHz, so an L1 on G's output
    counts the low speech bands ~20 dB less than a listener (or PESQ) does. Wrapping it here undoes the tilt. The
    SEGAN demo config does not use it: measured in docs/experiments/segan_recipe.md, "Third round".

    Args:
        loss: the term to compute on de-emphasised ``fake`` and ``real`` (N x ... x T).
        coef: the pre-emphasis coefficient of the data (``data.init_args.pre_emphasis``).
    """

    def __init__(self, loss: ReconstructionLoss, coef: float = 0.95) -> None:
        super().__init__()
        self.loss = loss
        self.coef = coef
        self.log_name = f"{loss.log_name}_heard"

    def forward(self, fake: Tensor, real: Tensor) -> Tensor:
        if fake.shape != real.shape:
            raise ValueError(f"expected fake and real of one shape N x ... x T, got {fake.shape} and {real.shape}")
        heard_fake, heard_real = de_emphasis_differentiable(torch.stack([fake.float(), real.float()]), self.coef)
        return self.loss(heard_fake, heard_real)
