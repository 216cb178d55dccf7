"""CycleConsistency (CycleGAN): the loop's steps equal a plain PyTorch update written from the reference's
``optimize_parameters`` order (``benchmarks/reference_cyclegan.py``, also the benchmark's baseline), the image
pool's rule, and the setup-time checks of the data."""

import copy
from functools import partial
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback, Trainer
from torch import Tensor, nn
from torch.utils.data import DataLoader

from benchmarks.reference_cyclegan import ReferenceCycleGANStep
from lightning_gan.errors import ConfigError
from lightning_gan.gan import GAN
from lightning_gan.nets import DiscriminatorPair, GeneratorPair
from lightning_gan.objectives import CycleConsistency, ImagePool

LR, BETAS = 0.01, (0.5, 0.999)


def small_pair(channels_a: int = 3, channels_b: int = 3) -> tuple[GeneratorPair, DiscriminatorPair]:
    torch.manual_seed(0)
    g = GeneratorPair(channels_a, channels_b, ngf=4, n_blocks=1)
    d = DiscriminatorPair(channels_a, channels_b, ndf=4, n_layers=2)
    return g, d


class SeedAtBatchStart(Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        torch.manual_seed(100 + batch_idx)


def batches(n: int, size: int = 16) -> list[dict[str, Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [{"a": torch.rand(2, 3, size, size, generator=gen) * 2 - 1,
             "b": torch.rand(2, 3, size, size, generator=gen) * 2 - 1} for _ in range(n)]  # fmt: skip


def test_lightning_steps_equal_the_reference_update_in_its_order(tmp_path: Path) -> None:
    """Three batches of 2 with a pool of 3: the pool fills, then swaps; both generators and both discriminators end
    equal to the plain update's, and the logged G loss of the last batch is the plain one."""
    g, d = small_pair()
    g_ref, d_ref = copy.deepcopy(g), copy.deepcopy(d)
    plain = ReferenceCycleGANStep(g_ref.g_a, g_ref.g_b, d_ref.d_a, d_ref.d_b, pool_size=3, lr=LR, betas=BETAS)
    data = batches(3)
    plain_losses = []
    for i, batch in enumerate(data):
        torch.manual_seed(100 + i)
        plain_losses.append(plain.step(batch))

    adam = partial(torch.optim.Adam, lr=LR, betas=BETAS)
    model = GAN(g, d, CycleConsistency(pool_size=3), g_optimizer=adam, d_optimizer=adam)
    trainer = Trainer(
        accelerator="cpu", max_steps=6, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, log_every_n_steps=1, callbacks=[SeedAtBatchStart()],
        default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, train_dataloaders=DataLoader(data, batch_size=None))
    assert trainer.global_step == 6
    logged = trainer.callback_metrics
    g_loss = sum(float(logged[k]) for k in ("train/gen_loss_GAN", "train/cycle_loss", "train/identity_loss_A",
                                             "train/identity_loss_B"))  # fmt: skip
    assert g_loss == pytest.approx(plain_losses[-1], rel=1e-5)
    assert len(model.objective.pool_fake_b) == 3
    for ours, theirs in ((model.generator.g_a, plain.g_a), (model.generator.g_b, plain.g_b),
                         (model.discriminator.d_a, plain.d_a), (model.discriminator.d_b, plain.d_b)):  # fmt: skip
        for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=key)
    assert not torch.equal(model.generator.g_a.model[1].weight, small_pair()[0].g_a.model[1].weight)


def test_the_objective_runs_the_generator_step_first() -> None:
    assert CycleConsistency.generator_first


def test_the_pool_fills_then_swaps_with_probability_one_half() -> None:
    """Fill to ``size`` returning each new image; then, seeded, each image is either returned as is (draw <= 0.5)
    or swapped for the stored image the second draw picks."""
    pool = ImagePool(2)
    first = torch.arange(2.0).view(2, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 2
    torch.manual_seed(0)
    draws = [torch.rand(()).item() for _ in range(1)]
    torch.manual_seed(0)
    new = torch.tensor([[10.0]])
    out = pool.query(new)
    if draws[0] > 0.5:
        assert out.item() in (0.0, 1.0) and 10.0 in [t.item() for t in pool.images]
    else:
        assert out.item() == 10.0 and sorted(t.item() for t in pool.images) == [0.0, 1.0]
    # Over many images, about half are swapped, and the pool never grows.
    torch.manual_seed(1)
    outs = pool.query(torch.arange(100.0, 1100.0).view(1000, 1))
    swapped = int((outs.flatten() != torch.arange(100.0, 1100.0)).sum())
    assert 450 <= swapped <= 550 and len(pool) == 2


def test_the_pool_is_reproducible_and_saved_in_the_state_dict() -> None:
    a, b = CycleConsistency(pool_size=4), CycleConsistency(pool_size=4)
    torch.manual_seed(3)
    for _ in range(5):
        a.pool_fake_a.query(torch.randn(2, 3, 4, 4))
    b.load_state_dict(a.state_dict())
    assert len(b.pool_fake_a) == 4 and len(b.pool_fake_b) == 0
    torch.manual_seed(4)
    x = torch.randn(3, 3, 4, 4)
    torch.manual_seed(5)
    out_a = a.pool_fake_a.query(x)
    torch.manual_seed(5)
    out_b = b.pool_fake_a.query(x)
    assert torch.equal(out_a, out_b)
    assert all(torch.equal(p, q) for p, q in zip(a.pool_fake_a.images, b.pool_fake_a.images, strict=True))


def test_pool_size_zero_returns_the_batch() -> None:
    x = torch.randn(3, 1, 2, 2)
    assert torch.equal(ImagePool(0).query(x), x)


class _Unpaired:
    unpaired = True

    def __init__(self, a: int, b: int) -> None:
        self.channels_a, self.channels_b = a, b


def test_data_checks_name_the_key_the_value_and_what_is_expected() -> None:
    g, d = small_pair(3, 1)
    with pytest.raises(ConfigError, match=r"identity_weight = 0.5, but domain A has 3 channels and domain B 1"):
        CycleConsistency().check_data(_Unpaired(3, 1), g, d)
    CycleConsistency(identity_weight=0).check_data(_Unpaired(3, 1), g, d)
    with pytest.raises(ConfigError, match=r"model.generator.init_args.channels_b = 1, but the data's domain B has 3"):
        CycleConsistency(identity_weight=0).check_data(_Unpaired(3, 3), g, d)
    with pytest.raises(ConfigError, match=r"needs unpaired data .* but the data module is object"):
        CycleConsistency().check_data(object(), g, d)
    with pytest.raises(ConfigError, match=r"lambda_a = -1: expected a weight >= 0"):
        CycleConsistency(lambda_a=-1)


def test_the_pair_translates_in_its_direction() -> None:
    g, _ = small_pair(3, 1)
    x = torch.randn(1, 3, 8, 8)
    assert torch.equal(g(x), g.g_a(x))
    g.direction = "BtoA"
    y = torch.randn(1, 1, 8, 8)
    assert torch.equal(g(y), g.g_b(y)) and (g.in_channels, g.out_channels) == (1, 3)
    with pytest.raises(ValueError, match=r"`direction` to be one of \('AtoB', 'BtoA'\) .* got 'AB'"):
        GeneratorPair(direction="AB")  # type: ignore[arg-type]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_equal_the_references() -> None:
    """The reference prints 11.378 M per generator and 2.765 M per discriminator (3 channels, instance norm)."""
    with torch.device("meta"):
        g, d = GeneratorPair(), DiscriminatorPair()
    assert [n_params(g.g_a), n_params(g.g_b), n_params(d.d_a), n_params(d.d_b)] == [11_378_179] * 2 + [2_764_737] * 2
    assert (n_params(g), n_params(d)) == (2 * 11_378_179, 2 * 2_764_737)


def test_evaluation_scores_the_chosen_direction_and_both_cycles() -> None:
    g, d = small_pair()
    objective = CycleConsistency()
    model = GAN(g, d, objective).eval()
    batch = {"a": torch.rand(1, 3, 16, 16) * 2 - 1, "b": torch.rand(1, 3, 16, 16) * 2 - 1}
    with torch.no_grad():
        for direction in ("AtoB", "BtoA"):
            objective.set_direction(direction, g)
            scored = objective.evaluate(model, batch, lambda c, labels: model(c, labels=labels), need_output=True)
            assert objective.direction == direction  # restored after scoring both cycles
            source, target = ("a", "b") if direction == "AtoB" else ("b", "a")
            translate = g.g_a if direction == "AtoB" else g.g_b
            assert torch.equal(scored.output, translate(batch[source])) and scored.target is batch[target]
            assert scored.values is not None
            torch.testing.assert_close(
                scored.values["cycle_l1_A"], (g.g_b(g.g_a(batch["a"])) - batch["a"]).abs().mean()
            )
            torch.testing.assert_close(
                scored.values["cycle_l1_B"], (g.g_a(g.g_b(batch["b"])) - batch["b"]).abs().mean()
            )
