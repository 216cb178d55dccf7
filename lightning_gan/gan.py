"""The one GAN LightningModule: alternating discriminator / generator steps under manual optimization.

Every family runs on this loop. What a particular GAN computes from a batch (its fakes, D's and G's loss terms, what
evaluation scores) is its objective (:mod:`lightning_gan.objectives`); the networks, optimizers and schedulers, how
a whole input is fed to a fixed-geometry generator (:mod:`lightning_gan.whole_input`) and the metrics are injected
too. The loop keeps what every GAN shares. One training step (one batch)::

    repeat n_critic times:                       # D steps; all but the last generate under no_grad
        fakes = objective.fakes(batch)
        L_D = objective.discriminator_loss(batch, fakes)
        D optimizer step (G's parameters frozen), then objective.after_discriminator_step(D)
    L_G = objective.generator_loss(batch, fakes)   # the last D step's fakes, with their graph
    G optimizer step (D's parameters frozen), then the EMA update of G

(an objective with ``generator_first`` runs the G step first, as CycleGAN does).

Step counting: Lightning's ``trainer.global_step`` counts *optimizer* steps, so each batch advances it by
``n_critic + 1``. ``trainer.max_steps`` therefore means optimizer steps too: ``max_steps = (n_critic + 1) * batches``.
The shipped configs budget in epochs; see ``docs/training.md``, "Step counting".

The engineering around the loop lives in :mod:`lightning_gan.training` (precision, speed switches, the DDP strategy,
schedulers, run folders), per-epoch seeding in :class:`lightning_gan.callbacks.EpochSeeding`, and every use of
Lightning's private API in :mod:`lightning_gan._compat`.
"""

import logging
from dataclasses import dataclass
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel
from torchmetrics import Metric, MetricCollection
from typing_extensions import override

from lightning_gan import _compat
from lightning_gan.metrics.sample_quality import SampleQuality
from lightning_gan.objectives.base import Batch, Objective
from lightning_gan.objectives.synthesis import Synthesis
from lightning_gan.training.precision import gradient_scale, outside_autocast, weight_cast_cache
from lightning_gan.training.speed import Speed, compile_networks, step_logs_due, to_channels_last
from lightning_gan.whole_input.strategies import Direct, WholeInput

log = logging.getLogger(__name__)


# Checkpoint entry of the whole-input strategy's state (AtTrainingScale: the training geometry and size multiple).
INFERENCE_CHECKPOINT_KEY = "lightning_gan_inference"


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; raised before any optimizer stepped on it, so the weights are still finite."""


@dataclass
class GradientClipping:
    """Per-network gradient clipping (``model.clipping`` in a config), applied after the AMP scaler unscaled the
    gradients (Lightning issue #18089).

    Args:
        generator: clip G's gradients to this norm (or value) before its optimizer steps; ``None``: no clipping.
        discriminator: the same for D.
        algorithm: ``"norm"`` or ``"value"``.
    """

    generator: float | None = None
    discriminator: float | None = None
    algorithm: Literal["norm", "value"] = "norm"


def ema_update(decay: float, warmup: bool) -> Any:
    """The EMA step of :class:`torch.optim.swa_utils.AveragedModel` (its ``multi_avg_fn``) for weights and buffers.

    ``ema = d * ema + (1 - d) * current`` with ``d = decay``, or with ``warmup`` ``d = min(decay, (1 + n) / (10 + n))``
    at the ``n``-th update (TensorFlow's ``ExponentialMovingAverage(num_updates=n)``). Why the warm-up: the average
    also covers the batch-norm buffers, and without it their initial values weigh ``decay ** n`` for good. A pix2pix
    U-Net's activations before its batch norms have variances of 1e-4 (its weights stay near their N(0, 0.02) init,
    batch norm making their scale irrelevant), so the initial ``running_var`` of 1 still dominates the EMA's after
    thousands of steps at decay 0.999, and in eval mode the EMA outputs one texture for every input
    (docs/experiments/pix2pix_cpu_ignores_input.md). With the warm-up the initial values are gone within a few hundred
    updates. Integer buffers (``num_batches_tracked``) are copied from G.
    """

    @torch.no_grad()
    def update(ema: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        if not ema[0].is_floating_point():
            for e, c in zip(ema, current, strict=True):
                e.copy_(c)
            return
        n = float(num_averaged)
        d = min(decay, (1.0 + n) / (10.0 + n)) if warmup else decay
        torch._foreach_lerp_(ema, current, 1.0 - d)

    return update


class GAN(LightningModule):
    """A GAN trained by alternating discriminator and generator steps.

    Args:
        generator: G; see :mod:`lightning_gan.nets` for the contract (condition and/or noise in, sample out). Several
            generators trained together (CycleGAN) are one composite module under one optimizer.
        discriminator: D; raw scores (logits) of any shape; likewise composite for several.
        objective: what this GAN computes from a batch (:mod:`lightning_gan.objectives`); default
            :class:`~lightning_gan.objectives.Synthesis` with the non-saturating loss.
        g_optimizer: builds G's optimizer from G's parameters (a ``class_path`` in YAML).
        d_optimizer: builds D's optimizer from D's parameters.
        g_scheduler: optional learning-rate scheduler for G's optimizer.
        d_scheduler: optional learning-rate scheduler for D's optimizer.
        scheduler_interval: step the schedulers after every ``"epoch"`` (default, as pix2pix's linear decay) or
            after every optimizer ``"step"``.
        n_critic: discriminator steps per generator step (5 for WGAN and WGAN-GP). All of them see the same real
            batch; each draws fresh noise.
        clipping: per-network gradient clipping (:class:`GradientClipping`); default: none.
        ema_decay: keep an exponential moving average of G's weights with this decay (e.g. 0.999) and use it for
            validation, test, prediction and export; ``None``: no EMA. Batch-norm buffers are averaged too.
        ema_warmup: ramp the EMA's decay up as ``min(ema_decay, (1 + n) / (10 + n))`` over its first updates, so the
            initial weights and batch-norm statistics stop counting (:func:`ema_update`); ``False``: the constant
            decay from the first update.
        inference: how validation, test and predict apply G to whole inputs of any size (pad or resize images,
            overlap-add audio windows); default: G is called directly.
        metrics: validation/test metrics on (output, target), logged as ``val/<name>`` and ``test/<name>``; a metric
            whose ``update`` has a ``condition`` parameter also gets the input (edge consistency,
            :class:`~lightning_gan.metrics.EdgeF1`).
        sample_quality: FID/KID of G's samples (:class:`~lightning_gan.metrics.SampleQuality`), logged at the end
            of every validation and test as e.g. ``val/fid_digits_1k``; unconditional G: fixed-noise samples,
            conditional G: its outputs vs the targets.
        nonfinite_loss: ``"raise"`` stops the run with a message naming the step and the loss term when a loss is
            NaN or inf; ``"skip"`` skips that optimizer step with a warning.
        speed: channels-last memory format and ``torch.compile`` (:class:`~lightning_gan.training.Speed`;
            ``docs/performance.md`` measures both).

    Attributes:
        train_wrappers: training-time wrappers of G and D, by name (``"generator"``, ``"discriminator"``), which the
            training forwards run through; filled by :class:`~lightning_gan.training.SeparateDDPStrategy` (one
            DDP each), empty otherwise.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        objective: Objective | None = None,
        g_optimizer: OptimizerCallable = torch.optim.Adam,
        d_optimizer: OptimizerCallable = torch.optim.Adam,
        g_scheduler: LRSchedulerCallable | None = None,
        d_scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        n_critic: int = 1,
        clipping: GradientClipping | None = None,
        ema_decay: float | None = None,
        ema_warmup: bool = True,
        inference: WholeInput | None = None,
        metrics: dict[str, Metric] | None = None,
        sample_quality: SampleQuality | None = None,
        nonfinite_loss: Literal["raise", "skip"] = "raise",
        speed: Speed | None = None,
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise ValueError(f"Expected `n_critic` >= 1, got {n_critic!r}.")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"Expected `ema_decay` in (0, 1) or None, got {ema_decay!r}.")
        # Not `ignore=`d: under LightningCLI the hyperparameters hold the class_path/init_args of G, D and the
        # objective, which is what lets `GAN.load_from_checkpoint(path)` rebuild the model with no arguments.
        self.save_hyperparameters()
        self.automatic_optimization = False
        # The callables themselves: under LightningCLI `self.hparams` holds their class_path dicts instead.
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_scheduler, self.d_scheduler = g_scheduler, d_scheduler
        self.generator = generator
        self.discriminator = discriminator
        self.objective = objective if objective is not None else Synthesis()
        self.clipping = clipping if clipping is not None else GradientClipping()
        self.speed = speed if speed is not None else Speed()
        self.inference = inference if inference is not None else Direct()
        self.generator_ema = (
            AveragedModel(generator, multi_avg_fn=ema_update(ema_decay, ema_warmup), use_buffers=True)
            if ema_decay is not None
            else None
        )
        collection = MetricCollection(dict(metrics or {}))
        self.val_metrics = collection.clone(prefix="val/")
        self.test_metrics = collection.clone(prefix="test/")
        self.val_input_metrics = collection.clone(prefix="val/input_")
        self.test_input_metrics = collection.clone(prefix="test/input_")
        # The input baseline is scored over one whole validation (and test) epoch per run, then no more.
        self._input_baseline_logged = {"val": False, "test": False}
        self._input_baseline_scored = {"val": False, "test": False}
        self.sample_quality = sample_quality
        # A plain dict, so the wrappers are not registered as submodules and checkpoints keep the bare networks' keys.
        self.train_wrappers: dict[str, nn.Module] = {}

    # ------------------------------------------------------------------ generation
    @property
    def inference_generator(self) -> nn.Module:
        """The generator used outside training: the EMA copy when there is one."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

    @property
    def postprocess(self) -> nn.Module:
        """The objective's post-processing of outputs, targets and conditions (SEGAN: de-emphasis)."""
        return self.objective.postprocess

    @override
    def forward(
        self, condition: Tensor | None = None, batch_size: int | None = None, labels: Tensor | None = None
    ) -> Tensor:
        """Generate whole outputs with the inference generator (EMA when kept) and the inference strategy."""
        generator = self.inference_generator
        if condition is None:
            return self.objective.generate(generator, None, batch_size, labels, self.device)
        return self.inference(lambda c: self.objective.generate(generator, c, None, labels, self.device), condition)

    def training_network(self, name: str) -> nn.Module:
        """``"generator"`` or ``"discriminator"`` as training calls it: its DDP wrapper when it has one."""
        return self.train_wrappers.get(name, getattr(self, name))

    def gradient_scale(self) -> float:
        """The AMP loss scale now (1.0 without a scaler)."""
        return gradient_scale(_compat.attached_trainer(self))

    # ------------------------------------------------------------------ training
    @property
    @override
    def hparams(self) -> Any:
        """The constructor's arguments by name (``self.hparams.n_critic``); typed ``Any`` as their values vary."""
        return super().hparams

    def as_batch(self, batch: Batch | Tensor) -> Batch:
        """A batch dict (a bare tensor is a batch of reals), 4-D tensors in channels-last memory format when
        ``speed.channels_last`` is set."""
        batch = {"real": batch} if isinstance(batch, Tensor) else batch
        if not self.speed.channels_last:
            return batch
        return {k: to_channels_last(v) if isinstance(v, Tensor) else v for k, v in batch.items()}

    @override
    def training_step(self, batch: Batch | Tensor, batch_idx: int) -> None:
        batch = self.as_batch(batch)
        opt_g, opt_d = self.optimizers()  # type: ignore[attr-defined]  # two optimizers: a list
        n_critic = self.hparams.n_critic
        first_d_step = self.global_step // (n_critic + 1) * n_critic  # D steps so far (lazy penalties)
        logs: dict[str, Any] = {}
        if self.objective.generator_first:  # G, then every D step on the fakes G was trained on
            fakes = self.objective.fakes(self, batch)
            logs |= self._generator_step(opt_g, batch, fakes)
            for i in range(n_critic):
                logs |= self._discriminator_step(opt_d, batch, fakes, first_d_step + i)
        else:
            for i in range(n_critic):
                if i == n_critic - 1:
                    fakes = self.objective.fakes(self, batch)  # graph kept: the G step reuses it
                else:
                    with torch.no_grad():
                        fakes = self.objective.fakes(self, batch)
                logs |= self._discriminator_step(opt_d, batch, fakes, first_d_step + i)
            logs |= self._generator_step(opt_g, batch, fakes)
        if self.hparams.scheduler_interval == "step":
            self._step_schedulers()
        if step_logs_due(self.trainer, self.global_step):  # logging costs even when not written; progress bar too
            n = _batch_size(batch)
            shown = {k: logs.pop(k) for k in self.objective.progress_bar_keys if k in logs}
            self.log_dict(shown, prog_bar=True, batch_size=n)
            self.log_dict(logs, batch_size=n)

    def _discriminator_step(self, opt: Any, batch: Batch, fakes: Any, d_step: int) -> dict[str, Any]:
        with self.toggled_optimizer(opt), weight_cast_cache(self.device.type):
            d_loss, logs = self.objective.discriminator_loss(self, batch, fakes, d_step)
            if self._finite("discrim_loss", d_loss):
                self._update(opt, d_loss)
                self.objective.after_discriminator_step(self.discriminator)
        return {**logs, "train/lr_D": opt.param_groups[0]["lr"]}

    def _generator_step(self, opt: Any, batch: Batch, fakes: Any) -> dict[str, Any]:
        with self.toggled_optimizer(opt):
            g_loss, logs = self.objective.generator_loss(self, batch, fakes)
            if self._finite("gen_loss", g_loss):
                self._update(opt, g_loss)
                if self.generator_ema is not None:
                    self.generator_ema.update_parameters(self.generator)
        return {**logs, "train/lr_G": opt.param_groups[0]["lr"]}

    def _update(self, opt: Any, loss: Tensor) -> None:
        """zero_grad, backward, optimizer step; outside Lightning's autocast (:mod:`.training.precision`)."""
        with outside_autocast(self.device.type):
            opt.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt.step()

    def _finite(self, name: str, value: Tensor) -> bool:
        if torch.isfinite(value).item():
            return True
        where = f"at global step {self.global_step} (epoch {self.current_epoch})"
        if self.hparams.nonfinite_loss == "skip":
            log.warning("Skipping an optimizer step: train/%s is %s %s.", name, value.item(), where)
            return False
        raise NonFiniteLossError(
            f"train/{name} is {value.item()} {where}; no optimizer stepped on it, and existing checkpoints are "
            "untouched. Lower the learning rate, clip gradients (`model.clipping.generator`/`discriminator`), "
            "or set `model.nonfinite_loss: skip` to skip such steps."
        )

    @override
    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Runs after the AMP scaler's unscale_ (Lightning issue #18089): clipping here sees true gradients.
        is_d = optimizer is self._raw_optimizers()[1]
        clip = self.clipping.discriminator if is_d else self.clipping.generator
        if clip is not None:
            self.clip_gradients(optimizer, gradient_clip_val=clip, gradient_clip_algorithm=self.clipping.algorithm)

    def _raw_optimizers(self) -> list[torch.optim.Optimizer]:
        return [opt.optimizer for opt in self.optimizers()]  # type: ignore[union-attr]  # two: a list

    def _step_schedulers(self) -> None:
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            scheduler.step()  # type: ignore[call-arg]  # not ReduceLROnPlateau, which needs a metric

    @override
    def on_train_epoch_end(self) -> None:
        if self.hparams.scheduler_interval == "epoch":
            self._step_schedulers()

    @override
    def configure_optimizers(self) -> Any:
        opt_g = self.g_optimizer(self.generator.parameters())
        opt_d = self.d_optimizer(self.discriminator.parameters())
        schedulers = []
        for name, opt, build in (("lr/G", opt_g, self.g_scheduler), ("lr/D", opt_d, self.d_scheduler)):
            if build is not None:
                schedulers.append({"scheduler": build(opt), "name": name, "interval": self.hparams.scheduler_interval})
        return [opt_g, opt_d], schedulers

    # ------------------------------------------------------------------ checkpoints
    @override
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[INFERENCE_CHECKPOINT_KEY] = self.inference.state_dict()

    @override
    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore what the whole-input strategy learnt from the run (the training geometry), except in a resumed
        fit, which keeps its data's."""
        trainer = _compat.attached_trainer(self)
        if trainer is None or trainer.state.fn != "fit":
            self.inference.load_state_dict(checkpoint.get(INFERENCE_CHECKPOINT_KEY, {}))

    # ------------------------------------------------------------------ setup
    @override
    def setup(self, stage: str) -> None:
        trainer = _compat.attached_trainer(self)
        datamodule = getattr(trainer, "datamodule", None)  # None without a trainer or when fit got bare loaders
        if datamodule is not None:
            self.objective.check_data(datamodule, self.generator, self.discriminator)
            if hasattr(self.inference, "bind"):  # strategies that take the data's geometry (whole_input.geometry)
                self.inference.bind(datamodule, self.inference_generator)
        if self.speed.channels_last:
            self.to(memory_format=torch.channels_last)  # converts 4-D parameters and buffers only
        if self.sample_quality is not None:
            self.sample_quality.setup()  # a missing feature-network file stops the run here, before training
        if self.speed.compile and stage == "fit":
            with_d = not self.objective.double_backward_through_discriminator
            compile_networks(self.generator, self.discriminator, compile_discriminator=with_d)

    # ------------------------------------------------------------------ evaluation
    @override
    def validation_step(self, batch: Batch | Tensor, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    @override
    def test_step(self, batch: Batch | Tensor, batch_idx: int) -> dict[str, Tensor] | None:
        return self._evaluate(batch, "test")  # what was scored, for callbacks (lightning_gan.callbacks.HtmlReport)

    def _evaluate(self, batch: Batch | Tensor, stage: str) -> dict[str, Tensor] | None:
        batch = self.as_batch(batch)
        quality = self.sample_quality if not self.trainer.sanity_checking else None
        need_output = len(self.val_metrics) > 0 or self.sample_quality is not None
        scored = self.objective.evaluate(self, batch, lambda c, labels: self(c, labels=labels), need_output)
        if quality is not None:
            quality.update(scored.target, real=True)
        if scored.values:  # the objective's own scores (CycleGAN: cycle L1), averaged over the epoch
            self.log_dict({f"{stage}/{k}": v for k, v in scored.values.items()}, batch_size=scored.target.shape[0])
        if scored.output is None:
            return None  # unconditional: no paired target; SampleQuality draws its samples at the epoch's end
        if quality is not None:
            quality.update(scored.output, real=False)
        n = scored.target.shape[0]
        if len(self.val_metrics) > 0:
            # A metric whose `update` takes a `condition` argument (lightning_gan.metrics.EdgeF1) also gets the input;
            # torchmetrics' MetricCollection passes keyword arguments only to the metrics that name them.
            extra = {} if scored.condition is None else {"condition": scored.condition.float()}
            metrics = getattr(self, f"{stage}_metrics")
            metrics.update(scored.output.float(), scored.target.float(), **extra)
            self.log_dict(metrics, batch_size=n)
            if scored.baseline is not None and not self._input_baseline_logged[stage]:
                baseline = getattr(self, f"{stage}_input_metrics")
                baseline.update(scored.baseline.float(), scored.target.float(), **extra)
                self.log_dict(baseline, batch_size=n)
                self._input_baseline_scored[stage] = True
        shown = scored.condition if scored.condition is not None else scored.output
        return {"condition": shown, "output": scored.output, "target": scored.target}

    @override
    def on_validation_epoch_end(self) -> None:
        if not self.trainer.sanity_checking:
            self._input_baseline_logged["val"] = self._input_baseline_scored["val"]
            self._log_sample_quality("val")

    @override
    def on_test_epoch_end(self) -> None:
        self._input_baseline_logged["test"] = self._input_baseline_scored["test"]
        self._log_sample_quality("test")

    def _log_sample_quality(self, stage: str) -> None:
        quality = self.sample_quality
        if quality is None:
            return
        if not quality.fake_features:  # unconditional: draw the fixed-noise samples now
            quality.add_generated(self.inference_generator, self.postprocess, self.global_rank, self.trainer.world_size)
        self.log_dict({f"{stage}/{k}": v for k, v in quality.compute().items()}, sync_dist=True)
        quality.reset()

    @override
    def predict_step(self, batch: Batch | Tensor, batch_idx: int) -> dict[str, Any]:
        """Return ``{"output": postprocessed whole outputs, **metadata}``; writers in :mod:`lightning_gan.callbacks`
        turn them into files."""
        if isinstance(batch, Tensor):
            batch = {"condition": batch}
        condition = batch.get("condition")
        if condition is None:
            n = len(batch["name"]) if "name" in batch else int(batch["batch_size"])
            output = self(None, n, batch.get("label"))
        else:
            output = self(condition, labels=batch.get("label"))
        extra = {k: v for k, v in batch.items() if k not in ("condition", "real")}
        return {"output": self.postprocess(output), **extra}


def _batch_size(batch: Batch) -> int:
    first = next(v for v in batch.values() if isinstance(v, Tensor))
    return int(first.shape[0])


__all__ = ["GAN", "GradientClipping", "NonFiniteLossError"]
