"""The speech-enhancement table's quality measures: PESQ, segmental SNR and Hu & Loizou's composite CSIG/CBAK/COVL.

Hu & Loizou ("Evaluation of objective quality measures for speech enhancement", IEEE TASLP 16(1), 2008,
DOI 10.1109/TASL.2007.911054) fitted three MOS predictors, each on a 1-5 scale, to listening tests:

* ``CSIG`` (signal distortion)   = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS
* ``CBAK`` (background noise)    = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 segSNR
* ``COVL`` (overall quality)     = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS

each clipped to [1, 5]. Every SEGAN-era paper (SEGAN, Wave-U-Net, MetricGAN+, CMGAN, ...) reports them with Loizou's
MATLAB ``composite.m`` (from "Speech Enhancement: Theory and Practice", 2nd ed.), whose conventions this module
follows exactly:

* both signals get ``eps`` (2.2e-16) added, so all-zero frames stay finite (the reference's handling of silence);
* frames of ``round(30 ms * fs)`` samples, hop ``floor(frame / 4)`` (75 % overlap), the periodic-free Hann window
  ``0.5 (1 - cos(2 pi n / (N + 1)))``, n = 1..N, and ``floor(len / hop - frame / hop)`` frames (one fewer than fit);
* LLR: LPC order 10 below 10 kHz, 16 above, by Levinson-Durbin on each windowed frame; the mean of the 95 % lowest
  frame values, not clipped (the stand-alone ``llr.m`` clips at 2, ``composite.m`` does not);
* WSS: 25 critical bands (Gaussian-shaped filters cut at -30 dB) on an FFT of ``2 ** nextpow2(2 * frame)`` points,
  log energies floored at -100 dB, Klatt's slope weights with K_max = 20 and K_locmax = 1 (including the reference's
  local-peak search, which stops one band short of the peak to the right); the mean of the 95 % lowest frames;
* segmental SNR: per-frame SNR limited to [-10, 35] dB, mean over all frames;
* PESQ: wide-band P.862.2 at 16 kHz (its MOS-LQO enters the regressions, as the wide-band ``pesq.m`` returns only
  that); narrow-band P.862 at 8 kHz, where the regressions use the *raw* P.862 score (the P.862.1 mapping inverted),
  as ``composite.m`` does. The ``pesq`` value returned is the MOS-LQO either way, the number papers quote.
  Scores come from the ``pesq`` package (ITU-T reference C code); the references feed it in its own scale.

Cross-checked against the independent Python port ``schmiph2/pysepm`` (commit
7ef88aff2c56201a2d0470aaeb58e77e47a914d2) and the MATLAB toolkit's own values stored there (``tests/results.mat``);
the values compared are in docs/experiments/composite_crosscheck.md. ``tests/metrics/test_composite.py`` pins
pysepm's values on files of the bundled demo corpus.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from typing import Literal

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

Measure = Literal["csig", "cbak", "covl", "pesq", "ssnr"]
MEASURES: tuple[str, ...] = ("csig", "cbak", "covl", "pesq", "ssnr")

_EPS = float(np.finfo(np.float64).eps)  # MATLAB's eps
_ALPHA = 0.95  # fraction of lowest frames kept by LLR and WSS
_SNR_LIMITS = (-10.0, 35.0)
# Critical bands of the WSS measure: centre frequencies and bandwidths in Hz (Klatt 1982, as in composite.m).
_CENTRES = (
    50.0, 120.0, 190.0, 260.0, 330.0, 400.0, 470.0, 540.0, 617.372, 703.378, 798.717, 904.128, 1020.38, 1148.30,
    1288.72, 1442.54, 1610.70, 1794.16, 1993.93, 2211.08, 2446.71, 2701.97, 2978.04, 3276.17, 3597.63,
)  # fmt: skip
_BANDWIDTHS = (
    70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 77.3724, 86.0056, 95.3398, 105.411, 116.256, 127.914, 140.423, 153.823,
    168.154, 183.457, 199.776, 217.153, 235.631, 255.255, 276.072, 298.126, 321.465, 346.136,
)  # fmt: skip
_K_MAX, _K_LOCMAX = 20.0, 1.0


class CompositeInputError(ValueError):
    """The signals cannot be scored: wrong shapes, sample rate, NaN/inf samples, too short, or no speech for PESQ."""


# ------------------------------------------------------------------ framing
def _frames(x: np.ndarray, fs: int) -> np.ndarray:
    """Hann-windowed frames (n_frames x frame) exactly as composite.m cuts them."""
    length = round(30 * fs / 1000)
    hop = length // 4
    n = math.floor(x.size / hop - length / hop)  # MATLAB's `for k = 1:num_frames` with a fractional bound
    if n < 1:
        raise CompositeInputError(
            f"signals of {x.size} samples are too short for the composite measures at {fs} Hz: they need at least "
            f"{length + hop} samples (30 ms frames, 7.5 ms hop)"
        )
    window = 0.5 * (1.0 - np.cos(2.0 * np.pi * np.arange(1, length + 1) / (length + 1)))
    idx = np.arange(n)[:, None] * hop + np.arange(length)[None, :]
    return x[idx] * window


def _lowest_mean(values: np.ndarray) -> float:
    """Mean of the ``round(0.95 n)`` lowest values (MATLAB's round: half away from zero)."""
    keep = math.floor(values.size * _ALPHA + 0.5)
    return float(np.mean(np.sort(values)[:keep]))


# ------------------------------------------------------------------ measures
def segmental_snr(clean_frames: np.ndarray, processed_frames: np.ndarray) -> float:
    """Mean over frames of the frame SNR in dB, each limited to [-10, 35] dB."""
    signal = np.sum(clean_frames**2, axis=1)
    noise = np.sum((clean_frames - processed_frames) ** 2, axis=1)
    snr = 10.0 * np.log10(signal / (noise + _EPS) + _EPS)
    return float(np.mean(np.clip(snr, *_SNR_LIMITS)))


def _lpc(frames: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation lags R[0..order] and predictor polynomials [1, -a_1..-a_p] per frame (Levinson-Durbin)."""
    n = frames.shape[1]
    r = np.stack([np.sum(frames[:, : n - k] * frames[:, k:], axis=1) for k in range(order + 1)], axis=1)
    a = np.zeros((frames.shape[0], order))
    err = r[:, 0].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(order):
            k = (r[:, i + 1] - np.sum(a[:, :i] * r[:, i:0:-1], axis=1)) / err
            previous = a[:, :i].copy()
            a[:, i] = k
            a[:, :i] = previous - k[:, None] * previous[:, ::-1]
            err = (1.0 - k * k) * err
    return r, np.concatenate([np.ones((frames.shape[0], 1)), -a], axis=1)


def log_likelihood_ratio(clean_frames: np.ndarray, processed_frames: np.ndarray, fs: int) -> float:
    """LLR: ``log(a_p R_c a_p' / a_c R_c a_c')`` per frame; mean of the 95 % lowest frames."""
    order = 10 if fs < 10000 else 16
    r_clean, a_clean = _lpc(clean_frames, order)
    _, a_proc = _lpc(processed_frames, order)
    lags = np.abs(np.arange(order + 1)[:, None] - np.arange(order + 1)[None, :])
    toeplitz = r_clean[:, lags]  # frames x (p+1) x (p+1)
    num = np.einsum("fi,fij,fj->f", a_proc, toeplitz, a_proc)
    den = np.einsum("fi,fij,fj->f", a_clean, toeplitz, a_clean)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
    if not np.all(np.isfinite(ratio) & (ratio > 0)):
        # Only reachable for degenerate frames (e.g. an exactly periodic or constant signal whose LPC is singular);
        # MATLAB would return NaN/complex values here. Such frames count as maximally distorted, as pysepm does.
        ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 1000.0)
    return _lowest_mean(np.log(ratio))


def _critical_band_filters(fs: int, n_half: int) -> np.ndarray:
    max_freq = fs / 2
    j = np.arange(n_half)
    min_factor = math.exp(-30.0 / (2.0 * 2.303))  # -30 dB point of a filter
    filters = np.empty((len(_CENTRES), n_half))
    for i, (centre, bandwidth) in enumerate(zip(_CENTRES, _BANDWIDTHS, strict=True)):
        f0 = math.floor(centre / max_freq * n_half)
        bw = bandwidth / max_freq * n_half
        f = np.exp(-11.0 * ((j - f0) / bw) ** 2 + math.log(_BANDWIDTHS[0]) - math.log(bandwidth))
        filters[i] = f * (f > min_factor)
    return filters


def _local_peaks(energy: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """composite.m's nearest peak per band: to the right on a rising slope, to the left otherwise (frames x bands)."""
    bands = slope.shape[1]
    next_fall = np.empty(slope.shape, dtype=np.int64)  # first n >= i with slope[n] <= 0, or `bands`
    last = np.full(slope.shape[0], bands)
    for n in range(bands - 1, -1, -1):
        last = np.where(slope[:, n] <= 0, n, last)
        next_fall[:, n] = last
    prev_rise = np.empty(slope.shape, dtype=np.int64)  # last n <= i with slope[n] > 0, or -1
    last = np.full(slope.shape[0], -1)
    for n in range(bands):
        last = np.where(slope[:, n] > 0, n, last)
        prev_rise[:, n] = last
    index = np.where(slope > 0, next_fall - 1, prev_rise + 1)
    return np.take_along_axis(energy, index, axis=1)


def weighted_spectral_slope(clean_frames: np.ndarray, processed_frames: np.ndarray, fs: int) -> float:
    """WSS (Klatt 1982): weighted squared differences of critical-band spectral slopes; mean of the 95 % lowest."""
    n_fft = 2 ** math.ceil(math.log2(2 * clean_frames.shape[1]))
    n_half = n_fft // 2
    filters = _critical_band_filters(fs, n_half)

    def band_energy_db(frames: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(frames, n_fft, axis=1)[:, :n_half]) ** 2
        return 10.0 * np.log10(np.maximum(power @ filters.T, 1e-10))

    weights, slopes = [], []
    for frames in (clean_frames, processed_frames):
        energy = band_energy_db(frames)
        slope = np.diff(energy, axis=1)
        peaks = _local_peaks(energy, slope)
        below = energy[:, :-1]
        w_max = _K_MAX / (_K_MAX + energy.max(axis=1, keepdims=True) - below)
        w_locmax = _K_LOCMAX / (_K_LOCMAX + peaks - below)
        weights.append(w_max * w_locmax)
        slopes.append(slope)
    w = (weights[0] + weights[1]) / 2.0
    distortion = np.sum(w * (slopes[0] - slopes[1]) ** 2, axis=1) / np.sum(w, axis=1)
    return _lowest_mean(distortion)


def _pesq(clean: np.ndarray, processed: np.ndarray, fs: int) -> tuple[float, float]:
    """(MOS-LQO, the score the regressions use): wide-band at 16 kHz, raw narrow-band P.862 at 8 kHz."""
    from pesq import PesqError, pesq

    try:
        mos = float(pesq(fs, clean, processed, "wb" if fs == 16000 else "nb"))
    except PesqError as err:  # e.g. NoUtterancesError on silence
        raise CompositeInputError(f"PESQ cannot score these signals at {fs} Hz: {type(err).__name__}: {err}") from err
    if fs == 16000:
        return mos, mos
    # Invert P.862.1's mapping MOS-LQO = 0.999 + 4 / (1 + exp(-1.4945 raw + 4.6607)).
    raw = (4.6607 - math.log(4.0 / (mos - 0.999) - 1.0)) / 1.4945
    return mos, raw


def composite_numpy(clean: np.ndarray, processed: np.ndarray, fs: int) -> dict[str, float]:
    """All measures for one pair of 1-D float64 signals: csig, cbak, covl, pesq, ssnr, and the llr and wss inside."""
    clean, processed = clean + _EPS, processed + _EPS  # composite.m: keeps silent frames finite
    cf, pf = _frames(clean, fs), _frames(processed, fs)
    llr = log_likelihood_ratio(cf, pf, fs)
    wss = weighted_spectral_slope(cf, pf, fs)
    ssnr = segmental_snr(cf, pf)
    mos, p = _pesq(clean, processed, fs)
    csig = 3.093 - 1.029 * llr + 0.603 * p - 0.009 * wss
    cbak = 1.634 + 0.478 * p - 0.007 * wss + 0.063 * ssnr
    covl = 1.594 + 0.805 * p - 0.512 * llr - 0.007 * wss
    return {
        "csig": min(max(csig, 1.0), 5.0),
        "cbak": min(max(cbak, 1.0), 5.0),
        "covl": min(max(covl, 1.0), 5.0),
        "pesq": mos,
        "ssnr": ssnr,
        "llr": llr,
        "wss": wss,
    }


def _check(preds: Tensor, target: Tensor, fs: int) -> None:
    if fs not in (8000, 16000):
        raise CompositeInputError(f"fs must be 8000 or 16000 Hz (PESQ is defined only there), got {fs!r}")
    if preds.shape != target.shape:
        raise CompositeInputError(
            f"preds and target must have the same shape, got {tuple(preds.shape)} and {tuple(target.shape)}"
        )
    if preds.dim() < 1 or preds.shape[-1] == 0:
        raise CompositeInputError(f"expected waveforms of shape (..., time), got shape {tuple(preds.shape)}")
    for name, x in (("preds", preds), ("target", target)):
        if not torch.isfinite(x).all():
            raise CompositeInputError(f"{name} has NaN or inf samples ({int((~torch.isfinite(x)).sum())} of them)")
    flat = target.reshape(-1, target.shape[-1])
    constant = (flat == flat[:, :1]).all(dim=1)
    if constant.any():
        raise CompositeInputError(
            f"target (the clean reference) is constant in {int(constant.sum())} of {flat.shape[0]} signals "
            f"(e.g. all zeros): there is no speech to score against"
        )


def composite_measures(preds: Tensor, target: Tensor, fs: int) -> dict[str, Tensor]:
    """CSIG, CBAK, COVL, PESQ and segmental SNR of enhanced ``preds`` against clean ``target``.

    Args:
        preds: enhanced (or noisy) waveforms, shape ``(..., time)``, any float dtype and device.
        target: clean reference waveforms, the same shape.
        fs: sample rate, 8000 or 16000 Hz.

    Returns:
        ``{"csig", "cbak", "covl", "pesq", "ssnr"}``: float64 tensors of the leading shape ``(...)`` on the CPU.

    Raises:
        CompositeInputError: for shapes that differ, a rate other than 8/16 kHz, NaN or inf samples, signals
            shorter than two frames, a constant (e.g. all-zero) target, or signals PESQ cannot score. An all-zero
            or constant ``preds`` is scored (low), silent frames kept finite by ``eps`` as in composite.m.
    """
    _check(preds, target, fs)
    p = preds.detach().cpu().double().reshape(-1, preds.shape[-1]).numpy()
    t = target.detach().cpu().double().reshape(-1, target.shape[-1]).numpy()
    rows = [_cached(pi, ti, fs) for pi, ti in zip(p, t, strict=True)]
    shape = preds.shape[:-1]
    return {k: torch.tensor([r[k] for r in rows], dtype=torch.float64).reshape(shape) for k in MEASURES}


# One utterance's measures are shared by the CSIG/CBAK/COVL/PESQ/SSNR metrics of a collection, which all see the same
# tensors: PESQ, the costly part, then runs once per utterance instead of four times. Keyed on the content.
_CACHE: OrderedDict[bytes, dict[str, float]] = OrderedDict()
_CACHE_SIZE = 8


def _cached(processed: np.ndarray, clean: np.ndarray, fs: int) -> dict[str, float]:
    h = hashlib.blake2b(processed.tobytes(), digest_size=16)
    h.update(clean.tobytes())
    h.update(str(fs).encode())
    key = h.digest()
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    value = composite_numpy(clean, processed, fs)
    _CACHE[key] = value
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


class CompositeMeasure(Metric):
    """One of CSIG, CBAK, COVL, PESQ or segmental SNR, averaged over utterances, for a config's ``metrics``.

    Several of these in one collection (one per ``measure``) compute each utterance's measures once: PESQ runs once per
    utterance for all five. ``pesq`` here equals torchmetrics' ``PerceptualEvaluationSpeechQuality`` (same ``pesq``
    package, wide-band at 16 kHz).

    Args:
        measure: ``"csig"``, ``"cbak"``, ``"covl"`` (1-5), ``"pesq"`` (MOS-LQO) or ``"ssnr"`` (dB, [-10, 35]).
        fs: sample rate, 8000 or 16000 Hz.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = True

    def __init__(self, measure: Measure, fs: int = 16000, **kwargs: object) -> None:
        super().__init__(**kwargs)
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {list(MEASURES)}, got {measure!r}")
        if fs not in (8000, 16000):
            raise ValueError(f"fs must be 8000 or 16000 Hz (PESQ is defined only there), got {fs!r}")
        self.measure, self.fs = measure, fs
        # State names carry the measure: a MetricCollection merges metrics whose states have the same names and equal
        # values after the first update into one compute group (torchmetrics ``compute_groups``), and CSIG and COVL
        # are both 1.0 on an utterance that clips both, so with shared names they would report one value from then on.
        self._sum, self._count = f"sum_{measure}", f"count_{measure}"
        self.add_state(self._sum, default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state(self._count, default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        values = composite_measures(preds, target, self.fs)[self.measure]
        total: Tensor = getattr(self, self._sum)
        setattr(self, self._sum, total + values.sum().to(total.device))
        setattr(self, self._count, getattr(self, self._count) + values.numel())

    def compute(self) -> Tensor:
        return (getattr(self, self._sum) / getattr(self, self._count)).float()
