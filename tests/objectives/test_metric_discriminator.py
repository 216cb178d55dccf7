"""MetricGAN+'s objective: D's targets, the replay buffer's rule, one loop step against a plain PyTorch step written
from the recipe's order, and resume with the buffer."""

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F
from lightning.pytorch import Trainer
from pesq import pesq
from torch.utils.data import DataLoader

from lightning_gan.errors import ConfigError
from lightning_gan.gan import GAN
from lightning_gan.nets.metricgan import MetricDiscriminator, MetricGANGenerator
from lightning_gan.objectives import PESQ, MetricGANPlus, ReplayBuffer

DEMO = Path(__file__).resolve().parents[2] / "data" / "speech_demo"
WINDOW = 16000


def _batches(n_batches: int = 2, batch_size: int = 2) -> list[dict[str, torch.Tensor]]:
    """Aligned 1 s windows of the bundled training set: ``{"condition": noisy, "real": clean}``, N x 1 x T."""
    files = sorted((DEMO / "clean_trainset_wav").glob("*.wav"))[: n_batches * batch_size]
    clean = [sf.read(f, dtype="float32")[0][:WINDOW] for f in files]
    noisy = [sf.read(DEMO / "noisy_trainset_wav" / f.name, dtype="float32")[0][:WINDOW] for f in files]
    c, x = torch.tensor(np.stack(clean))[:, None], torch.tensor(np.stack(noisy))[:, None]
    return [
        {"condition": x[i : i + batch_size], "real": c[i : i + batch_size]}
        for i in range(0, n_batches * batch_size, batch_size)
    ]


def _nets() -> tuple[MetricGANGenerator, MetricDiscriminator]:
    torch.manual_seed(0)
    return MetricGANGenerator(hidden_size=8, linear_size=8), MetricDiscriminator(base_channels=4)


def _gan(**objective: Any) -> GAN:
    g, d = _nets()
    return GAN(
        g,
        d,
        objective=MetricGANPlus(**{"target_metric": PESQ(workers=0), **objective}),
        g_optimizer=lambda p: torch.optim.Adam(p, lr=5e-4),
        d_optimizer=lambda p: torch.optim.Adam(p, lr=5e-4),
    )


def _trainer(tmp_path: Path, **kwargs: Any) -> Trainer:
    return Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                   default_root_dir=tmp_path, accelerator="cpu", **kwargs)  # fmt: skip


def _normalised_pesq(deg: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return torch.tensor(
        [
            (pesq(16000, r[0].double().numpy(), d[0].double().numpy(), "wb") + 0.5) / 5
            for d, r in zip(deg, ref, strict=True)
        ]
    )


# ------------------------------------------------------------------ the replay buffer
def test_replay_buffer_reservoir_and_sampling_follow_their_seeded_rule() -> None:
    buf = ReplayBuffer(capacity=2, portion=0.5, seed=7)
    items = torch.arange(5.0).reshape(5, 1, 1).expand(5, 1, 3)
    buf.add(items, items + 10, torch.tensor([0.0, 0.1, float("nan"), 0.3, 0.4]))
    # Written out: items 0 and 1 fill the buffer, 2 is unscored, 3 and 4 are the 3rd and 4th seen.
    rng, slots = torch.Generator().manual_seed(7), [0.0, 0.1]
    for seen, score in ((3, 0.3), (4, 0.4)):
        j = int(torch.randint(seen, (1,), generator=rng).item())
        if j < 2:
            slots[j] = score
    assert buf.scores == pytest.approx(slots) and buf.seen == 4
    assert [e[0, 0].item() for e in buf.enhanced] == pytest.approx([s * 10 for s in slots])
    enhanced, clean, scores = buf.sample(max_items=8)  # type: ignore[misc]
    index = torch.randperm(2, generator=rng)[:1].tolist()  # round(0.5 * 2) = 1 item
    assert scores.tolist() == pytest.approx([slots[i] for i in index])
    assert torch.equal(clean, enhanced + 10)
    assert ReplayBuffer().sample(4) is None


def test_replay_buffer_state_round_trip_continues_identically() -> None:
    a = ReplayBuffer(capacity=3, portion=1.0, seed=1)
    a.add(torch.randn(6, 1, 4), torch.randn(6, 1, 4), torch.rand(6))
    b = ReplayBuffer(capacity=3, portion=1.0, seed=99)
    b.set_extra_state(copy.deepcopy(a.get_extra_state()))
    new = (torch.randn(4, 1, 4), torch.randn(4, 1, 4), torch.rand(4))
    a.add(*new)
    b.add(*new)
    for x, y in zip(a.sample(3), b.sample(3), strict=True):  # type: ignore[arg-type]
        assert torch.equal(x, y)


def test_bad_objective_settings() -> None:
    with pytest.raises(ConfigError, match="history_portion"):
        MetricGANPlus(history_portion=0.0)
    with pytest.raises(ConfigError, match="history_capacity"):
        MetricGANPlus(history_capacity=0)
    with pytest.raises(ConfigError, match="unknown metric"):
        MetricGANPlus(target_metric="sisdr")


# ------------------------------------------------------------------ D's targets
class _Constant(torch.nn.Module):
    """A D that predicts ``value`` for everything (plus 0 x its one weight, so it has a gradient)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value, self.w = value, torch.nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value + 0 * self.w * x.mean(dim=(1, 2, 3))[:, None]


class _Loop:
    def __init__(self, g: torch.nn.Module, d: torch.nn.Module) -> None:
        self.generator, self.discriminator, self.device = g, d, torch.device("cpu")

    def training_network(self, name: str) -> torch.nn.Module:
        return getattr(self, name)

    def gradient_scale(self) -> float:
        return 1.0


def test_discriminator_targets_clean_is_one_and_metrics_are_normalised_pesq() -> None:
    batch = _batches(1)[0]
    g, _ = _nets()
    objective = MetricGANPlus(target_metric=PESQ(workers=0))
    d = _Constant(0.25)
    with torch.no_grad():
        fakes = g(batch["condition"])
    _, logs = objective.discriminator_loss(_Loop(g, d), batch, fakes, 0)  # type: ignore[arg-type]
    q_noisy = _normalised_pesq(batch["condition"], batch["real"])
    q_enhanced = _normalised_pesq(fakes, batch["real"])
    assert logs["train/d_clean"].item() == pytest.approx((0.25 - 1.0) ** 2)
    assert logs["train/target_noisy"].item() == pytest.approx(q_noisy.mean().item(), abs=1e-5)
    assert logs["train/d_noisy"].item() == pytest.approx(((0.25 - q_noisy) ** 2).mean().item(), abs=1e-5)
    assert logs["train/d_enhanced"].item() == pytest.approx(((0.25 - q_enhanced) ** 2).mean().item(), abs=1e-5)
    assert "train/d_replay" not in logs and len(objective.replay) == 2  # the first batch has no history yet


def test_an_unscorable_utterance_is_left_out_of_ds_terms() -> None:
    batch = _batches(1)[0]
    batch["real"][1] = 0.0  # silence: PESQ detects no utterance
    g, _ = _nets()
    objective = MetricGANPlus(target_metric=PESQ(workers=0))
    with torch.no_grad():
        fakes = g(batch["condition"])
    loss, logs = objective.discriminator_loss(_Loop(g, _Constant(0.5)), batch, fakes, 0)  # type: ignore[arg-type]
    q = _normalised_pesq(batch["condition"][:1], batch["real"][:1])
    assert torch.isfinite(loss)
    assert logs["train/unscored"].item() == 2  # the enhanced and the noisy copy of utterance 1
    assert logs["train/d_noisy"].item() == pytest.approx(((0.5 - q) ** 2).item(), abs=1e-5)
    assert len(objective.replay) == 1


# ------------------------------------------------------------------ the loop against a plain PyTorch step
def _plain_recipe_steps(batches: list[dict[str, torch.Tensor]], seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The recipe's order per batch, in plain PyTorch: clamp the sigmoid slopes; enhance; D regresses the
    normalised PESQ of clean (1), enhanced and noisy against clean, plus the replayed history; D steps; G minimises
    (D(enhanced, clean) - 1)^2; G steps."""
    g, d = _nets()
    opt_g, opt_d = torch.optim.Adam(g.parameters(), lr=5e-4), torch.optim.Adam(d.parameters(), lr=5e-4)
    rng = torch.Generator().manual_seed(seed)
    history: list[tuple[torch.Tensor, torch.Tensor, float]] = []

    def est(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return d(torch.stack([g.spectrogram(x), g.spectrogram(y)], dim=1)).reshape(-1)

    for batch in batches:
        noisy, clean = batch["condition"], batch["real"]
        with torch.no_grad():
            g.sigmoid.slope.nan_to_num_(nan=3.5).clamp_(max=3.5)
        enhanced = g(noisy)
        q_enh, q_noisy = _normalised_pesq(enhanced.detach(), clean), _normalised_pesq(noisy, clean)
        loss = F.mse_loss(est(clean, clean), torch.ones(len(clean)))
        loss = loss + F.mse_loss(est(enhanced.detach(), clean), q_enh)
        loss = loss + F.mse_loss(est(noisy, clean), q_noisy)
        if history:
            n = min(len(history), len(clean), max(1, round(0.2 * len(history))))
            picked = [history[i] for i in torch.randperm(len(history), generator=rng)[:n].tolist()]
            old = torch.stack([p[0] for p in picked])
            old_clean = torch.stack([p[1] for p in picked])
            loss = loss + F.mse_loss(est(old, old_clean), torch.tensor([p[2] for p in picked]))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        history += [(e, c, float(q)) for e, c, q in zip(enhanced.detach(), clean, q_enh, strict=True)]
        g_loss = F.mse_loss(est(enhanced, clean), torch.ones(len(clean)))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return g, d


def test_two_loop_steps_equal_plain_pytorch_steps_of_the_recipe(tmp_path: Path) -> None:
    batches = _batches(2)
    model = _gan(replay_seed=3)
    loader = DataLoader(batches, batch_size=None)  # type: ignore[arg-type]
    _trainer(tmp_path, max_steps=4).fit(model, loader)  # 2 batches: D, G, D, G
    g, d = _plain_recipe_steps(batches, seed=3)
    for ours, plain in ((model.generator, g), (model.discriminator, d)):
        for (name, a), b in zip(ours.state_dict().items(), plain.state_dict().values(), strict=True):
            assert torch.allclose(a, b, atol=1e-6), name
    assert len(model.objective.replay) == 4


def test_resume_is_bit_identical_with_the_replay_buffer(tmp_path: Path) -> None:
    loader = DataLoader(_batches(1, batch_size=2), batch_size=None)  # type: ignore[arg-type]  # one batch per epoch: resume at its end
    whole = _gan()
    _trainer(tmp_path / "whole", max_epochs=2).fit(whole, loader)

    first = _gan()
    trainer = _trainer(tmp_path / "first", max_epochs=1)
    trainer.fit(first, loader)
    trainer.save_checkpoint(tmp_path / "half.ckpt")
    checkpoint = torch.load(tmp_path / "half.ckpt", weights_only=False)  # our own file
    assert len(checkpoint["state_dict"]["objective.replay._extra_state"]["scores"]) == 2
    # Built in Python, the hyper-parameters hold the networks themselves (the CLI saves class paths instead), which
    # a resume's weights-only load refuses: leave them out.
    del checkpoint["hyper_parameters"]
    torch.save(checkpoint, tmp_path / "half.ckpt")

    resumed = _gan(replay_seed=123)  # the seed is overwritten by the checkpoint's generator state
    _trainer(tmp_path / "resumed", max_epochs=2).fit(resumed, loader, ckpt_path=tmp_path / "half.ckpt")
    a, b = whole.state_dict(), resumed.state_dict()
    for key in a:
        if key == "objective.replay._extra_state":
            assert a[key]["scores"] == b[key]["scores"] and a[key]["seen"] == b[key]["seen"]
            assert torch.equal(a[key]["rng"], b[key]["rng"])
            assert all(torch.equal(x, y) for x, y in zip(a[key]["enhanced"], b[key]["enhanced"], strict=True))
        else:
            assert torch.equal(a[key], b[key]), key
