"""Mixed precision with every loss strategy: finite losses, and both networks move.

bf16-mixed runs on the CPU everywhere; 16-mixed (through the GradScaler) and bf16-mixed on a GPU run where torch sees
CUDA, and are skipped elsewhere.
"""

from functools import partial

import pytest
import torch
from lightning.pytorch import Callback, Trainer

from lightning_gan.gan import GAN, GradientClipping
from lightning_gan.objectives import PairedTranslation
from lightning_gan.objectives.losses import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)
from tests.toy import ToyConditionalGenerator, ToyData, ToyDiscriminator, ToyGenerator

LOSSES = [MinimaxLoss, NonSaturatingLoss, LeastSquaresLoss, WassersteinLoss, WassersteinGPLoss, HingeLoss]
_NO_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
SETTINGS = [
    pytest.param("cpu", "bf16-mixed", id="cpu-bf16"),
    pytest.param("gpu", "16-mixed", id="gpu-16", marks=_NO_CUDA),
    pytest.param("gpu", "bf16-mixed", id="gpu-bf16", marks=_NO_CUDA),
]


@pytest.mark.parametrize(("accelerator", "precision"), SETTINGS)
@pytest.mark.parametrize("loss", LOSSES, ids=lambda c: c.__name__)
def test_mixed_precision_trains_with_every_loss(tmp_path, loss, accelerator: str, precision: str) -> None:
    torch.manual_seed(0)
    model = GAN(ToyConditionalGenerator(), ToyDiscriminator(2), PairedTranslation(loss(), reconstruction_weight=10.0),
                clipping=GradientClipping(generator=1.0, discriminator=1.0))  # fmt: skip
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = Trainer(accelerator=accelerator, devices=1, precision=precision, max_steps=6, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(model, ToyData(conditional=True))
    scaler = getattr(trainer.precision_plugin, "scaler", None)
    assert (scaler is not None) == (precision == "16-mixed")  # fp16 steps through the GradScaler
    if scaler is not None:
        assert 0 < scaler.get_scale() < float("inf")
    model.cpu()
    logged = trainer.logged_metrics
    for key in ("train/discrim_loss", "train/gen_loss_GAN", "train/gen_loss_L1"):
        assert torch.isfinite(logged[key]), key
    for prefix in ("generator.", "discriminator."):
        moved = [
            not torch.equal(before[k], v)
            for k, v in model.state_dict().items()
            if k.startswith(prefix) and v.is_floating_point()
        ]
        assert any(moved), prefix
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_backward_passes_and_optimizer_steps_run_outside_autocast(tmp_path) -> None:
    """Lightning wraps `training_step` in autocast. The networks' forwards run under it; our backward passes and
    optimizer steps, which manual optimization puts inside `training_step`, do not (PyTorch's AMP advice; under
    autocast they only add casts)."""
    seen: dict[str, list[bool]] = {"forward": [], "backward": [], "step": []}

    class Probe(Callback):
        def on_before_backward(self, trainer, pl_module, loss) -> None:
            seen["backward"].append(torch.is_autocast_enabled("cpu"))

        def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
            seen["step"].append(torch.is_autocast_enabled("cpu"))

    model = GAN(ToyConditionalGenerator(), ToyDiscriminator(2), PairedTranslation(reconstruction_weight=10.0))
    model.discriminator.register_forward_hook(lambda *_: seen["forward"].append(torch.is_autocast_enabled("cpu")))
    trainer = Trainer(accelerator="cpu", precision="bf16-mixed", max_steps=4, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
                      callbacks=[Probe()])  # fmt: skip
    trainer.fit(model, ToyData(conditional=True))
    assert len(seen["forward"]) == 6 and all(seen["forward"])  # 2 batches x (real, fake for D; fake for G)
    assert seen["backward"] == seen["step"] == [False] * 4


def test_every_critic_step_scores_with_the_current_weights_under_autocast(tmp_path) -> None:
    """Autocast's weight-cast cache keeps low-precision copies of trainable weights until its outermost region ends,
    and Lightning's region spans the whole `training_step`. The loop turns the cache on for each D step (one cast for
    the real and fake forwards) and empties it after D's update; without that, critic steps 2..n of a batch would
    score with D's weights from before the previous critic step's update (this test fails then)."""
    stale: list[bool] = []

    def compare_with_fresh_casts(module, args, output) -> None:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False):
            stale.append(not torch.equal(output, module.forward(*args)))

    model = GAN(ToyGenerator(), ToyDiscriminator(), n_critic=3)
    model.d_optimizer = partial(torch.optim.SGD, lr=0.5)  # large steps: a stale copy differs visibly
    model.discriminator.register_forward_hook(compare_with_fresh_casts)
    trainer = Trainer(accelerator="cpu", precision="bf16-mixed", max_steps=8, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(model, ToyData())
    assert len(stale) == 14 and not any(stale)  # 2 batches x (3 critic steps x 2 forwards + 1 G-step forward)
