"""Networks and a loss that break the contract of lightning_gan.nets / lightning_gan.objectives, one way each."""

from torch import Tensor, nn

from lightning_gan.objectives import AdversarialLoss


class NoiseWithoutLatentShape(nn.Module):
    """Takes noise z after the condition but defines no latent_shape, so the loop never draws z."""

    in_channels = 1
    out_channels = 1

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)

    def forward(self, condition: Tensor, z: Tensor) -> Tensor:
        return self.conv(condition) + z


class LabelsWithoutNumClasses(nn.Module):
    """A discriminator that wants labels but has no num_classes, so the loop never passes them."""

    in_channels = 2

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 1)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        return self.conv(x)


class HalfLoss(AdversarialLoss):
    """Defines D's loss only."""

    def discriminator_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return (fake_scores - real_scores).mean()
