"""The objective contract as the loop drives it: call order (D first, or G first), objective state in checkpoints."""

from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch import Trainer
from torch import Tensor

from lightning_gan.gan import GAN
from lightning_gan.objectives import Synthesis, Terms
from lightning_gan.objectives.base import Batch, Loop
from tests.toy import ToyData, ToyDiscriminator, ToyGenerator


def _trainer(tmp_path: Path, **kwargs: Any) -> Trainer:
    return Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                   default_root_dir=tmp_path, accelerator="cpu", **kwargs)  # fmt: skip


class Recording(Synthesis):
    """Synthesis that records the order of the loop's calls."""

    def __init__(self, generator_first: bool = False) -> None:
        super().__init__()
        self.calls: list[str] = []
        self._g_first = generator_first

    @property
    def generator_first(self) -> bool:  # type: ignore[override]
        return self._g_first

    def fakes(self, loop: Loop, batch: Batch) -> Tensor:
        self.calls.append("fakes" if torch.is_grad_enabled() else "fakes(no_grad)")
        return super().fakes(loop, batch)

    def discriminator_loss(self, loop: Loop, batch: Batch, fakes: Tensor, d_step: int) -> Terms:
        self.calls.append(f"D{d_step}")
        return super().discriminator_loss(loop, batch, fakes, d_step)

    def generator_loss(self, loop: Loop, batch: Batch, fakes: Tensor) -> Terms:
        self.calls.append("G")
        return super().generator_loss(loop, batch, fakes)


@pytest.mark.parametrize(
    ("generator_first", "expected"),
    [
        (False, ["fakes(no_grad)", "D0", "fakes(no_grad)", "D1", "fakes", "D2", "G"]),
        (True, ["fakes", "G", "D0", "D1", "D2"]),  # CycleGAN's order: D sees the fakes G was trained on
    ],
)
def test_the_loop_calls_the_objective_in_its_order(tmp_path: Path, generator_first: bool, expected: list[str]) -> None:
    objective = Recording(generator_first)
    model = GAN(ToyGenerator(), ToyDiscriminator(), objective, n_critic=3)
    _trainer(tmp_path, max_steps=4).fit(model, ToyData())  # one batch: 3 D steps + 1 G step
    assert objective.calls == expected
    assert model.global_step == 4


class Counting(Synthesis):
    """An objective with state between steps, as an image pool or a replay buffer has: here, fakes seen so far."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def fakes(self, loop: Loop, batch: Batch) -> Tensor:
        out = super().fakes(loop, batch)
        self.seen += out.shape[0]
        return out

    def get_extra_state(self) -> Any:
        return {"seen": self.seen}

    def set_extra_state(self, state: Any) -> None:
        self.seen = state["seen"]


def test_objective_state_is_saved_in_checkpoints_and_restored(tmp_path: Path) -> None:
    model = GAN(ToyGenerator(), ToyDiscriminator(), Counting())
    trainer = _trainer(tmp_path, max_epochs=1)
    trainer.fit(model, ToyData(n=32, batch_size=8))
    trainer.save_checkpoint(tmp_path / "a.ckpt")
    assert model.objective.seen == 32
    restored = GAN(ToyGenerator(), ToyDiscriminator(), Counting())
    restored.load_state_dict(torch.load(tmp_path / "a.ckpt", weights_only=False)["state_dict"])
    assert restored.objective.seen == 32
