"""The GAN loop, through real (tiny, CPU) Lightning runs: who moves on which step, step counting, clipping,
penalty, EMA, schedulers, non-finite losses, and the setup-time channel check."""

import csv
import math
import shutil
from functools import partial

import pytest
import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger
from torch import nn

from lightning_gan.gan import GAN, GradientClipping, NonFiniteLossError, ema_update
from lightning_gan.objectives import Objective, PairedTranslation, Synthesis
from lightning_gan.objectives.losses import HingeLoss, WassersteinGPLoss, WassersteinLoss
from lightning_gan.training import Speed
from tests.toy import ToyConditionalGenerator, ToyData, ToyDiscriminator, ToyGenerator


def make_trainer(tmp_path, **kwargs) -> Trainer:
    defaults = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    return Trainer(**{**defaults, **kwargs})


OBJECTIVE_ARGS = ("loss", "penalties", "augment", "reconstruction_weight", "discriminator_loss_weight",
                  "log_input_baseline")  # fmt: skip


def make_gan(conditional: bool = False, **kwargs) -> GAN:
    """A toy GAN; the objective's and the speed switches' arguments may be given flat."""
    seed_everything(0)
    generator = ToyConditionalGenerator() if conditional else ToyGenerator()
    discriminator = ToyDiscriminator(2 if conditional else 1)
    sgd = partial(torch.optim.SGD, lr=0.05)
    parts = {k: kwargs.pop(k) for k in OBJECTIVE_ARGS if k in kwargs}
    speed = Speed(**{k: kwargs.pop(k) for k in ("channels_last", "compile") if k in kwargs})
    if conditional:
        objective: Objective = PairedTranslation(**{"reconstruction_weight": 0.0, **parts})
    else:
        assert not parts.pop("reconstruction_weight", 0.0), "an unconditional GAN has no reconstruction term"
        objective = Synthesis(**parts)
    return GAN(generator, discriminator, objective, g_optimizer=sgd, d_optimizer=sgd, speed=speed, **kwargs)


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def grads(module: nn.Module) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.detach().clone() for p in module.parameters()]


def same(a: list, b: list) -> bool:
    return all(
        (x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
        for x, y in zip(a, b, strict=True)
    )


class StepRecorder(Callback):
    """Records, just before each optimizer step (after its backward), which network steps and both networks'
    weights and gradients; and the same at each batch end."""

    def __init__(self) -> None:
        self.events: list[tuple[str, list, list, list, list]] = []

    def _record(self, label: str, pl_module: GAN) -> None:
        g, d = pl_module.generator, pl_module.discriminator
        self.events.append((label, snapshot(g), snapshot(d), grads(g), grads(d)))

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        is_d = optimizer is pl_module.optimizers()[1].optimizer
        self._record("D" if is_d else "G", pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._record("end", pl_module)


@pytest.mark.parametrize("conditional", [False, True])
def test_each_step_moves_only_its_own_network(tmp_path, conditional: bool) -> None:
    recorder = StepRecorder()
    model = make_gan(conditional, reconstruction_weight=10.0 if conditional else 0.0)
    make_trainer(tmp_path, max_steps=6, callbacks=[recorder]).fit(model, ToyData(conditional))
    labels = [e[0] for e in recorder.events]
    assert labels == ["D", "G", "end"] * 3
    for i in range(0, len(recorder.events), 3):
        (_, g0, d0, gg0, dg0), (_, g1, d1, _, dg1), (_, g2, d2, _, _) = recorder.events[i : i + 3]
        # D step (between the D record and the G record): G's weights bit-identical, D's moved.
        assert same(g0, g1) and not same(d0, d1)
        # G step: D's weights bit-identical, G's moved.
        assert same(d1, d2) and not same(g1, g2)
        # The G backward put no gradient into D: D's gradients are still exactly those of its own step.
        assert same(dg0, dg1)
        # The D backward put no gradient into G.
        if i > 0:
            assert same(recorder.events[i - 2][3], gg0)  # G's gradients unchanged since the previous G step


@pytest.mark.parametrize("n_critic", [1, 3])
def test_max_steps_counts_optimizer_steps(tmp_path, n_critic: int) -> None:
    """Lightning counts every optimizer step in global_step: (n_critic + 1) per batch; max_steps means the same."""
    recorder = StepRecorder()
    batches = 3
    model = make_gan(n_critic=n_critic)
    trainer = make_trainer(tmp_path, max_steps=(n_critic + 1) * batches, callbacks=[recorder])
    trainer.fit(model, ToyData())
    labels = [e[0] for e in recorder.events]
    assert labels == (["D"] * n_critic + ["G", "end"]) * batches
    assert trainer.global_step == (n_critic + 1) * batches


class RecordingSGD(torch.optim.SGD):
    """SGD that records the gradient norm it steps with (after the closure, where Lightning clips)."""

    def __init__(self, params, norms: list[float], lr: float = 0.05) -> None:
        super().__init__(params, lr=lr)
        self.norms = norms

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        params = [p for group in self.param_groups for p in group["params"] if p.grad is not None]
        self.norms.append(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])).item())
        super().step()
        return loss


def test_per_network_gradient_clipping(tmp_path) -> None:
    g_norms, d_norms = [], []
    model = make_gan(clipping=GradientClipping(discriminator=1e-3))
    model.g_optimizer = partial(RecordingSGD, norms=g_norms)
    model.d_optimizer = partial(RecordingSGD, norms=d_norms)
    make_trainer(tmp_path, max_steps=6).fit(model, ToyData())
    assert len(d_norms) == 3 and max(d_norms) == pytest.approx(1e-3, rel=1e-4)
    assert min(g_norms) > 1e-3  # G was not clipped


def test_wasserstein_clipping_takes_effect(tmp_path) -> None:
    model = make_gan(loss=WassersteinLoss(clip_value=0.003))
    make_trainer(tmp_path, max_steps=4).fit(model, ToyData())
    assert all(p.abs().max() <= 0.003 for p in model.discriminator.parameters())


def test_gradient_penalty_takes_effect(tmp_path) -> None:
    model = make_gan(loss=WassersteinGPLoss(penalty_weight=10.0), n_critic=2)
    trainer = make_trainer(tmp_path, max_steps=6)
    trainer.fit(model, ToyData())
    penalty = trainer.logged_metrics["train/gradient_penalty"]
    assert penalty > 0
    # D's loss includes it: Wasserstein D loss alone is bounded by |mean(fake) - mean(real)|, small here.
    assert (
        trainer.logged_metrics["train/discrim_loss"]
        > trainer.logged_metrics["train/d_fake"] - trainer.logged_metrics["train/d_real"]
    )


def test_logged_keys(tmp_path) -> None:
    model = make_gan(conditional=True, reconstruction_weight=100.0)
    trainer = make_trainer(tmp_path, max_steps=2)
    trainer.fit(model, ToyData(conditional=True))
    keys = set(trainer.logged_metrics)
    assert {
        "train/discrim_loss",
        "train/gen_loss_GAN",
        "train/gen_loss_L1",
        "train/d_real",
        "train/d_fake",
        "train/lr_G",
        "train/lr_D",
    } <= keys
    assert 0.0 <= trainer.logged_metrics["train/d_real"] <= 1.0  # a probability for the non-saturating loss


def test_generator_ema(tmp_path) -> None:
    model = make_gan(ema_decay=0.5, ema_warmup=False)
    ema_values = []

    class EMARecorder(Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            ema_values.append((snapshot(pl_module.generator), snapshot(pl_module.generator_ema.module)))

    make_trainer(tmp_path, max_steps=6, callbacks=[EMARecorder()]).fit(model, ToyData())
    (g0, e0), (g1, e1), (g2, e2) = ema_values
    assert same(g0, e0)  # the first update copies
    for g, e_prev, e in [(g1, e0, e1), (g2, e1, e2)]:
        for gp, ep_prev, ep in zip(g, e_prev, e, strict=True):
            torch.testing.assert_close(ep, 0.5 * ep_prev + 0.5 * gp)
    assert model.inference_generator is model.generator_ema.module


def test_ema_warmup_forgets_the_initial_batch_norm_statistics() -> None:
    """A batch-norm running variance that starts at 1 while G's layers see 1e-4 (a pix2pix U-Net's first layers):
    after 300 updates at decay 0.999 the plain EMA still holds 0.74 of the 1 (eval-mode outputs then ignore the
    input, docs/experiments/pix2pix_cpu_ignores_input.md); the warmed-up one holds G's value."""
    for warmup, expected in ((True, 1e-4), (False, 0.999**300 * (1 - 1e-4) + 1e-4)):
        update = ema_update(0.999, warmup)
        ema, count = [torch.ones(4)], [torch.tensor(0)]
        for n in range(1, 301):
            update(ema, [torch.full((4,), 1e-4)], torch.tensor(n))
            update(count, [torch.tensor(n)], torch.tensor(n))
        torch.testing.assert_close(ema[0], torch.full((4,), expected), rtol=1e-4, atol=0.0)
        assert count[0].item() == 300  # integer buffers (num_batches_tracked) follow G's
    first = [torch.zeros(1)]
    ema_update(0.999, True)(first, [torch.ones(1)], torch.tensor(1))
    torch.testing.assert_close(first[0], torch.tensor([1 - 2 / 11]))  # d_1 = min(0.999, 2 / 11)


@pytest.mark.parametrize(
    ("interval", "expected"), [("epoch", [0.1, 0.05, 0.025]), ("step", [0.1 * 0.5**4, 0.1 * 0.5**8])]
)
def test_scheduler_interval(tmp_path, interval: str, expected: list[float]) -> None:
    lrs = []

    class LRRecorder(Callback):
        def on_train_epoch_start(self, trainer, pl_module) -> None:
            lrs.append(pl_module.optimizers()[0].param_groups[0]["lr"])

    step_lr = partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    model = make_gan(g_scheduler=step_lr, d_scheduler=step_lr, scheduler_interval=interval)
    model.g_optimizer = model.d_optimizer = partial(torch.optim.SGD, lr=0.1)
    epochs = 3 if interval == "epoch" else 2
    make_trainer(tmp_path, max_epochs=epochs, callbacks=[LRRecorder()]).fit(model, ToyData(n=32, batch_size=8))
    if interval == "epoch":
        assert lrs == pytest.approx(expected)
    else:
        assert lrs[1:] == pytest.approx(expected[:1])  # 4 batches per epoch halve it 4 times


def test_learning_rates_reach_the_logger_per_network(tmp_path) -> None:
    """The module is the run's learning-rate monitor: `train/lr_G` and `train/lr_D` reach the logger at every
    logged step, named by network, whether or not the optimizer has a scheduler, and follow the scheduler."""
    step_lr = partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    model = make_gan(g_scheduler=step_lr)  # D: no scheduler
    model.g_optimizer = model.d_optimizer = partial(torch.optim.SGD, lr=0.1)
    logger = CSVLogger(tmp_path, name="lr")
    trainer = make_trainer(tmp_path, max_epochs=3, logger=logger, log_every_n_steps=1)
    trainer.fit(model, ToyData(n=32, batch_size=8))  # 4 batches per epoch
    with open(f"{logger.log_dir}/metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("train/lr_G")]
    assert [float(r["train/lr_G"]) for r in rows] == pytest.approx([0.1] * 4 + [0.05] * 4 + [0.025] * 4)
    assert [float(r["train/lr_D"]) for r in rows] == pytest.approx([0.1] * 12)


class NaNGenerator(ToyGenerator):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return super().forward(z) * math.nan


def test_nonfinite_loss_stops_with_step_and_term(tmp_path) -> None:
    model = GAN(NaNGenerator(), ToyDiscriminator())
    with pytest.raises(NonFiniteLossError, match=r"train/discrim_loss is nan at global step 0"):
        make_trainer(tmp_path, max_steps=4).fit(model, ToyData())


def test_nonfinite_loss_can_be_skipped(tmp_path) -> None:
    model = GAN(NaNGenerator(), ToyDiscriminator(), nonfinite_loss="skip")
    before = snapshot(model.discriminator)
    make_trainer(tmp_path, max_epochs=1).fit(model, ToyData())
    assert same(before, snapshot(model.discriminator))
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_channel_mismatch_is_caught_at_setup(tmp_path) -> None:
    model = GAN(ToyConditionalGenerator(in_channels=3), ToyDiscriminator(2), PairedTranslation())
    with pytest.raises(ValueError, match=r"condition_channels = 1 but the network expects generator.in_channels = 3"):
        make_trainer(tmp_path, max_steps=2).fit(model, ToyData(conditional=True))


def test_hinge_trains_and_validates_with_metrics(tmp_path) -> None:
    from torchmetrics import MeanAbsoluteError

    model = make_gan(conditional=True, loss=HingeLoss(), metrics={"l1": MeanAbsoluteError()}, log_input_baseline=True)
    trainer = make_trainer(tmp_path, max_epochs=1, limit_val_batches=None)
    trainer.fit(model, ToyData(conditional=True))
    assert "val/l1" in trainer.callback_metrics
    # the condition x against the target -x: mean |2x| with x ~ U(-1, 1) is 1.
    assert trainer.callback_metrics["val/input_l1"] == pytest.approx(1.0, abs=0.25)


class BatchProbe(Callback):
    """Keeps the (real, condition) of the first training batch as the training step unpacks them."""

    def __init__(self) -> None:
        self.batch = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.batch is None:
            batch = pl_module.as_batch(batch)
            self.batch = (batch["real"], batch["condition"])


def test_channels_last_trains_the_same_model_in_nhwc(tmp_path) -> None:
    runs = {}
    for channels_last in (False, True):
        model, probe = make_gan(conditional=True, channels_last=channels_last), BatchProbe()
        make_trainer(tmp_path, max_epochs=2, callbacks=[probe]).fit(model, datamodule=ToyData(conditional=True))
        runs[channels_last] = (model, probe.batch)
    (plain, _), (nhwc, batch) = runs[False], runs[True]
    nhwc_format = torch.channels_last
    assert all(t.is_contiguous(memory_format=nhwc_format) for t in batch)
    conv_weights = [p for p in nhwc.parameters() if p.dim() == 4]
    assert conv_weights and all(p.is_contiguous(memory_format=nhwc_format) for p in conv_weights)
    assert not plain.generator.net[2].weight.is_contiguous(memory_format=nhwc_format)
    # The same computation in another layout: equal up to float rounding after 16 optimizer steps.
    for a, b in zip(plain.state_dict().values(), nhwc.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_compile_compiles_both_networks_but_not_a_penalised_critic() -> None:
    model = make_gan(conditional=True, compile=True)
    model.setup("fit")
    assert model.generator._compiled_call_impl is not None
    assert model.discriminator._compiled_call_impl is not None
    penalised = make_gan(conditional=True, compile=True, loss=WassersteinGPLoss())
    penalised.setup("fit")
    assert penalised.generator._compiled_call_impl is not None
    assert penalised.discriminator._compiled_call_impl is None  # compiled modules have no double backward
    assert set(penalised.state_dict()) == set(make_gan(conditional=True, loss=WassersteinGPLoss()).state_dict())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="inductor needs a C compiler")
def test_compiled_fit_matches_eager(tmp_path) -> None:
    """A real torch.compile'd fit (inductor) trains the same model as eager, within float rounding."""
    models = {}
    for compile in (False, True):
        models[compile] = make_gan(conditional=True, compile=compile)
        make_trainer(tmp_path, max_epochs=1).fit(models[compile], datamodule=ToyData(conditional=True))
    for a, b in zip(models[False].state_dict().values(), models[True].state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("log_every_n_steps", "logged_batches"), [(1, [0, 1, 2, 3, 4, 5]), (4, [3, 5])])
def test_training_logs_are_built_only_when_written(tmp_path, log_every_n_steps: int, logged_batches) -> None:
    """Step values are logged on the batches the loggers write (every `log_every_n_steps`) and on the run's last
    batch; the others skip `self.log` and its cost."""
    model, logged = make_gan(), []
    original = model.log_dict
    model.log_dict = lambda *args, **kwargs: (
        logged.append(model.trainer.fit_loop.batch_idx),
        original(*args, **kwargs),
    )
    trainer = make_trainer(tmp_path, max_steps=12, log_every_n_steps=log_every_n_steps)  # 6 batches of 8 per epoch
    trainer.fit(model, ToyData(n=48))
    assert sorted(set(logged)) == logged_batches
    assert trainer.logged_metrics["train/discrim_loss"] > 0
