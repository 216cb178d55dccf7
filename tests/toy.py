"""Tiny networks and data for fast, exact tests of the GAN loop (real Lightning runs, seconds each)."""

import torch
from lightning.pytorch import LightningDataModule
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset


class ToyGenerator(nn.Module):
    """Unconditional: z (N x latent) -> N x 1 x 4 x 4."""

    def __init__(self, latent_dim: int = 4, out_channels: int = 1) -> None:
        super().__init__()
        self.latent_dim, self.out_channels = latent_dim, out_channels
        self.net = nn.Sequential(nn.Linear(latent_dim, 16), nn.ReLU(), nn.Linear(16, out_channels * 16), nn.Tanh())

    def latent_shape(self, batch_size: int, condition: Tensor | None = None) -> tuple[int, ...]:
        return (batch_size, self.latent_dim)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, self.out_channels, 4, 4)


class ToyConditionalGenerator(nn.Module):
    """Conditional, no noise: N x C x H x W -> N x C x H x W."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, out_channels, 3, padding=1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.net(x))


class ToyDiscriminator(nn.Module):
    """N x C x 4 x 4 -> N x 1 x 2 x 2 patch logits."""

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.net = nn.Sequential(nn.Conv2d(in_channels, 8, 3), nn.LeakyReLU(0.2), nn.Conv2d(8, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _Pairs(Dataset):
    def __init__(self, n: int, conditional: bool, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.condition = torch.rand(n, 1, 4, 4, generator=g) * 2 - 1
        self.real = -self.condition  # a learnable mapping: y = -x
        self.conditional = conditional

    def __len__(self) -> int:
        return len(self.real)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        item = {"real": self.real[i]}
        if self.conditional:
            item["condition"] = self.condition[i]
        return item


class ToyData(LightningDataModule):
    """Batches of 4 x 4 single-channel images; conditional pairs (x, -x) or unconditional reals."""

    def __init__(self, conditional: bool = False, n: int = 32, batch_size: int = 8) -> None:
        super().__init__()
        self.conditional, self.n, self.batch_size = conditional, n, batch_size
        self.condition_channels = 1 if conditional else None
        self.real_channels = 1

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_Pairs(self.n, self.conditional, 0), batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(_Pairs(16, self.conditional, 1), batch_size=self.batch_size)
