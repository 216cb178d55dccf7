"""Differentiable augmentation of everything the discriminator sees: DiffAugment.

Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training" (arXiv
2006.10738): on small data sets D memorises the training images; augmenting *both* real and generated images,
in D's steps *and* G's, with transforms that are differentiable so G's gradient flows through them, keeps D from
overfitting without the augmentations leaking into G's outputs (augmenting reals only would teach G to produce
augmented images). The transforms and their parameters follow the paper's reference code
(mit-han-lab/data-efficient-gans, ``DiffAugment_pytorch.py``), for images in [-1, 1]:

- ``color``: brightness ``x + (u - 0.5)``, then saturation ``(x - mean_c x) * 2u + mean_c x``, then contrast
  ``(x - mean_chw x) * (u + 0.5) + mean_chw x``, with ``u ~ U[0, 1)`` drawn once per image;
- ``translation``: shift by up to 1/8 of the side (an integer in ``[-s, s]``, ``s = int(side / 8 + 0.5)``, per
  axis and image), filling with zeros;
- ``cutout``: zero one square of half the side, centred at a uniformly drawn position (per image), clipped at
  the borders.

Each image of a batch gets its own draw, shared by all its channels (and, for a conditional D that scores
``cat([condition, sample])``, by the condition and the sample). With probability ``p < 1`` each transform is
applied to each image independently with probability ``p``, as ADA (Karras et al. 2020, arXiv 2006.06676) does;
``p = 1`` is DiffAugment. Augmentation happens only while the module is in training mode: validation, test and
predict never augment.

Wired in with ``model.augment`` (:class:`lightning_gan.gan.GAN`): the loop applies it inside ``discriminate``, so
every D call of a training step (D step real and fake, G step fake, and the gradient penalties' critic) sees
augmented images.
"""

from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor, nn

Transform = Callable[[Tensor], Tensor]


def _uniform(x: Tensor) -> Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def brightness(x: Tensor) -> Tensor:
    """Add ``u - 0.5`` per image, ``u ~ U[0, 1)``."""
    return x + (_uniform(x) - 0.5)


def saturation(x: Tensor) -> Tensor:
    """Scale the deviation from the per-pixel channel mean by ``2u`` per image."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x) * 2.0) + mean


def contrast(x: Tensor) -> Tensor:
    """Scale the deviation from the image's mean by ``u + 0.5`` per image."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x) + 0.5) + mean


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by integers ``(dy, dx)`` drawn from ``[-s, s]``, ``s = int(side * ratio + 0.5)``; the pixels
    shifted in are zeros. Output pixel ``(r, c)`` is input pixel ``(r + dy, c + dx)``, as in the reference."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1), device=x.device)
    rows = torch.arange(h, device=x.device)[None] + dy  # n x h
    cols = torch.arange(w, device=x.device)[None] + dx  # n x w
    valid = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None]
    shifted = x[batch, :, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]  # n x h x w x c
    return shifted.permute(0, 3, 1, 2) * valid[:, None].to(x.dtype)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a ``int(side * ratio + 0.5)`` square per image, its centre uniform over the image (reference bounds)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (n, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (n, 1), device=x.device) - cw // 2
    rows = torch.arange(h, device=x.device)[None]
    cols = torch.arange(w, device=x.device)[None]
    inside = ((rows >= top) & (rows < top + ch))[:, :, None] & ((cols >= left) & (cols < left + cw))[:, None, :]
    return x * (~inside)[:, None].to(x.dtype)


POLICIES: dict[str, tuple[str, ...]] = {
    "color": ("brightness", "saturation", "contrast"),
    "translation": ("translation",),
    "cutout": ("cutout",),
}
"""The reference's policies and the transforms each applies, in order."""


class DiffAugment(nn.Module):
    """Differentiable augmentation for D's inputs (see the module docstring).

    Args:
        policy: comma-separated policies, applied in order: any of ``color``, ``translation``, ``cutout``
            (the paper uses ``"color,translation,cutout"`` for unconditional generation with limited data).
        p: probability of applying each transform to each image (1.0: always, as DiffAugment).
        translation_ratio: the largest shift as a fraction of the side (reference 1/8).
        cutout_ratio: the cutout square's side as a fraction of the image's (reference 1/2).

    Raises:
        ValueError: an unknown policy, ``p`` outside [0, 1], ratios outside (0, 1]; in ``forward``, an input that
            is not N x C x H x W.
    """

    def __init__(
        self,
        policy: str = "color,translation,cutout",
        p: float = 1.0,
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
    ) -> None:
        super().__init__()
        names = [name.strip() for name in policy.split(",") if name.strip()]
        unknown = [name for name in names if name not in POLICIES]
        if unknown or not names:
            raise ValueError(
                f"DiffAugment: unknown policy {unknown or policy!r} in {policy!r}; expected a comma-separated list of "
                f"{sorted(POLICIES)}."
            )
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"DiffAugment: expected the probability `p` in [0, 1], got {p!r}.")
        for key, ratio in (("translation_ratio", translation_ratio), ("cutout_ratio", cutout_ratio)):
            if not 0.0 < ratio <= 1.0:
                raise ValueError(f"DiffAugment: expected `{key}` in (0, 1], got {ratio!r}.")
        self.policy = ",".join(names)
        self.p = p
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio
        functions: dict[str, Transform] = {
            "brightness": brightness,
            "saturation": saturation,
            "contrast": contrast,
            "translation": partial(translation, ratio=translation_ratio),
            "cutout": partial(cutout, ratio=cutout_ratio),
        }
        self.transforms: list[tuple[str, Transform]] = [(t, functions[t]) for name in names for t in POLICIES[name]]

    def forward(self, x: Tensor) -> Tensor:
        """``x`` augmented (training mode and ``p > 0``), else ``x`` itself."""
        if not self.training or self.p == 0.0:
            return x
        if x.ndim != 4:
            raise ValueError(f"DiffAugment expected images of shape N x C x H x W, got {tuple(x.shape)}.")
        for _, transform in self.transforms:
            out = transform(x)
            if self.p < 1.0:
                keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < self.p
                out = torch.where(keep, out, x)
            x = out
        return x

    def extra_repr(self) -> str:
        return f"policy={self.policy!r}, p={self.p}"
