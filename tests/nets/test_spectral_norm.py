"""Spectral normalization of the discriminators: every normalized weight has largest singular value ~1 after a
few power iterations, the layers it touches, and checkpoints with and without it."""

import pytest
import torch
from torch import nn

from lightning_gan.nets.conditional import ProjectionDiscriminator
from lightning_gan.nets.dcgan import DCGANDiscriminator
from lightning_gan.nets.pix2pix import PatchGANDiscriminator
from lightning_gan.nets.segan import SEGANDiscriminator
from lightning_gan.nets.spectral_norm import SPECTRAL_NORM_LAYERS, apply_spectral_norm, spectrally_normalized


def _builders():
    return {
        "dcgan": (lambda sn: DCGANDiscriminator(1, ndf=8, image_size=16, spectral_norm=sn), (4, 1, 16, 16)),
        "patchgan": (lambda sn: PatchGANDiscriminator(2, ndf=8, n_layers=2, spectral_norm=sn), (4, 2, 32, 32)),
        "segan": (
            lambda sn: SEGANDiscriminator(2, channels=(4, 8, 8), kernel_size=5, window=64, spectral_norm=sn),
            (4, 2, 64),
        ),
    }


def _sigma(layer: nn.Module, original: bool = False) -> float:
    weight = layer.parametrizations.weight.original if original else layer.weight
    if isinstance(layer, nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d):
        weight = weight.transpose(0, 1)
    return float(torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2))


@pytest.mark.parametrize("name", ["dcgan", "patchgan", "segan"])
def test_every_weight_has_unit_spectral_norm_after_a_few_power_iterations(name: str) -> None:
    torch.manual_seed(0)
    build, shape = _builders()[name]
    d = build(True)
    if isinstance(d, SEGANDiscriminator):
        d.set_reference(torch.randn(shape))
    layers = spectrally_normalized(d)
    expected = [m for m in d.modules() if isinstance(m, SPECTRAL_NORM_LAYERS)]
    assert layers == expected and len(layers) >= 3  # every conv/linear, nothing else
    before = [_sigma(m, original=True) for m in layers]
    d.train()
    for _ in range(20):  # one power iteration per training forward
        d(torch.randn(shape))
    d.eval()  # eval forwards use the estimate as it stands
    sigmas = [_sigma(m) for m in layers]
    assert all(abs(s - 1.0) < 0.02 for s in sigmas), sigmas
    assert any(abs(s - 1.0) > 0.1 for s in before)  # the raw weights were not already normalized
    assert not spectrally_normalized(build(False))


def test_projection_discriminator_normalizes_its_embedding_too() -> None:
    d = ProjectionDiscriminator(num_classes=10, in_channels=1, ndf=8, image_size=16)
    for _ in range(20):
        d(torch.randn(4, 1, 16, 16), torch.randint(10, (4,)))
    assert d.embedding in spectrally_normalized(d) and d.linear in spectrally_normalized(d)
    assert abs(_sigma(d.embedding) - 1.0) < 0.02


def test_transposed_convolutions_are_normalized_over_their_output_dimension() -> None:
    layer = nn.ConvTranspose2d(8, 4, 4)
    apply_spectral_norm(layer)
    for _ in range(100):  # (sigma_2 / sigma_1 is close to 1 for this random 4 x 128 matrix: slow convergence)
        layer(torch.randn(2, 8, 3, 3))
    assert abs(_sigma(layer) - 1.0) < 0.02


def test_applying_twice_is_harmless_and_power_iterations_are_checked() -> None:
    d = DCGANDiscriminator(1, ndf=8, image_size=16, spectral_norm=True)
    keys = set(d.state_dict())
    apply_spectral_norm(d)
    assert set(d.state_dict()) == keys
    with pytest.raises(ValueError, match="n_power_iterations"):
        apply_spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_checkpoints_load_into_the_same_parametrization_only() -> None:
    """Weights saved with spectral norm load into a D built with it (same outputs) and refuse a D without it."""
    torch.manual_seed(0)
    with_sn = DCGANDiscriminator(1, ndf=8, image_size=16, spectral_norm=True)
    for _ in range(3):
        with_sn(torch.randn(4, 1, 16, 16))
    state = with_sn.state_dict()
    assert "net.0.parametrizations.weight.original" in state and "net.0.weight" not in state
    again = DCGANDiscriminator(1, ndf=8, image_size=16, spectral_norm=True)
    again.load_state_dict(state)
    x = torch.randn(2, 1, 16, 16)
    torch.testing.assert_close(again.eval()(x), with_sn.eval()(x))
    with pytest.raises(RuntimeError, match=r"parametrizations\.weight\.original"):
        DCGANDiscriminator(1, ndf=8, image_size=16).load_state_dict(state)


def test_a_spectrally_normalized_d_fits_through_the_cli_and_its_checkpoint_loads(tmp_path) -> None:
    from lightning_gan.cli import main
    from lightning_gan.deploy.api import load_gan
    from tests.conftest import CONFIGS

    main(["fit", "--config", str(CONFIGS / "dcgan_digits.yaml"), "--trainer.default_root_dir", str(tmp_path),
          "--model.discriminator.init_args.spectral_norm", "true", "--model.generator.init_args.ngf", "4",
          "--model.discriminator.init_args.ndf", "4", "--trainer.max_epochs", "1", "--trainer.limit_train_batches",
          "2", "--trainer.logger", "false", "--trainer.enable_progress_bar", "false"])  # fmt: skip
    (ckpt,) = tmp_path.rglob("last.ckpt")
    module, _ = load_gan(ckpt)  # rebuilt from the checkpoint's hyper-parameters, with spectral norm
    assert len(spectrally_normalized(module.discriminator)) == 4
