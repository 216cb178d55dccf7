"""The one GAN LightningModule: alternating discriminator / generator steps under manual optimization.

Every family (pix2pix, SEGAN, DCGAN) runs on this loop; what differs is injected: the two networks, the
adversarial loss strategy (:mod:`lightning_gan.losses`), the optimizers and schedulers, how a whole input is fed to
a fixed-geometry generator (:mod:`lightning_gan.inference`), the output post-processing and the metrics.

One training step (one batch)::

    fake = G(condition, z)                       # once per batch, reused by the last D step and the G step
    repeat n_critic times:                       # D steps; earlier ones draw fresh noise under no_grad
        L_D = w_D * loss.discriminator_loss(D(c, real), D(c, fake.detach())) + loss.penalty(...)
        D optimizer step (G's parameters frozen), then loss.after_discriminator_step(D)
    L_G = loss.generator_loss(D(c, fake)) + reconstruction_weight * reconstruction(fake, real)   # default: L1
    G optimizer step (D's parameters frozen), then the EMA update of G

A conditional discriminator scores ``cat([condition, sample], dim=1)``, as pix2pix and SEGAN do.

Step counting: Lightning's ``trainer.global_step`` counts *optimizer* steps, so each batch advances it by
``n_critic + 1``. ``trainer.max_steps`` therefore means optimizer steps too: ``max_steps = (n_critic + 1) * batches``.
The shipped configs budget in epochs; see README, "Step counting".

The engineering around the loop lives elsewhere: per-epoch seeding and its checkpoint state in
:class:`lightning_gan.seeding.EpochSeeding` (a callback the CLI installs), DDP wrapping in
:mod:`lightning_gan.strategies`, autocast handling in :mod:`lightning_gan.precision`, the channels-last, compile and
log-cadence switches in :mod:`lightning_gan.speed`, the setup-time channel check in :mod:`lightning_gan.checks`, and
every use of Lightning's private API in :mod:`lightning_gan._compat`.
"""

import logging
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torchmetrics import Metric, MetricCollection
from typing_extensions import override

from lightning_gan import _compat
from lightning_gan.checks import check_channels
from lightning_gan.evaluation import SampleQuality
from lightning_gan.inference import Direct, WholeInput
from lightning_gan.labels import check_labels, class_inputs
from lightning_gan.losses import AdversarialLoss, NonSaturatingLoss
from lightning_gan.penalties import GradientPenalty, check_penalties
from lightning_gan.precision import gradient_scale, outside_autocast, weight_cast_cache
from lightning_gan.reconstruction import L1Loss, ReconstructionLoss
from lightning_gan.speed import compile_networks, step_logs_due, to_channels_last

log = logging.getLogger(__name__)

Batch = dict[str, Any]


# Checkpoint entry of the whole-input strategy's state (AtTrainingScale: the training geometry and size multiple).
INFERENCE_CHECKPOINT_KEY = "lightning_gan_inference"
_PROGRESS_BAR_KEYS = ("train/discrim_loss", "train/gen_loss_GAN", "train/gen_loss_L1")


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf; raised before any optimizer stepped on it, so the weights are still finite."""


class GAN(LightningModule):
    """A GAN trained by alternating discriminator and generator steps.

    Args:
        generator: G; see :mod:`lightning_gan.nets` for the contract (condition and/or noise in, sample out).
        discriminator: D; raw scores (logits) of any shape.
        loss: the adversarial loss strategy; default :class:`~lightning_gan.losses.NonSaturatingLoss`.
        penalties: gradient penalties added to D's loss on every D step, whatever the loss
            (:mod:`lightning_gan.penalties`: R1, R2, lazy or not).
        augment: differentiable augmentation applied to every input of D during training
            (:class:`~lightning_gan.augment.DiffAugment`); default: none.
        g_optimizer: builds G's optimizer from G's parameters (a ``class_path`` in YAML).
        d_optimizer: builds D's optimizer from D's parameters.
        g_scheduler: optional learning-rate scheduler for G's optimizer.
        d_scheduler: optional learning-rate scheduler for D's optimizer.
        scheduler_interval: step the schedulers after every ``"epoch"`` (default, as pix2pix's linear decay) or
            after every optimizer ``"step"``.
        n_critic: discriminator steps per generator step (5 for WGAN and WGAN-GP). All of them see the same real
            batch; each draws fresh noise.
        reconstruction_weight: weight of ``reconstruction(G(condition), real)`` in G's loss (pix2pix and SEGAN: 100,
            with L1); needs conditional batches.
        reconstruction: the reconstruction loss strategy (:mod:`lightning_gan.reconstruction`); default
            :class:`~lightning_gan.reconstruction.L1Loss`. Logged as ``train/gen_loss_<its log_name>``.
        discriminator_loss_weight: multiplies D's adversarial loss (pix2pix halves it "to slow down the rate at
            which D learns relative to G", Isola et al. 2017, section 3.3).
        g_gradient_clip_val: clip G's gradients to this norm (or value) before its optimizer steps; ``None``: no
            clipping. Clipping happens in ``on_before_optimizer_step``, after the AMP scaler unscaled the gradients.
        d_gradient_clip_val: the same for D.
        gradient_clip_algorithm: ``"norm"`` or ``"value"``.
        ema_decay: keep an exponential moving average of G's weights with this decay (e.g. 0.999) and use it for
            validation, test, prediction and export; ``None``: no EMA.
        inference: how validation, test and predict apply G to whole inputs of any size (pad or resize images,
            overlap-add audio windows); default: G is called directly.
        postprocess: applied to outputs, targets and conditions before metrics, samples and prediction writers
            (SEGAN: :class:`~lightning_gan.audio.DeEmphasis`); default: identity.
        metrics: validation/test metrics on (output, target), logged as ``val/<name>`` and ``test/<name>``.
        sample_quality: FID/KID of G's samples (:class:`~lightning_gan.evaluation.SampleQuality`), logged at the end
            of every validation and test as e.g. ``val/fid_digits_1k``; unconditional G: fixed-noise samples,
            conditional G: its outputs vs the targets.
        log_input_baseline: also score the condition itself against the target once per run (``val/input_<name>``),
            so an enhancement's improvement over its noisy input is visible.
        nonfinite_loss: ``"raise"`` stops the run with a message naming the step and the loss term when a loss is
            NaN or inf; ``"skip"`` skips that optimizer step with a warning.
        channels_last: keep G, D and 4-D batches in the channels-last (NHWC) memory format, which convolutions run
            faster in on GPUs with tensor cores and, for some models, on CPUs (``docs/benchmarks_ablation.md``).
            No effect on 1-D (audio) networks.
        compile: ``torch.compile`` G and D in place before training (``nn.Module.compile``: checkpoint keys do not
            change). Pays off after a one-time compilation, and not for every model (``docs/benchmarks_ablation.md``).
            With a loss that has a gradient penalty only G is compiled, because compiled modules do not support the
            penalty's double backward.

    Attributes:
        train_wrappers: training-time wrappers of G and D, by name (``"generator"``, ``"discriminator"``), which the
            training forwards run through; filled by :class:`~lightning_gan.strategies.SeparateDDPStrategy` (one
            DDP each), empty otherwise.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: AdversarialLoss | None = None,
        penalties: list[GradientPenalty] | None = None,
        augment: nn.Module | None = None,
        g_optimizer: OptimizerCallable = torch.optim.Adam,
        d_optimizer: OptimizerCallable = torch.optim.Adam,
        g_scheduler: LRSchedulerCallable | None = None,
        d_scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        n_critic: int = 1,
        reconstruction_weight: float = 0.0,
        reconstruction: ReconstructionLoss | None = None,
        discriminator_loss_weight: float = 1.0,
        g_gradient_clip_val: float | None = None,
        d_gradient_clip_val: float | None = None,
        gradient_clip_algorithm: Literal["norm", "value"] = "norm",
        ema_decay: float | None = None,
        inference: WholeInput | None = None,
        postprocess: nn.Module | None = None,
        metrics: dict[str, Metric] | None = None,
        sample_quality: SampleQuality | None = None,
        log_input_baseline: bool = False,
        nonfinite_loss: Literal["raise", "skip"] = "raise",
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise ValueError(f"Expected `n_critic` >= 1, got {n_critic!r}.")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"Expected `ema_decay` in (0, 1) or None, got {ema_decay!r}.")
        # Not `ignore=`d: under LightningCLI the hyperparameters hold the class_path/init_args of G, D and the loss,
        # which is what lets `GAN.load_from_checkpoint(path)` rebuild the model with no arguments.
        self.save_hyperparameters()
        self.automatic_optimization = False
        # The callables themselves: under LightningCLI `self.hparams` holds their class_path dicts instead.
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_scheduler, self.d_scheduler = g_scheduler, d_scheduler
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss if loss is not None else NonSaturatingLoss()
        self.penalties = nn.ModuleList(penalties or [])
        check_penalties(self.loss, list(self.penalties))
        self.augment = augment if augment is not None else nn.Identity()
        self.reconstruction = reconstruction if reconstruction is not None else L1Loss()
        self.inference = inference if inference is not None else Direct()
        self.postprocess = postprocess if postprocess is not None else nn.Identity()
        self.generator_ema = (
            AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
            if ema_decay is not None
            else None
        )
        collection = MetricCollection(dict(metrics or {}))
        self.val_metrics = collection.clone(prefix="val/")
        self.test_metrics = collection.clone(prefix="test/")
        self.val_input_metrics = collection.clone(prefix="val/input_")
        self.test_input_metrics = collection.clone(prefix="test/input_")
        self._input_baseline_logged = {"val": False, "test": False}
        self.sample_quality = sample_quality
        # A plain dict, so the wrappers are not registered as submodules and checkpoints keep the bare networks' keys.
        self.train_wrappers: dict[str, nn.Module] = {}

    # ------------------------------------------------------------------ generation
    @property
    def inference_generator(self) -> nn.Module:
        """The generator used outside training: the EMA copy when there is one."""
        return self.generator_ema.module if self.generator_ema is not None else self.generator

    def sample_noise(
        self, batch_size: int, condition: Tensor | None, generator: nn.Module | None = None
    ) -> Tensor | None:
        """Draw G's noise ``z`` for one batch, or ``None`` when G takes none.

        Noise comes from the global RNG, which :class:`~lightning_gan.seeding.EpochSeeding` reseeds per (seed, rank,
        epoch) in training: every DDP rank draws different noise, and a resumed run draws the same noise as an
        uninterrupted one.
        """
        generator = generator if generator is not None else self.generator
        latent_shape = getattr(generator, "latent_shape", None)
        shape = latent_shape(batch_size, condition) if latent_shape is not None else None
        if shape is None:
            return None
        return torch.randn(shape, device=self.device if condition is None else condition.device)

    def generate(
        self,
        condition: Tensor | None = None,
        batch_size: int | None = None,
        generator: nn.Module | None = None,
        labels: Tensor | None = None,
    ) -> Tensor:
        """One forward pass of G (default: the training G, through its DDP wrapper when it has one) on a batch
        shaped as in training; a class-conditional G also gets ``labels`` (:mod:`lightning_gan.labels`)."""
        call = generator if generator is not None else self.train_wrappers.get("generator", self.generator)
        generator = generator if generator is not None else self.generator
        if condition is None and batch_size is None:
            raise ValueError("An unconditional generator needs `batch_size`.")
        n = condition.shape[0] if condition is not None else int(batch_size)  # type: ignore[arg-type]
        z = self.sample_noise(n, condition, generator)
        inputs = [t for t in (condition, z) if t is not None]
        return call(*inputs, *class_inputs(generator, labels, "generator"))

    @override
    def forward(
        self, condition: Tensor | None = None, batch_size: int | None = None, labels: Tensor | None = None
    ) -> Tensor:
        """Generate whole outputs with the inference generator (EMA when kept) and the inference strategy."""
        generator = self.inference_generator
        if condition is None:
            return self.generate(None, batch_size, generator, labels)
        return self.inference(lambda c: self.generate(c, generator=generator, labels=labels), condition)

    def discriminate(
        self,
        sample: Tensor,
        condition: Tensor | None,
        discriminator: nn.Module | None = None,
        labels: Tensor | None = None,
    ) -> Tensor:
        """D's scores for ``sample``: a conditional D sees ``cat([condition, sample], dim=1)``, through ``augment``;
        a class-conditional D also gets ``labels``."""
        x = self.augment(sample if condition is None else torch.cat([condition, sample], dim=1))
        call = discriminator if discriminator is not None else self.discriminator
        return call(x, *class_inputs(self.discriminator, labels, "discriminator"))

    # ------------------------------------------------------------------ training
    @property
    @override
    def hparams(self) -> Any:
        """The constructor's arguments by name (``self.hparams.n_critic``); typed ``Any`` as their values vary."""
        return super().hparams

    def unpack(self, batch: Batch | Tensor) -> tuple[Tensor, Tensor | None]:
        """(real, condition) from a batch dict (``real`` and optional ``condition``) or a bare tensor of reals, in
        channels-last memory format when ``channels_last`` is set."""
        if isinstance(batch, Tensor):
            real, condition = batch, None
        elif "real" not in batch:
            raise KeyError(f"Expected a batch dict with a 'real' key (and 'condition' if paired), got {list(batch)}.")
        else:
            real, condition = batch["real"], batch.get("condition")
        if self.hparams.channels_last:
            return to_channels_last(real), to_channels_last(condition)  # type: ignore[return-value]
        return real, condition

    @override
    def training_step(self, batch: Batch | Tensor, batch_idx: int) -> None:
        real, condition = self.unpack(batch)
        labels = batch.get("label") if isinstance(batch, dict) else None
        opt_g, opt_d = self.optimizers()  # type: ignore[attr-defined]  # two optimizers: a list
        n, n_critic = real.shape[0], self.hparams.n_critic
        for i in range(n_critic):
            if i == n_critic - 1:
                fake = self.generate(condition, n, labels=labels)  # graph kept: the G step reuses it
            else:
                with torch.no_grad():
                    fake = self.generate(condition, n, labels=labels)
            d_step = self.global_step // (n_critic + 1) * n_critic + i  # D steps so far (lazy penalties)
            logs = self._discriminator_step(opt_d, real, fake.detach(), condition, labels, d_step)
        logs |= self._generator_step(opt_g, real, fake, condition, labels)
        if self.hparams.scheduler_interval == "step":
            self._step_schedulers()
        if step_logs_due(self.trainer, self.global_step):  # logging costs even when not written; progress bar too
            keys = (*_PROGRESS_BAR_KEYS, f"train/gen_loss_{self.reconstruction.log_name}")
            shown = {k: logs.pop(k) for k in keys if k in logs}
            self.log_dict(shown, prog_bar=True, batch_size=n)
            self.log_dict(logs, batch_size=n)

    def _discriminator_step(
        self,
        opt: Any,
        real: Tensor,
        fake: Tensor,
        condition: Tensor | None,
        labels: Tensor | None = None,
        d_step: int = 0,
    ) -> dict[str, Any]:
        logs: dict[str, Any] = {}
        discriminator = self.train_wrappers.get("discriminator", self.discriminator)
        with self.toggled_optimizer(opt), weight_cast_cache(self.device.type):
            real_scores = self.discriminate(real, condition, discriminator, labels)
            fake_scores = self.discriminate(fake, condition, discriminator, labels)
            adversarial = self.loss.discriminator_loss(real_scores, fake_scores)
            d_loss = self.hparams.discriminator_loss_weight * adversarial
            scale = gradient_scale(_compat.attached_trainer(self))

            def critic(x: Tensor) -> Tensor:
                return self.discriminate(x, condition, labels=labels)

            penalty = self.loss.penalty(critic, real, fake, scale)
            if penalty is not None:
                d_loss = d_loss + penalty
                logs["train/gradient_penalty"] = penalty.detach()
            for extra in self.penalties:
                term = extra(critic, real, fake, scale, d_step)
                if term is not None:
                    d_loss = d_loss + term
                    logs[f"train/penalty_{extra.name}"] = term.detach()
            logs["train/discrim_loss"] = d_loss.detach()
            logs["train/d_real"] = self.loss.probability(real_scores)
            logs["train/d_fake"] = self.loss.probability(fake_scores)
            if self._finite("discrim_loss", d_loss):
                self._update(opt, d_loss)
                self.loss.after_discriminator_step(self.discriminator)
        logs["train/lr_D"] = opt.param_groups[0]["lr"]
        return logs

    def _generator_step(
        self, opt: Any, real: Tensor, fake: Tensor, condition: Tensor | None, labels: Tensor | None = None
    ) -> dict[str, Any]:
        logs: dict[str, Any] = {}
        with self.toggled_optimizer(opt):  # the bare D: frozen here, so a DDP wrapper would wait for its gradients
            g_adversarial = self.loss.generator_loss(self.discriminate(fake, condition, labels=labels))
            g_loss = g_adversarial
            logs["train/gen_loss_GAN"] = g_adversarial.detach()
            if self.hparams.reconstruction_weight > 0:
                if condition is None:
                    raise ValueError("`reconstruction_weight` > 0 needs conditional batches with a 'condition' key.")
                rec = self.reconstruction(fake, real)
                g_loss = g_loss + self.hparams.reconstruction_weight * rec
                logs[f"train/gen_loss_{self.reconstruction.log_name}"] = rec.detach()
            if self._finite("gen_loss", g_loss):
                self._update(opt, g_loss)
                if self.generator_ema is not None:
                    self.generator_ema.update_parameters(self.generator)
        logs["train/lr_G"] = opt.param_groups[0]["lr"]
        return logs

    def _update(self, opt: Any, loss: Tensor) -> None:
        """zero_grad, backward, optimizer step; outside Lightning's autocast (:mod:`lightning_gan.precision`)."""
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
            "untouched. Lower the learning rate, clip gradients (`model.g_gradient_clip_val`/`d_gradient_clip_val`), "
            "or set `model.nonfinite_loss: skip` to skip such steps."
        )

    @override
    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Runs after the AMP scaler's unscale_ (Lightning issue #18089): clipping here sees true gradients.
        is_d = optimizer is self._raw_optimizers()[1]
        clip = self.hparams.d_gradient_clip_val if is_d else self.hparams.g_gradient_clip_val
        if clip is not None:
            self.clip_gradients(
                optimizer, gradient_clip_val=clip, gradient_clip_algorithm=self.hparams.gradient_clip_algorithm
            )

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
        """Restore what the whole-input strategy learnt from the run (lightning_gan.geometry: the training geometry),
        except in a resumed fit, which keeps its data's."""
        trainer = _compat.attached_trainer(self)
        if trainer is None or trainer.state.fn != "fit":
            self.inference.load_state_dict(checkpoint.get(INFERENCE_CHECKPOINT_KEY, {}))

    # ------------------------------------------------------------------ setup
    @override
    def setup(self, stage: str) -> None:
        trainer = _compat.attached_trainer(self)
        datamodule = getattr(trainer, "datamodule", None)  # None without a trainer or when fit got bare loaders
        if datamodule is not None:
            check_channels(datamodule, self.generator, self.discriminator)
            check_labels(datamodule, self.generator, self.discriminator)
            if hasattr(self.inference, "bind"):  # strategies that take the data's geometry (lightning_gan.geometry)
                self.inference.bind(datamodule, self.inference_generator)
        if self.hparams.channels_last:
            self.to(memory_format=torch.channels_last)  # converts 4-D parameters and buffers only
        if self.sample_quality is not None:
            self.sample_quality.setup()  # a missing feature-network file stops the run here, before training
        if self.hparams.compile and stage == "fit":
            compile_networks(self.generator, self.discriminator, self.loss, penalties=list(self.penalties))

    # ------------------------------------------------------------------ evaluation
    @override
    def validation_step(self, batch: Batch | Tensor, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    @override
    def test_step(self, batch: Batch | Tensor, batch_idx: int) -> dict[str, Tensor] | None:
        return self._evaluate(batch, "test")  # what was scored, for callbacks (lightning_gan.report.HtmlReport)

    def _evaluate(self, batch: Batch | Tensor, stage: str) -> dict[str, Tensor] | None:
        real, condition = self.unpack(batch)
        if self.sample_quality is not None and not self.trainer.sanity_checking:
            self.sample_quality.update(self.postprocess(real), real=True)
        if condition is None or (len(self.val_metrics) == 0 and self.sample_quality is None):
            return None  # unconditional: no paired target; SampleQuality draws its samples at the epoch's end
        output = self.postprocess(self(condition))
        target = self.postprocess(real)
        if self.sample_quality is not None and not self.trainer.sanity_checking:
            self.sample_quality.update(output, real=False)
        if len(self.val_metrics) > 0:
            metrics = getattr(self, f"{stage}_metrics")
            metrics.update(output.float(), target.float())
            self.log_dict(metrics, batch_size=real.shape[0])
            if self.hparams.log_input_baseline and not self._input_baseline_logged[stage]:
                baseline = getattr(self, f"{stage}_input_metrics")
                baseline.update(self.postprocess(condition).float(), target.float())
                self.log_dict(baseline, batch_size=real.shape[0])
        return {"condition": self.postprocess(condition), "output": output, "target": target}

    @override
    def on_validation_epoch_end(self) -> None:
        if not self.trainer.sanity_checking:
            self._input_baseline_logged["val"] = self.hparams.log_input_baseline
            self._log_sample_quality("val")

    @override
    def on_test_epoch_end(self) -> None:
        self._input_baseline_logged["test"] = self.hparams.log_input_baseline
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
