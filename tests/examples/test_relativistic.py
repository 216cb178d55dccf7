"""docs/write_your_own_gan.md's worked example: a new GAN as one objective class plus a YAML file."""

from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

from examples.relativistic import RelativisticAverage, relativistic_average_losses
from lightning_gan.cli import main
from tests.cli.test_app import run_dirs, tiny_args
from tests.conftest import CONFIGS, ROOT


def test_losses_equal_the_papers_equations_written_with_binary_cross_entropy() -> None:
    """Jolicoeur-Martineau 2018, equations 13-14 with the sigmoid: BCE on the relativistic logits."""
    torch.manual_seed(0)
    real, fake = torch.randn(6, 1, 3, 3), torch.randn(6, 1, 3, 3)
    d_loss, g_loss = relativistic_average_losses(real, fake)
    r, f = real - fake.mean(), fake - real.mean()
    bce = F.binary_cross_entropy_with_logits
    torch.testing.assert_close(d_loss, bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)))
    torch.testing.assert_close(g_loss, bce(f, torch.ones_like(f)) + bce(r, torch.zeros_like(r)))
    # symmetric: G's loss is D's with real and fake swapped
    torch.testing.assert_close(g_loss, relativistic_average_losses(fake, real)[0])


def test_the_example_trains_through_the_cli(tmp_path: Path) -> None:
    args = tiny_args(CONFIGS / "dcgan_digits.yaml", tmp_path)  # --config configs/dcgan_digits.yaml, then overrides
    example = ["--config", str(ROOT / "examples" / "relativistic_digits.yaml")]
    cli = main(["fit", *args[:2], *example, *args[2:]])
    assert isinstance(cli.model.objective, RelativisticAverage)
    metrics = cli.trainer.callback_metrics
    assert torch.isfinite(metrics["train/discrim_loss"]) and torch.isfinite(metrics["val/fid_digits_1k"])
    (run,) = run_dirs(tmp_path)
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["model"]["objective"]["class_path"] == "examples.relativistic.RelativisticAverage"
