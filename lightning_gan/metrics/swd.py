"""Sliced Wasserstein distance (SWD) between the local patches of two image sets: realism of translations.

Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and Variation" (arXiv 1710.10196,
appendix D) compare generated and real images by the statistics of their small patches at several scales, so the
number sees texture, colour and sharpness at each scale instead of a per-pixel error. A per-pixel error (L1, PSNR)
rewards the blurry average of all plausible outputs, which is the wrong target for a GAN (pix2pix, Isola et al. 2017,
arXiv 1611.07004, section 4.2); SWD ranks that blur as far from the photographs as it looks.

The protocol, as the paper's appendix D and its released code (``metrics/sliced_wasserstein.py`` of
tkarras/progressive_growing_of_gans) define it:

1. Laplacian pyramid of every image, ``levels`` levels (4 here: full, 1/2, 1/4 and 1/8 resolution; the paper takes
   every level down to 16 x 16, which is 4 levels for its 128-px images). Gaussian step: a 5 x 5 binomial filter
   ``[1, 4, 6, 4, 1]^T [1, 4, 6, 4, 1] / 256`` with mirrored borders, keep every other pixel; level ``l`` is
   ``G_l - up(G_{l+1})`` (``up``: zeros inserted, the same filter times 4) and the last level is the coarsest
   Gaussian ``G_{levels-1}`` itself.
2. From each level of each image, ``patches_per_image`` 7 x 7 neighbourhoods at uniformly random positions (128 in
   the paper; ``None`` here takes every position, deterministic), each a descriptor of ``7 * 7 * C`` numbers.
3. Per level and per set, every channel of the descriptors is normalised to zero mean and unit standard deviation
   over that set's descriptors (a constant channel stays 0: the paper's code divides by a zero there; we divide by
   ``max(std, 1e-8)``).
4. Per level, ``SWD_l = mean over 512 random unit directions d of mean_i |sort(A d)_i - sort(B d)_i|``: the
   one-dimensional Wasserstein-1 distance of the two projected sets, averaged over directions (4 repeats of 128 in
   the paper; fresh directions per level).
5. Reported: ``1e3 * mean_l SWD_l`` (the paper's tables show SWD x 10^3 per level and their average); lower is
   more alike.

Orientation: identical sets give 0, the distance is symmetric, and it grows as one set is blurred or shifted in
colour. Yardsticks on the 92 validation pairs of the edges -> photo development set at 256 px (docs/evaluation.md): a
mid-grey output scores 573, the input edge maps 180, as many photographs of training scenes 56, and the true
photographs 17 (a second draw of patches: the sampling noise).

DDP: the descriptors of both sets are list states gathered (``cat``) across ranks before ``compute``, so the
normalisation and the sorting see the whole data set, as on one device. Both sets must hold the same number of
descriptors (as the paper's does): the GAN module feeds one output per target.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

#: The 5-tap binomial kernel of the paper's code (its separable 5 x 5 ``gaussian_filter`` is its outer product / 256).
_BINOMIAL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _blur(images: Tensor, gain: float = 1.0) -> Tensor:
    """5 x 5 binomial blur of ``N x C x H x W`` with mirrored (``reflect``) borders, times ``gain``."""
    k1 = torch.tensor(_BINOMIAL, dtype=images.dtype, device=images.device)
    kernel = (torch.outer(k1, k1) / 256.0 * gain).expand(images.shape[1], 1, 5, 5)
    return F.conv2d(F.pad(images, (2, 2, 2, 2), mode="reflect"), kernel, groups=images.shape[1])


def _pyr_down(images: Tensor) -> Tensor:
    return _blur(images)[:, :, ::2, ::2]


def _pyr_up(images: Tensor) -> Tensor:
    n, c, h, w = images.shape
    up = images.new_zeros(n, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = images
    return _blur(up, gain=4.0)


def laplacian_pyramid(images: Tensor, levels: int) -> list[Tensor]:
    """The ``levels``-level Laplacian pyramid of ``N x C x H x W`` images, finest first (step 1 of the module
    docstring); H and W must be divisible by ``2 ** (levels - 1)``."""
    if levels < 1:
        raise ValueError(f"Expected `levels` >= 1, got {levels!r}.")
    gaussian = [images]
    for _ in range(levels - 1):
        gaussian.append(_pyr_down(gaussian[-1]))
    return [g - _pyr_up(g_next) for g, g_next in itertools.pairwise(gaussian)] + [gaussian[-1]]


def patch_descriptors(level: Tensor, patch_size: int, per_image: int | None, generator: torch.Generator) -> Tensor:
    """``patch_size`` x ``patch_size`` neighbourhoods of one pyramid level, flattened to ``M x (C * p * p)``.

    ``per_image`` positions per image drawn uniformly with ``generator`` (the paper: 128), or every position when
    ``None``.
    """
    n, c = level.shape[:2]
    patches = level.unfold(2, patch_size, 1).unfold(3, patch_size, 1)  # N x C x H' x W' x p x p
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(n, -1, c * patch_size * patch_size)
    if per_image is None:
        return patches.reshape(-1, patches.shape[-1])
    index = torch.randint(patches.shape[1], (n, per_image), generator=generator).to(level.device)
    return torch.gather(patches, 1, index[:, :, None].expand(-1, -1, patches.shape[-1])).reshape(-1, patches.shape[-1])


def normalize_descriptors(descriptors: Tensor, channels: int) -> Tensor:
    """Zero mean and unit standard deviation per image channel over all descriptors of one set (step 3)."""
    d = descriptors.reshape(descriptors.shape[0], channels, -1).double()
    d = d - d.mean(dim=(0, 2), keepdim=True)
    d = d / d.std(dim=(0, 2), keepdim=True, unbiased=False).clamp_min(1e-8)
    return d.reshape(descriptors.shape[0], -1)


def random_directions(dim: int, count: int, seed: int) -> Tensor:
    """``dim x count`` random unit vectors (columns) from a generator seeded with ``seed`` (float64)."""
    directions = torch.randn(dim, count, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return directions / directions.norm(dim=0, keepdim=True)


def sliced_wasserstein(a: Tensor, b: Tensor, directions: Tensor) -> Tensor:
    """Mean over the ``directions`` (columns) of the 1-D Wasserstein-1 distance of the projections of descriptor
    sets ``a`` and ``b`` (``M x D`` each, the same ``M``): ``mean |sort(a d) - sort(b d)|`` (step 4)."""
    if a.shape != b.shape:
        raise ValueError(
            f"sliced_wasserstein needs two sets of the same shape, got {tuple(a.shape)}, {tuple(b.shape)}."
        )
    directions = directions.to(a.device, torch.float64)
    pa = torch.sort(a.double() @ directions, dim=0).values
    pb = torch.sort(b.double() @ directions, dim=0).values
    return (pa - pb).abs().mean()


class SlicedWassersteinDistance(Metric):
    """SWD x 1e3 between the 7 x 7 patches of generated images (``preds``) and real ones (``target``) over a
    Laplacian pyramid (Karras et al. 2018, arXiv 1710.10196, appendix D; the protocol is in the module docstring).

    Lower is better; 0 for identical sets. Images are ``N x C x H x W`` in any fixed range (each set is normalised
    per channel, so the range cancels), at least ``patch_size * 2 ** (levels - 1)`` pixels a side (56 by default);
    sizes that are not multiples of ``2 ** (levels - 1)`` lose their last rows or columns.

    Args:
        levels: Laplacian pyramid levels (the paper: down to 16 px, i.e. 4 for 128-px images).
        patch_size: side of the neighbourhoods (the paper: 7).
        patches_per_image: neighbourhoods drawn per image and level (the paper: 128); ``None``: every position
            (exact, memory grows with the image area).
        directions: random projection directions per level (the paper: 4 x 128 = 512).
        seed: seeds the patch positions (from the update's number since the last ``reset``, so every evaluation
            draws the same ones) and the directions.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = False

    def __init__(
        self,
        levels: int = 4,
        patch_size: int = 7,
        patches_per_image: int | None = 128,
        directions: int = 512,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if levels < 1 or patch_size < 1 or directions < 1:
            raise ValueError(
                f"Expected `levels`, `patch_size` and `directions` >= 1, got {levels}, {patch_size}, {directions}."
            )
        if patches_per_image is not None and patches_per_image < 1:
            raise ValueError(f"Expected `patches_per_image` >= 1 or None, got {patches_per_image!r}.")
        self.levels, self.patch_size, self.patches_per_image = levels, patch_size, patches_per_image
        self.num_directions, self.seed = directions, seed
        # One list state per set and level (``preds_level0``, ...): each entry holds one batch's ``M x D``
        # descriptors of that level, which the DDP gather concatenates.
        for level in range(levels):
            self.add_state(f"preds_level{level}", default=[], dist_reduce_fx="cat")
            self.add_state(f"target_level{level}", default=[], dist_reduce_fx="cat")

    def _describe(self, images: Tensor, generator: torch.Generator) -> list[Tensor]:
        if images.ndim != 4:
            raise ValueError(
                f"SlicedWassersteinDistance expects N x C x H x W images, got shape {tuple(images.shape)}."
            )
        h, w = images.shape[-2:]
        factor = 2 ** (self.levels - 1)
        if min(h, w) // factor < self.patch_size:
            raise ValueError(
                f"SlicedWassersteinDistance(levels={self.levels}, patch_size={self.patch_size}) needs images of at "
                f"least {self.patch_size * factor} pixels a side, got {h}x{w}."
            )
        # The pyramid halves the size levels - 1 times: keep the top-left multiple of 2 ** (levels - 1) (a few rows
        # or columns at most, which patch statistics do not miss).
        images = images[..., : h - h % factor, : w - w % factor]
        pyramid = laplacian_pyramid(images.detach().float(), self.levels)
        return [patch_descriptors(level, self.patch_size, self.patches_per_image, generator) for level in pyramid]

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add generated images ``preds`` and real images ``target`` (the same number, ``N x C x H x W``)."""
        if preds.shape[0] != target.shape[0] or preds.shape[1] != target.shape[1]:
            raise ValueError(
                f"SlicedWassersteinDistance expects as many preds as targets with the same channels, got "
                f"{tuple(preds.shape)} and {tuple(target.shape)}."
            )
        # The positions depend only on the seed and the update's number (torchmetrics counts updates since the last
        # reset), so every evaluation draws the same ones; the two sets draw theirs independently, as the paper's.
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self._update_count)
        for name, images in (("preds", preds), ("target", target)):
            for level, descriptors in enumerate(self._describe(images, generator)):
                getattr(self, f"{name}_level{level}").append(descriptors)

    def compute(self) -> Tensor:
        """``1e3 *`` the mean over levels of the sliced Wasserstein distance."""
        distances = []
        for level in range(self.levels):
            preds = dim_zero_cat(getattr(self, f"preds_level{level}"))
            target = dim_zero_cat(getattr(self, f"target_level{level}"))
            channels = preds.shape[-1] // (self.patch_size * self.patch_size)
            directions = random_directions(preds.shape[-1], self.num_directions, self.seed * 1_000_003 + level)
            distances.append(
                sliced_wasserstein(
                    normalize_descriptors(preds, channels), normalize_descriptors(target, channels), directions
                )
            )
        return (1e3 * torch.stack(distances).mean()).float()


__all__ = [
    "SlicedWassersteinDistance",
    "laplacian_pyramid",
    "normalize_descriptors",
    "patch_descriptors",
    "random_directions",
    "sliced_wasserstein",
]
