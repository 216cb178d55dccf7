"""R1/R2 gradient penalties: the analytic value on toy critics, the double backward, lazy scaling, AMP scaling,
bf16, refused combinations and a real fit through the CLI."""

import csv
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer
from torch import nn

from lightning_gan.cli import main
from lightning_gan.gan import GAN
from lightning_gan.objectives import Synthesis
from lightning_gan.objectives.losses import HingeLoss, NonSaturatingLoss, WassersteinGPLoss, WassersteinLoss
from lightning_gan.objectives.penalties import R1Penalty, R2Penalty, check_penalties, squared_gradient_norm
from tests.conftest import ROOT
from tests.toy import ToyData, ToyDiscriminator, ToyGenerator


def quadratic_critic(a: torch.Tensor):
    """D(x) = sum_j a_j x_j^2 per sample: grad = 2 a x, ||grad||^2 = 4 sum_j a_j^2 x_j^2."""
    return lambda x: (a * x.square()).flatten(1).sum(1)


def test_r1_and_r2_equal_the_analytic_squared_gradient_norm() -> None:
    torch.manual_seed(0)
    a = torch.randn(1, 2, 3, 3)
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    expected = {x_name: (4 * (a.square() * x.square()).flatten(1).sum(1)).mean() for x_name, x in
                (("real", real), ("fake", fake))}  # fmt: skip
    r1 = R1Penalty(gamma=3.0)(quadratic_critic(a), real, fake)
    r2 = R2Penalty(gamma=3.0)(quadratic_critic(a), real, fake)
    torch.testing.assert_close(r1, 1.5 * expected["real"])
    torch.testing.assert_close(r2, 1.5 * expected["fake"])


def test_the_penalty_backpropagates_into_the_critic_parameters() -> None:
    """For a linear critic w.x, R1 = gamma/2 ||w||^2 whatever x: its gradient with respect to w is gamma * w."""
    critic = nn.Linear(6, 1, bias=False)
    penalty = R1Penalty(gamma=2.0)(lambda x: critic(x.flatten(1)), torch.randn(4, 6), torch.randn(4, 6))
    torch.testing.assert_close(penalty, critic.weight.square().sum())
    penalty.backward()
    torch.testing.assert_close(critic.weight.grad, 2.0 * critic.weight.detach())


def test_patch_scores_are_summed_per_image() -> None:
    a = torch.randn(1, 1, 4, 4)
    real = torch.randn(3, 1, 4, 4)
    patches = lambda x: a * x.square()  # noqa: E731  (N x 1 x 4 x 4 "patch logits")
    torch.testing.assert_close(squared_gradient_norm(patches, real), squared_gradient_norm(quadratic_critic(a), real))


def test_lazy_regularization_applies_every_k_steps_scaled_by_k() -> None:
    a = torch.randn(1, 1, 2, 2)
    real = torch.randn(4, 1, 2, 2)
    every_step = R1Penalty(gamma=1.0)(quadratic_critic(a), real, real, step=5)
    lazy = R1Penalty(gamma=1.0, every=4)
    values = [lazy(quadratic_critic(a), real, real, step=s) for s in range(9)]
    assert [v is not None for v in values] == [True, False, False, False, True, False, False, False, True]
    for v in values[::4]:
        torch.testing.assert_close(v, 4 * every_step)


def test_the_amp_gradient_scale_does_not_change_the_value() -> None:
    a = torch.randn(1, 1, 2, 2)
    real = torch.randn(4, 1, 2, 2)
    plain = R1Penalty()(quadratic_critic(a), real, real)
    scaled = R1Penalty()(quadratic_critic(a), real, real, grad_scale=65536.0)
    torch.testing.assert_close(scaled, plain)


def test_finite_and_close_to_float32_under_bf16_autocast() -> None:
    torch.manual_seed(0)
    critic = ToyDiscriminator(1)
    real = torch.randn(8, 1, 4, 4)
    reference = R1Penalty(gamma=10.0)(critic, real, real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = R1Penalty(gamma=10.0)(critic, real, real)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    torch.testing.assert_close(value, reference, rtol=0.05, atol=0.0)


def test_bad_settings_and_meaningless_combinations_are_refused() -> None:
    with pytest.raises(ValueError, match="gamma"):
        R1Penalty(gamma=-1.0)
    with pytest.raises(ValueError, match="every"):
        R1Penalty(every=0)
    with pytest.raises(ValueError, match="WassersteinGPLoss, which has a gradient penalty of its own"):
        Synthesis(loss=WassersteinGPLoss(), penalties=[R1Penalty()])
    with pytest.raises(ValueError, match="R1Penalty twice"):
        check_penalties(NonSaturatingLoss(), [R1Penalty(), R1Penalty(gamma=1.0)])
    for loss in (NonSaturatingLoss(), HingeLoss(), WassersteinLoss(clip_value=None)):  # any loss without one
        check_penalties(loss, [R1Penalty(), R2Penalty()])


class _CountingR1(R1Penalty):
    """R1 that records, per call, the D step it was given and whether it computed the penalty."""

    def __init__(self, every: int) -> None:
        super().__init__(gamma=1.0, every=every)
        self.calls: list[tuple[int, bool]] = []

    def forward(self, critic, real, fake, grad_scale=1.0, step=0):
        out = super().forward(critic, real, fake, grad_scale, step)
        self.calls.append((step, out is not None))
        return out


@pytest.mark.parametrize("n_critic", [1, 3])
def test_the_loop_counts_d_steps_over_batches_for_lazy_penalties(tmp_path: Path, n_critic: int) -> None:
    penalty = _CountingR1(every=2)
    model = GAN(ToyGenerator(), ToyDiscriminator(), Synthesis(penalties=[penalty]), n_critic=n_critic)
    trainer = Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(model, ToyData(batch_size=8))  # 4 batches per epoch
    steps = 2 * 4 * n_critic
    assert penalty.calls == [(s, s % 2 == 0) for s in range(steps)]


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_r1_through_the_cli(tmp_path: Path, precision: str) -> None:
    """The toy config (non-saturating loss) plus a lazy R1 from the command line, in float32 and bf16."""
    main([
        "fit", "--config", str(ROOT / "tests" / "configs" / "toy.yaml"), "--trainer.default_root_dir", str(tmp_path),
        "--trainer.precision", precision, "--trainer.max_epochs", "1",
        "--model.objective.init_args.penalties",
        '[{"class_path": "lightning_gan.objectives.R1Penalty", "init_args": {"every": 2}}]',
    ])  # fmt: skip
    (metrics,) = tmp_path.rglob("metrics.csv")
    with metrics.open() as f:
        values = [float(r["train/penalty_r1"]) for r in csv.DictReader(f) if r.get("train/penalty_r1")]
    assert len(values) == 8 and all(0 <= v < float("inf") for v in values)  # 32 pairs in batches of 4
