"""A classical statistical enhancer as the floor a learned one must beat, scored with the project's speech table.

Wiener filtering with the decision-directed a priori SNR (Ephraim & Malah 1984, IEEE TASSP 32(6), eq. 51; the Wiener
gain xi / (1 + xi) as in Scalart & Filho 1996, ICASSP) and a quantile noise estimate (Stahl, Fischer & Bippus 2000,
ICASSP, "Quantile based noise estimation for spectral subtraction and Wiener filtering": per frequency, the q-quantile
of the utterance's frame powers; q = 0.1 chosen before looking at any score). STFT: 512 points, Hann, hop 256 at
16 kHz, the noisy phase; alpha = 0.98 and a gain floor of -25 dB (xi_min), the usual published values. Written from
those descriptions (no maintained Python library of it is installed here).

    python scripts/maintainer/classical_baseline.py --noisy data/speech_demo/noisy_testset_wav \
        --clean data/speech_demo/clean_testset_wav [--out runs/wiener]

prints the mean PESQ, CSIG, CBAK, COVL, SSNR, STOI and SI-SDR of the noisy input and of the Wiener output.
"""

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio as si_sdr
from torchmetrics.functional.audio.stoi import short_time_objective_intelligibility as stoi

from lightning_gan.metrics import composite_measures

N_FFT, HOP, ALPHA, XI_MIN, QUANTILE = 512, 256, 0.98, 10 ** (-25 / 10), 0.1


def wiener(noisy: np.ndarray) -> np.ndarray:
    """The decision-directed Wiener filter of one 16 kHz utterance; same length out."""
    x = torch.from_numpy(noisy).float()
    window = torch.hann_window(N_FFT)
    spec = torch.stft(x, N_FFT, HOP, window=window, return_complex=True).numpy()  # bins x frames
    power = np.abs(spec) ** 2
    noise = np.quantile(power, QUANTILE, axis=1, keepdims=True) + 1e-12
    gain = np.ones_like(power)
    previous = np.zeros(power.shape[0])  # |S_hat|^2 of the previous frame
    for t in range(power.shape[1]):
        gamma = power[:, t] / noise[:, 0]  # a posteriori SNR
        xi = ALPHA * previous / noise[:, 0] + (1 - ALPHA) * np.maximum(gamma - 1, 0)
        xi = np.maximum(xi, XI_MIN)
        gain[:, t] = xi / (1 + xi)
        previous = gain[:, t] ** 2 * power[:, t]
    out = torch.istft(torch.from_numpy(gain * spec), N_FFT, HOP, window=window, length=len(noisy))
    return out.numpy()


def table(outputs: list[np.ndarray], cleans: list[np.ndarray]) -> dict[str, float]:
    rows: dict[str, list[float]] = {}
    for out, clean in zip(outputs, cleans, strict=True):
        o, c = torch.from_numpy(out).double(), torch.from_numpy(clean).double()
        values = {k: float(v) for k, v in composite_measures(o, c, 16000).items()}
        values["stoi"] = float(stoi(o, c, 16000))
        values["si_sdr"] = float(si_sdr(o - o.mean(), c - c.mean()))
        for k, v in values.items():
            rows.setdefault(k, []).append(v)
    return {k: float(np.mean(v)) for k, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noisy", type=Path, required=True)
    parser.add_argument("--clean", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None, help="also write the enhanced WAVs here")
    args = parser.parse_args()
    names = sorted(p.name for p in args.noisy.glob("*.wav"))
    noisy = [sf.read(args.noisy / n, dtype="float64")[0] for n in names]
    clean = [sf.read(args.clean / n, dtype="float64")[0] for n in names]
    enhanced = [wiener(x) for x in noisy]
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for n, e in zip(names, enhanced, strict=True):
            sf.write(args.out / n, e, 16000, subtype="PCM_16")
    keys = ("pesq", "csig", "cbak", "covl", "ssnr", "stoi", "si_sdr")
    print(f"{len(names)} files | " + " | ".join(keys))
    for label, outputs in (("noisy input", noisy), ("Wiener (decision-directed)", enhanced)):
        scores = table(outputs, clean)
        print(label + " | " + " | ".join(f"{scores[k]:.3f}" for k in keys))


if __name__ == "__main__":
    main()
