"""The metric a metric discriminator learns to predict (MetricGAN+, Fu et al. 2021, arXiv 2104.03538): a strategy.

A :class:`TargetMetric` scores degraded waveforms against their clean references, one utterance at a time, and
returns each score *normalised* to about ``[0, 1]``, 1 being the clean reference itself, which is what
:class:`~lightning_gan.objectives.MetricGANPlus` regresses D onto:

- :class:`PESQ` (the default, as the recipe's ``target_metric: pesq``): ITU-T P.862.2 wide-band at 16 kHz (P.862
  narrow-band at 8 kHz) from the ``pesq`` package, normalised ``(PESQ + 0.5) / 5`` as the recipe's ``pesq_eval``;
- :class:`STOI`: short-time objective intelligibility (Taal et al. 2011) from ``pystoi``, already in ``[0, 1]``;
- :class:`WeightedMetric`: a weighted mean of normalised metrics (e.g. PESQ and STOI), so D's target trades both.

**Unscorable utterances.** PESQ cannot score an utterance whose reference has no speech (its "no utterances
detected" error on silence, or a buffer too short). Such an utterance gets ``NaN`` instead of a score, never an
exception; the objective leaves it out of D's regression for that batch and out of the replay buffer, and logs how
many it left out (``train/unscored``). ``docs/metricgan.md`` documents this.

**Cost and parallelism.** PESQ is a C library call per utterance that holds the GIL (threads do not help), about
15-40 ms per second of audio on one core, so its cost grows linearly with batch size x utterance length and is paid
twice per batch (enhanced and noisy). With ``workers > 1`` the utterances of a batch are scored in a pool of that
many processes (forked once, on first use, and reused); ``workers=None`` uses ``min(4, os.cpu_count())``, 0 or 1
scores in the training process. ``docs/metricgan.md`` gives the measured cost per batch.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from lightning_gan.errors import ConfigError


def _pesq_item(args: tuple[np.ndarray, np.ndarray, int]) -> float:
    """Normalised PESQ of one (degraded, reference) pair; NaN when PESQ cannot score it (silence, too short)."""
    from pesq import PesqError, pesq

    degraded, reference, fs = args
    try:
        score = float(pesq(fs, reference, degraded, "wb" if fs == 16000 else "nb"))
    except PesqError:
        return math.nan
    return (score + 0.5) / 5.0


def _stoi_item(args: tuple[np.ndarray, np.ndarray, int]) -> float:
    """STOI of one pair; NaN when pystoi cannot score it (no speech frames, or NaN samples)."""
    import warnings

    from pystoi import stoi

    degraded, reference, fs = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pystoi warns, and returns 1e-5, on an utterance without speech frames
        if not np.any(np.abs(reference) > 0):
            return math.nan
        score = float(stoi(reference, degraded, fs, extended=False))
    return score if math.isfinite(score) else math.nan


class TargetMetric(ABC):
    """A per-utterance metric, normalised so the clean reference scores about 1.

    Args:
        workers: processes that score a batch's utterances in parallel; ``None``: ``min(4, os.cpu_count())``; 0 or
            1: in the training process.
    """

    #: Short name, used in logs and by ``MetricGANPlus(target_metric="<name>")``.
    name: ClassVar[str] = ""

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 0:
            raise ConfigError(f"target metric {self.name}: expected `workers` >= 0 or None, got {workers!r}.")
        self.workers = min(4, os.cpu_count() or 1) if workers is None else int(workers)
        self._pool: Executor | None = None

    def check_sample_rate(self, sample_rate: int) -> None:
        """Raise :class:`~lightning_gan.errors.ConfigError` when this metric cannot score audio at ``sample_rate``;
        by default every rate is accepted."""
        return None

    @abstractmethod
    def score_pairs(self, pairs: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[float]:
        """Normalised scores of ``(degraded, reference, sample_rate)`` pairs, NaN where unscorable."""

    def _map(self, function: Any, pairs: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[float]:
        if self.workers <= 1 or len(pairs) <= 1:
            return [function(p) for p in pairs]
        if self._pool is None:
            # Forked, not spawned: the workers need only numpy and the metric library, and spawning would re-import
            # the training script. The workers never touch torch or a GPU.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))
        return list(self._pool.map(function, pairs))

    def __call__(self, degraded: Tensor, reference: Tensor, sample_rate: int) -> Tensor:
        """Scores of ``N x 1 x T`` (or ``N x T``) waveforms against their references: a float32 ``N`` tensor on the
        inputs' device, NaN for utterances the metric cannot score."""
        if degraded.shape != reference.shape:
            raise ValueError(
                f"target metric {self.name}: degraded {tuple(degraded.shape)} and reference "
                f"{tuple(reference.shape)} differ in shape."
            )
        deg = degraded.detach().reshape(degraded.shape[0], -1).double().cpu().numpy()
        ref = reference.detach().reshape(reference.shape[0], -1).double().cpu().numpy()
        scores = self.score_pairs([(d, r, int(sample_rate)) for d, r in zip(deg, ref, strict=True)])
        return torch.tensor(scores, dtype=torch.float32, device=degraded.device)

    def close(self) -> None:
        """Shut the worker processes down (they also end with the training process)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __getstate__(self) -> dict[str, Any]:  # the pool stays with the process that made it
        return {**self.__dict__, "_pool": None}

    def __deepcopy__(self, memo: dict[int, Any]) -> TargetMetric:
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__getstate__())
        return copy

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


class PESQ(TargetMetric):
    """PESQ, normalised ``(PESQ + 0.5) / 5`` as the recipe: wide-band (P.862.2) at 16 kHz, narrow-band at 8 kHz."""

    name = "pesq"

    def check_sample_rate(self, sample_rate: int) -> None:
        if sample_rate not in (8000, 16000):
            raise ConfigError(
                f"target metric pesq: PESQ scores audio at 8000 or 16000 Hz only, but data.sample_rate is "
                f"{sample_rate}; resample the data (data.init_args.sample_rate: 16000) or use target_metric: stoi."
            )

    def score_pairs(self, pairs: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[float]:
        return self._map(_pesq_item, pairs)


class STOI(TargetMetric):
    """STOI (Taal et al. 2011) from ``pystoi``, in ``[0, 1]``; any sample rate (pystoi resamples to 10 kHz)."""

    name = "stoi"

    def score_pairs(self, pairs: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[float]:
        return self._map(_stoi_item, pairs)


class WeightedMetric(TargetMetric):
    """``sum_i w_i m_i / sum_i w_i`` of normalised metrics; NaN where any of them is NaN.

    Args:
        metrics: the metrics, e.g. ``[PESQ(), STOI()]``.
        weights: one non-negative weight per metric, not all zero.
        workers: as :class:`TargetMetric`; the parts use this pool too.
    """

    name = "weighted"

    def __init__(self, metrics: list[TargetMetric], weights: list[float], workers: int | None = None) -> None:
        super().__init__(workers)
        if not metrics or len(metrics) != len(weights):
            raise ConfigError(
                f"target metric weighted: expected one weight per metric, got {len(metrics)} metrics and "
                f"{len(weights)} weights."
            )
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError(f"target metric weighted: expected non-negative weights, not all 0, got {weights!r}.")
        self.metrics, self.weights = list(metrics), [float(w) for w in weights]

    def check_sample_rate(self, sample_rate: int) -> None:
        for metric in self.metrics:
            metric.check_sample_rate(sample_rate)

    def score_pairs(self, pairs: Sequence[tuple[np.ndarray, np.ndarray, int]]) -> list[float]:
        total = np.zeros(len(pairs))
        for metric, weight in zip(self.metrics, self.weights, strict=True):
            metric.workers, metric._pool = self.workers, self._pool  # one pool for all parts
            total += weight * np.asarray(metric.score_pairs(pairs))
            self._pool = metric._pool
        return list(total / sum(self.weights))


TARGET_METRICS: dict[str, type[TargetMetric]] = {"pesq": PESQ, "stoi": STOI}
"""The metrics ``MetricGANPlus(target_metric=...)`` accepts by name."""


def target_metric(spec: TargetMetric | str) -> TargetMetric:
    """A metric instance, or the named one (``"pesq"``, ``"stoi"``); one :class:`ConfigError` for another name."""
    if isinstance(spec, TargetMetric):
        return spec
    if spec not in TARGET_METRICS:
        raise ConfigError(
            f"model.objective.init_args.target_metric: unknown metric {spec!r}; expected one of "
            f"{sorted(TARGET_METRICS)} or a lightning_gan.objectives.TargetMetric (e.g. WeightedMetric)."
        )
    return TARGET_METRICS[spec]()


__all__ = ["PESQ", "STOI", "TARGET_METRICS", "TargetMetric", "WeightedMetric", "target_metric"]
