"""Pre- and de-emphasis, the first-order filters SEGAN (Pascual et al. 2017, v1.1) applies around its generator.

Pre-emphasis ``y[n] = x[n] - c * x[n-1]`` (with ``y[0] = x[0]``) boosts high frequencies before G and D see the
signal; de-emphasis ``x[n] = y[n] + c * x[n-1]`` is its exact inverse, applied to G's output before listening or
scoring. The authors added the pair to remove high-frequency artefacts (santi-pdp/segan issue #9); c = 0.95.
"""

import numpy as np
import torch
from scipy.signal import lfilter
from torch import Tensor, nn


def pre_emphasis(x: Tensor, coef: float = 0.95) -> Tensor:
    """Pre-emphasise along the last dimension (any leading shape, any device)."""
    if coef == 0.0:
        return x
    return torch.cat([x[..., :1], x[..., 1:] - coef * x[..., :-1]], dim=-1)


def de_emphasis(y: Tensor, coef: float = 0.95) -> Tensor:
    """Invert :func:`pre_emphasis` along the last dimension.

    The recursion is run by ``scipy.signal.lfilter`` in float64 on the CPU (exact, and fast for any length); the
    result comes back on ``y``'s device and dtype.
    """
    if coef == 0.0:
        return y
    out = lfilter([1.0], [1.0, -coef], y.detach().cpu().double().numpy(), axis=-1)
    return torch.from_numpy(np.ascontiguousarray(out)).to(device=y.device, dtype=y.dtype)


def de_emphasis_differentiable(y: Tensor, coef: float = 0.95, taps: int = 512) -> Tensor:
    """:func:`de_emphasis` as a causal FIR filter (the IIR's impulse response ``coef**k`` cut after ``taps`` samples),
    so gradients flow through it, e.g. into a loss on de-emphasised signals. The cut costs ``coef**taps`` of the
    response (4e-12 at 0.95 and 512 taps). Any leading shape; filters along the last dimension, by FFT rather than
    a direct 512-tap ``conv1d`` (the two timed in docs/experiments/segan_recipe.md, "Third round")."""
    if coef == 0.0:
        return y
    length = y.shape[-1]
    n = length + taps - 1
    response = coef ** torch.arange(taps, device=y.device, dtype=torch.float32)
    spectrum = torch.fft.rfft(y.float(), n) * torch.fft.rfft(response, n)
    return torch.fft.irfft(spectrum, n)[..., :length].to(y.dtype)


class DeEmphasis(nn.Module):
    """:func:`de_emphasis` as a module, for ``GAN(postprocess=...)``: outputs and targets are de-emphasised before
    metrics, sample logging and prediction writing."""

    def __init__(self, coef: float = 0.95) -> None:
        super().__init__()
        self.coef = coef

    def forward(self, y: Tensor) -> Tensor:
        return de_emphasis(y, self.coef)
