"""Seconds per batch of MetricGAN+'s target metric (lightning_gan.objectives.PESQ / STOI) on the bundled utterances,
by batch size, window length and worker processes: the numbers in docs/metricgan.md ("Cost of the target metric").

    OMP_NUM_THREADS=1 python scripts/maintainer/target_metric_cost.py
"""

import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from lightning_gan.objectives import PESQ, STOI

ROOT = Path(__file__).resolve().parents[2] / "data" / "speech_demo"


def windows(n: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    files = sorted((ROOT / "clean_trainset_wav").glob("*.wav"))[:n]
    clean = [np.resize(sf.read(f, dtype="float32")[0], length) for f in files]
    noisy = [np.resize(sf.read(ROOT / "noisy_trainset_wav" / f.name, dtype="float32")[0], length) for f in files]
    return torch.tensor(np.stack(noisy))[:, None], torch.tensor(np.stack(clean))[:, None]


def main() -> None:
    print("metric | batch | window (s) | workers | seconds per call (median of 3)")
    for metric_class in (PESQ, STOI):
        for batch, length in ((8, 16384), (16, 16384), (8, 32768)):
            for workers in (0, 2):
                metric = metric_class(workers=workers)
                noisy, clean = windows(batch, length)
                metric(noisy, clean, 16000)  # starts the pool
                times = []
                for _ in range(3):
                    start = time.perf_counter()
                    metric(noisy, clean, 16000)
                    times.append(time.perf_counter() - start)
                metric.close()
                print(f"{metric.name} | {batch} | {length / 16000:.2f} | {workers} | {sorted(times)[1]:.3f}")


if __name__ == "__main__":
    main()
