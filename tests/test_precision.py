"""Mixed precision with every loss strategy: finite losses, and both networks move.

bf16-mixed runs on the CPU everywhere; 16-mixed (through the GradScaler) and bf16-mixed on a GPU run where torch sees
CUDA, and are skipped elsewhere.
"""

import pytest
import torch
from lightning.pytorch import Trainer

from lightning_gan.gan import GAN
from lightning_gan.losses import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)
from tests.toy import ToyConditionalGenerator, ToyData, ToyDiscriminator

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
    model = GAN(ToyConditionalGenerator(), ToyDiscriminator(2), loss=loss(), reconstruction_weight=10.0,
                g_gradient_clip_val=1.0, d_gradient_clip_val=1.0)  # fmt: skip
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
