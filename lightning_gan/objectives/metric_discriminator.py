"""MetricGAN+ (Fu et al. 2021, arXiv 2104.03538): D learns to predict a speech metric, G to make D predict the best.

Instead of telling real from fake, the discriminator is a *metric estimator*: given a signal's log1p magnitude
spectrogram and the clean reference's, it regresses the normalised target metric (PESQ-WB by default,
:mod:`lightning_gan.objectives.target_metrics`) of that signal against the clean one. The generator, a bounded mask
on the noisy spectrogram (:class:`~lightning_gan.nets.MetricGANGenerator`), then minimises ``(D(G(x), y) - 1)^2``:
it climbs the learnt surrogate of a metric that is not differentiable itself.

D's terms per batch, each a mean squared error against the true normalised score, in the recipe's order
(speechbrain/speechbrain at 9c826ef, ``recipes/Voicebank/enhance/MetricGAN/train.py``, ``fit_batch``):

1. clean against itself, target 1;
2. the enhanced batch, target ``Q(G(x), y)``;
3. the noisy batch, target ``Q(x, y)``;
4. a replay of earlier enhanced outputs with the scores they had then (MetricGAN+ section 2.2, "history"), so D
   does not forget the regions of the metric G has left.

Where we differ from the recipe, on purpose (``docs/metricgan.md``): the recipe makes one Adam step per term and one
pass over 20 % of *all* earlier outputs (written to disk) per epoch; here the four terms are summed into one D step
per batch (so the loop's ``n_critic: 1`` and its gradient clipping, AMP and finite-loss checks apply unchanged) and
the replay draws ``round(history_portion x buffer size)`` items, at most one batch, from a buffer of at most
``history_capacity`` earlier outputs kept by reservoir sampling (a uniform sample of all history in bounded memory).
The buffer and its random generator are objective state, saved in every checkpoint, so a resumed fit replays
exactly what an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lightning_gan.errors import ConfigError
from lightning_gan.nets.metricgan import RECIPE_SLOPE_MAX, LearnableSigmoid
from lightning_gan.objectives.base import Batch, Loop, Objective, Scored, Terms
from lightning_gan.objectives.target_metrics import TargetMetric, target_metric


class ReplayBuffer(nn.Module):
    """Earlier enhanced outputs with their clean references and true scores, re-shown to D.

    Adding: every scored output is offered; while the buffer holds fewer than ``capacity`` items it is appended,
    afterwards it replaces a uniformly drawn slot with probability ``capacity / seen`` (reservoir sampling, Vitter's
    algorithm R), so the buffer is a uniform sample of every output offered so far. Sampling: ``round(portion x
    size)`` distinct items (at least 1, at most ``max_items``), drawn uniformly. Both draw from the buffer's own
    seeded random generator, whose state is saved with the items (``get_extra_state``).

    Args:
        capacity: the most items kept (memory: ``2 x capacity x window x 4`` bytes, in the checkpoint too).
        portion: the fraction of the buffer replayed per batch (the recipe's ``history_portion``, 0.2).
        seed: seeds the buffer's random generator.
    """

    def __init__(self, capacity: int = 1000, portion: float = 0.2, seed: int = 0) -> None:
        super().__init__()
        if capacity < 1:
            raise ConfigError(f"model.objective.init_args.history_capacity: expected >= 1, got {capacity!r}.")
        if not 0.0 < portion <= 1.0:
            raise ConfigError(f"model.objective.init_args.history_portion: expected in (0, 1], got {portion!r}.")
        self.capacity, self.portion = int(capacity), float(portion)
        self.rng = torch.Generator().manual_seed(int(seed))
        self.enhanced: list[Tensor] = []
        self.clean: list[Tensor] = []
        self.scores: list[float] = []
        self.seen = 0

    def __len__(self) -> int:
        return len(self.scores)

    def _randint(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self.rng).item())

    def add(self, enhanced: Tensor, clean: Tensor, scores: Tensor) -> None:
        """Offer each item (``N x 1 x T`` waveforms, ``N`` scores) whose score is finite."""
        for e, c, s in zip(enhanced.detach().float().cpu(), clean.detach().float().cpu(), scores.tolist(), strict=True):
            if s != s:  # NaN: unscored, not kept
                continue
            self.seen += 1
            if len(self) < self.capacity:
                self.enhanced.append(e.clone())
                self.clean.append(c.clone())
                self.scores.append(float(s))
                continue
            j = self._randint(self.seen)
            if j < self.capacity:
                self.enhanced[j], self.clean[j], self.scores[j] = e.clone(), c.clone(), float(s)

    def sample(self, max_items: int) -> tuple[Tensor, Tensor, Tensor] | None:
        """``(enhanced, clean, scores)`` of the replayed items, or ``None`` while the buffer is empty. Items of
        different lengths are cropped to the shortest."""
        if len(self) == 0:
            return None
        n = min(len(self), max(1, max_items), max(1, round(self.portion * len(self))))
        index = torch.randperm(len(self), generator=self.rng)[:n].tolist()
        length = min(self.enhanced[i].shape[-1] for i in index)
        enhanced = torch.stack([self.enhanced[i][..., :length] for i in index])
        clean = torch.stack([self.clean[i][..., :length] for i in index])
        return enhanced, clean, torch.tensor([self.scores[i] for i in index])

    def get_extra_state(self) -> dict[str, Any]:
        return {
            "enhanced": list(self.enhanced),
            "clean": list(self.clean),
            "scores": list(self.scores),
            "seen": self.seen,
            "rng": self.rng.get_state(),
        }

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.enhanced, self.clean = list(state["enhanced"]), list(state["clean"])
        self.scores, self.seen = [float(s) for s in state["scores"]], int(state["seen"])
        self.rng.set_state(state["rng"])


class MetricGANPlus(Objective):
    """MetricGAN+'s objective: D regresses the target metric, G maximises D's prediction (module docstring).

    A batch holds ``condition`` (noisy) and ``real`` (clean) waveforms, ``N x 1 x T``. The generator must provide
    ``spectrogram(wave)`` (the log1p magnitude D sees) and its learnable sigmoids, as
    :class:`~lightning_gan.nets.MetricGANGenerator` does.

    Args:
        target_metric: the metric D learns: ``"pesq"`` (default; PESQ-WB, normalised ``(PESQ + 0.5) / 5``),
            ``"stoi"``, or a :class:`~lightning_gan.objectives.TargetMetric` such as
            :class:`~lightning_gan.objectives.WeightedMetric`.
        history_portion: fraction of the replay buffer re-shown to D per batch (recipe 0.2).
        history_capacity: most earlier outputs kept in the buffer.
        replay_seed: seeds the buffer's random generator.
        slope_max: the learnable sigmoid slopes are clamped to at most this (NaN set to it) before each G forward
            in training, as the recipe (3.5); ``None``: never.
        log_input_baseline: also score the noisy input itself (``val/input_<metric>``, ``test/input_<metric>``).
    """

    def __init__(
        self,
        target_metric: TargetMetric | str = "pesq",
        history_portion: float = 0.2,
        history_capacity: int = 1000,
        replay_seed: int = 0,
        slope_max: float | None = RECIPE_SLOPE_MAX,
        log_input_baseline: bool = True,
    ) -> None:
        super().__init__()
        self.target_metric = _resolve(target_metric)
        self.replay = ReplayBuffer(history_capacity, history_portion, replay_seed)
        self.slope_max = slope_max
        self.log_input_baseline = log_input_baseline
        self.sample_rate = 16000  # set from the data at setup (check_data)

    # ------------------------------------------------------------------ setup
    def check_data(self, datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
        """The data is paired speech at a rate the metric supports, and its training windows give D enough frames."""
        if getattr(datamodule, "condition_channels", None) is None:
            raise ConfigError(
                f"model.objective: MetricGANPlus needs paired noisy/clean speech, but the data module "
                f"{type(datamodule).__name__} yields no condition; use lightning_gan.data.NoisyCleanSpeechDataModule."
            )
        if not callable(getattr(generator, "spectrogram", None)):
            raise ConfigError(
                f"model.generator: MetricGANPlus needs a generator with a spectrogram(wave) front end "
                f"(lightning_gan.nets.MetricGANGenerator), got {type(generator).__name__}."
            )
        rate = getattr(datamodule, "sample_rate", None)
        if rate is not None:
            self.target_metric.check_sample_rate(int(rate))
            self.sample_rate = int(rate)
        window = getattr(datamodule, "window", None)
        n_fft, hop = int(getattr(generator, "n_fft", 512)), int(getattr(generator, "hop_length", 256))
        min_size = getattr(discriminator, "min_size", None)
        if window is not None and min_size is not None:
            frames, bins = int(window) // hop + 1, n_fft // 2 + 1
            if min(frames, bins) < min_size:
                raise ConfigError(
                    f"data.init_args.window: {window} samples give {frames} STFT frames x {bins} bins with the "
                    f"generator's n_fft={n_fft}, hop_length={hop}, but the discriminator needs at least {min_size} x "
                    f"{min_size}; use a window of at least {(min_size - 1) * hop} samples or a larger n_fft."
                )

    # ------------------------------------------------------------------ training
    def fakes(self, loop: Loop, batch: Batch) -> Tensor:
        if self.slope_max is not None and torch.is_grad_enabled():
            for sigmoid in _sigmoids(loop.generator):
                sigmoid.clamp_slope_(self.slope_max)
        return loop.training_network("generator")(_pair(batch)[1])

    def _estimate(self, call: nn.Module, spec: Tensor, clean_spec: Tensor) -> Tensor:
        """D's predicted normalised metric of ``spec`` against ``clean_spec``: ``N`` values."""
        return call(torch.stack([spec, clean_spec], dim=1)).reshape(-1)

    def discriminator_loss(self, loop: Loop, batch: Batch, fakes: Tensor, d_step: int) -> Terms:
        clean, noisy = _pair(batch)
        enhanced = fakes.detach()
        spectrogram, call = _spectrogram(loop.generator), loop.training_network("discriminator")
        with torch.no_grad():
            clean_spec = spectrogram(clean)
        q_enhanced = self.target_metric(enhanced, clean, self.sample_rate)
        q_noisy = self.target_metric(noisy, clean, self.sample_rate)
        replay = self.replay.sample(max_items=clean.shape[0])
        logs: dict[str, Tensor] = {}

        ones = torch.ones(clean.shape[0], device=clean.device)
        loss = F.mse_loss(self._estimate(call, clean_spec, clean_spec), ones)
        logs["train/d_clean"] = loss.detach()
        unscored = 0
        for name, wave, target in (("enhanced", enhanced, q_enhanced), ("noisy", noisy, q_noisy)):
            keep = torch.isfinite(target)
            unscored += int((~keep).sum())
            if keep.any():
                with torch.no_grad():
                    spec = spectrogram(wave[keep])
                term = F.mse_loss(self._estimate(call, spec, clean_spec[keep]), target[keep])
                loss = loss + term
                logs[f"train/d_{name}"] = term.detach()
                logs[f"train/target_{name}"] = target[keep].mean()
        if replay is not None:
            old, old_clean, old_scores = (t.to(clean.device) for t in replay)
            with torch.no_grad():
                old_spec, old_clean_spec = spectrogram(old), spectrogram(old_clean)
            term = F.mse_loss(self._estimate(call, old_spec, old_clean_spec), old_scores.float())
            loss = loss + term
            logs["train/d_replay"] = term.detach()
        self.replay.add(enhanced, clean, q_enhanced)
        logs["train/unscored"] = torch.tensor(float(unscored))
        logs["train/replay_size"] = torch.tensor(float(len(self.replay)))
        logs["train/discrim_loss"] = loss.detach()
        return Terms(loss, logs)

    def generator_loss(self, loop: Loop, batch: Batch, fakes: Tensor) -> Terms:
        clean, _ = _pair(batch)
        spectrogram = _spectrogram(loop.generator)
        with torch.no_grad():
            clean_spec = spectrogram(clean)
        # The bare D: frozen in the G step, so a DDP wrapper would wait for gradients that never come.
        estimate = self._estimate(loop.discriminator, spectrogram(fakes), clean_spec)
        g_loss = F.mse_loss(estimate, torch.ones_like(estimate))
        return Terms(g_loss, {"train/gen_loss_GAN": g_loss.detach(), "train/g_estimate": estimate.detach().mean()})

    # ------------------------------------------------------------------ outside training
    def generate(
        self,
        generator: nn.Module,
        condition: Tensor | None,
        batch_size: int | None,
        labels: Tensor | None,
        device: torch.device,
    ) -> Tensor:
        if condition is None:
            raise ValueError("MetricGANPlus enhances a noisy condition; it draws no unconditional samples.")
        return generator(condition)

    def evaluate(self, loop: Loop, batch: Batch, infer: Any, need_output: bool) -> Scored:
        clean, noisy = _pair(batch)
        if not need_output:
            return Scored(None, clean)
        output = infer(noisy, None)
        return Scored(output, clean, noisy, noisy if self.log_input_baseline else None)


def _pair(batch: Batch) -> tuple[Tensor, Tensor]:
    if "real" not in batch or "condition" not in batch:
        raise KeyError(f"MetricGANPlus expects batches with 'real' (clean) and 'condition' (noisy), got {list(batch)}.")
    return batch["real"], batch["condition"]


def _spectrogram(generator: nn.Module) -> Callable[[Tensor], Tensor]:
    """The generator's front end: the log1p magnitude spectrogram D sees (it has no parameters)."""
    return cast(Callable[[Tensor], Tensor], generator.spectrogram)


def _sigmoids(generator: nn.Module) -> list[LearnableSigmoid]:
    return [m for m in generator.modules() if isinstance(m, LearnableSigmoid)]


def _resolve(spec: TargetMetric | str) -> TargetMetric:
    return target_metric(spec)


__all__ = ["MetricGANPlus", "ReplayBuffer"]
