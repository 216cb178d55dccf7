"""Before the benchmark times them, its plain PyTorch loop and ``GAN.training_step`` must compute the same thing:
from the same weights, batch and random state, one step of each gives the same losses and the same weights of both
networks (as Lightning's own parity tests check before they time)."""

import copy

import pytest
import torch
from lightning.pytorch import Callback, Trainer
from torch.utils.data import DataLoader

from benchmarks import reference_pix2pix as reference
from benchmarks.families import CONFIGS, build_family
from benchmarks.loops import PlainLoop, _SameBatch
from benchmarks.run import lightning_module


class SeedAtBatchStart(Callback):
    def on_train_batch_start(self, *args) -> None:
        torch.manual_seed(5)


@pytest.mark.parametrize("config", ["dcgan", "pix2pix_b1", "segan_small"])
def test_one_plain_step_equals_one_lightning_step(config: str, tmp_path) -> None:
    family = build_family(CONFIGS[config], scale=0.1)
    g, d = family.generator, family.discriminator
    plain = PlainLoop(family, copy.deepcopy(g), copy.deepcopy(d), family.shipped)
    model = lightning_module(dataclass_copy(family))
    torch.manual_seed(5)
    plain_g_loss = plain.step(family.batch)

    trainer = Trainer(
        accelerator="cpu", devices=1, max_steps=2, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
        log_every_n_steps=1, callbacks=[SeedAtBatchStart()], default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, train_dataloaders=DataLoader(_SameBatch(family.batch, 1), batch_size=None))
    assert trainer.global_step == 2  # one D and one G optimizer step

    logged = trainer.callback_metrics
    lightning_g_loss = logged["train/gen_loss_GAN"] + family.reconstruction_weight * logged.get("train/gen_loss_L1", 0)
    assert float(lightning_g_loss) == pytest.approx(plain_g_loss, rel=1e-5)
    for ours, theirs in ((model.generator, plain.g), (model.discriminator, plain.d)):
        a, b = ours.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=f"{config}: {key} differs")
    moved = [
        not torch.equal(p, q)
        for p, q in zip(g.state_dict().values(), model.generator.state_dict().values(), strict=True)
    ]
    assert any(moved)  # both took a real step from the same start


def dataclass_copy(family):
    """The family with its own copies of the networks (the originals stay the common starting point)."""
    import dataclasses

    return dataclasses.replace(
        family, generator=copy.deepcopy(family.generator), discriminator=copy.deepcopy(family.discriminator)
    )


def test_the_reference_update_has_the_reference_networks_and_trains() -> None:
    """benchmarks/reference_pix2pix.py builds the reference's unet_256 and 70x70 PatchGAN (their parameter counts,
    docs/references.md), and its update moves both networks."""
    with torch.device("meta"):
        counts = [sum(p.numel() for p in net.parameters()) for net in (reference.reference_unet(),
                                                                       reference.reference_patchgan())]  # fmt: skip
    assert counts == [54_413_955, 2_768_705]
    step = CONFIGS["pix2pix_b1"].reference(0.1)
    batch = build_family(CONFIGS["pix2pix_b1"], 0.1).batch
    before = [copy.deepcopy(net.state_dict()) for net in (step.g, step.d)]
    assert step.step(batch) > 0
    for old, net in zip(before, (step.g, step.d), strict=True):
        assert any(not torch.equal(old[k], v) for k, v in net.state_dict().items())
