"""DiffAugment: each transform as the reference defines it, one draw per image shared by its channels, gradients
reach G through it, every D input is augmented in training and none at evaluation."""

import pickle

import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch import Trainer

from lightning_gan.cli import main
from lightning_gan.gan import GAN
from lightning_gan.objectives import PairedTranslation, Synthesis
from lightning_gan.objectives.augment import DiffAugment, brightness, contrast, cutout, saturation, translation
from tests.conftest import ROOT
from tests.toy import ToyData, ToyDiscriminator, ToyGenerator


def test_translation_shifts_each_image_whole_by_at_most_an_eighth_with_zero_fill() -> None:
    torch.manual_seed(0)
    x = torch.rand(64, 3, 16, 16) + 1.0  # strictly positive: zeros can only come from the fill
    out = translation(x)
    shifts = set()
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(out[i], _shifted(x[i], dy, dx))]  # fmt: skip
        assert len(matches) == 1, i  # one integer shift in [-2, 2]^2 (int(16 / 8 + 0.5) = 2), all channels alike
        shifts.add(matches[0])
    assert len(shifts) > 10  # each image draws its own shift


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Output pixel (r, c) = input pixel (r + dy, c + dx), zeros outside: the reference's definition."""
    _, h, w = image.shape
    padded = F.pad(image, (2, 2, 2, 2))
    return padded[:, 2 + dy : 2 + dy + h, 2 + dx : 2 + dx + w]


def test_cutout_zeros_one_half_side_square_per_image_across_channels() -> None:
    torch.manual_seed(0)
    x = torch.rand(200, 3, 8, 8) + 1.0
    out = cutout(x)
    holes = out == 0
    assert torch.equal(holes[:, :1].expand_as(holes), holes)  # the same square in every channel
    assert torch.equal(out[~holes], x[~holes])
    for mask in holes[:, 0]:
        rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
        assert mask.sum() == len(rows) * len(cols) and len(rows) <= 4 and len(cols) <= 4  # a clipped 4 x 4 square
    # Centres uniform over 0..8 on each axis (reference bounds), so a square lies wholly inside for 5 of 9 per axis.
    inside = (holes[:, 0].flatten(1).sum(1) == 16).float().mean()
    assert abs(inside - 25 / 81) < 0.07


def test_color_transforms_draw_one_factor_per_image() -> None:
    torch.manual_seed(0)
    x = torch.rand(16, 3, 4, 4) * 2 - 1
    delta = brightness(x) - x  # u - 0.5, one u per image
    assert torch.allclose(delta, delta[:, :1, :1, :1].expand_as(delta)) and delta.abs().max() <= 0.5
    assert delta[:, 0, 0, 0].unique().numel() == 16
    mean_c = x.mean(1, keepdim=True)
    ratio = (saturation(x) - mean_c) / (x - mean_c)
    assert torch.allclose(ratio, ratio[:, :1, :1, :1].expand_as(ratio), atol=1e-4) and ratio.max() <= 2.0
    mean = x.mean((1, 2, 3), keepdim=True)
    ratio = (contrast(x) - mean) / (x - mean)
    assert torch.allclose(ratio, ratio[:, :1, :1, :1].expand_as(ratio), atol=1e-4)
    assert ratio.min() >= 0.5 - 1e-5 and ratio.max() <= 1.5 + 1e-5


def test_probability_applies_each_transform_to_about_p_of_the_images() -> None:
    torch.manual_seed(0)
    x = torch.rand(2000, 1, 8, 8) + 1.0
    out = DiffAugment("cutout", p=0.3)(x)
    changed = (out != x).flatten(1).any(1).float().mean()
    assert 0.26 < changed < 0.34
    assert torch.equal(DiffAugment("cutout", p=0.0)(x), x)


def test_gradients_reach_the_generator_through_every_policy() -> None:
    torch.manual_seed(0)
    g, d = ToyGenerator(), ToyDiscriminator()
    augment = DiffAugment("color,translation,cutout")
    d(augment(g(torch.randn(8, 4)))).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_identity_at_evaluation_and_bad_settings_refused() -> None:
    x = torch.rand(4, 3, 8, 8)
    augment = DiffAugment().eval()
    assert augment(x) is x
    assert pickle.loads(pickle.dumps(augment)).policy == "color,translation,cutout"  # hparams, DDP spawn
    with pytest.raises(ValueError, match="unknown policy"):
        DiffAugment("color,zoom")
    with pytest.raises(ValueError, match="`p`"):
        DiffAugment(p=1.5)
    with pytest.raises(ValueError, match="N x C x H x W"):
        DiffAugment()(torch.rand(2, 1, 16))


class _Recorder(DiffAugment):
    def __init__(self) -> None:
        super().__init__("translation")
        self.calls = 0

    def forward(self, x):
        self.calls += int(self.training)
        return super().forward(x)


def test_the_loop_augments_every_discriminator_input_in_training_and_none_in_evaluation(tmp_path) -> None:
    augment = _Recorder()
    model = GAN(ToyGenerator(), ToyDiscriminator(), Synthesis(augment=augment))
    trainer = Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(model, ToyData(batch_size=8))
    assert augment.calls == 4 * 3  # per batch: D on real, D on fake, D on fake in G's step
    model.eval()
    x = torch.rand(2, 1, 4, 4)
    d = model.discriminator
    assert torch.equal(model.objective.discriminate(d, d, x, None, None), d(x))


def test_a_conditional_discriminator_input_is_augmented_as_one_image() -> None:
    """pix2pix-style D input cat([condition, sample]): condition and sample shift together."""
    torch.manual_seed(0)
    model = GAN(ToyGenerator(), ToyDiscriminator(2), PairedTranslation(augment=DiffAugment("translation")))
    seen = []
    model.discriminator.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    image = torch.rand(16, 1, 4, 4) + 1.0
    model.objective.discriminate(model.discriminator, model.discriminator, image, image, None)
    assert torch.equal(seen[0][:, :1], seen[0][:, 1:]) and not torch.equal(seen[0][:, :1], image)


def test_diffaugment_with_r1_fits_through_the_cli(tmp_path) -> None:
    main([
        "fit", "--config", str(ROOT / "tests" / "configs" / "toy.yaml"), "--trainer.default_root_dir", str(tmp_path),
        "--trainer.max_epochs", "1",
        "--model.objective.init_args.augment",
        '{"class_path": "lightning_gan.objectives.DiffAugment", "init_args": {"p": 0.5}}',
        "--model.objective.init_args.penalties",
        '[{"class_path": "lightning_gan.objectives.R1Penalty", "init_args": {"gamma": 1.0}}]',
    ])  # fmt: skip
    assert list(tmp_path.rglob("last.ckpt"))
