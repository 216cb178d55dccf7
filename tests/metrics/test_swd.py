"""SlicedWassersteinDistance against an independent numpy/scipy computation of Karras et al.'s protocol (arXiv
1710.10196, appendix D), and its invariances: 0 for identical sets, symmetric, growing with a blur or a colour shift
of part of one set, blind to one per-channel affine map of a whole set (the paper's per-set normalisation)."""

import numpy as np
import pytest
import scipy.ndimage
import torch
import torch.nn.functional as F

from lightning_gan.metrics.swd import SlicedWassersteinDistance, laplacian_pyramid, random_directions


def _images(n: int, seed: int, size: int = 32) -> torch.Tensor:
    """Photograph-like test images in [-1, 1]: smooth colour fields (upsampled noise) with a few sharp bars."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, size // 8, size // 8, generator=g) * 2 - 1
    images = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    images = images + 0.1 * torch.randn(n, 3, size, size, generator=g)
    for i in range(n):
        row = int(torch.randint(0, size - 4, (1,), generator=g))
        images[i, :, row : row + 3] = -1.0
    return images.clamp(-1, 1)


def _numpy_swd(a: np.ndarray, b: np.ndarray, levels: int, directions: list[np.ndarray]) -> float:
    """Karras et al.'s ``metrics/sliced_wasserstein.py`` with every 7x7 position: scipy ``mirror`` convolution with
    the 5x5 binomial filter, ``ndimage`` pyramid steps, per-set channel normalisation, sorted projections, x1e3."""
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float64) / 256.0

    def down(x: np.ndarray) -> np.ndarray:
        return scipy.ndimage.convolve(x, kernel[None, None], mode="mirror")[:, :, ::2, ::2]

    def up(x: np.ndarray) -> np.ndarray:
        s = x.shape
        res = np.zeros((s[0], s[1], s[2] * 2, s[3] * 2), x.dtype)
        res[:, :, ::2, ::2] = x
        return scipy.ndimage.convolve(res, kernel[None, None] * 4.0, mode="mirror")

    def pyramid(x: np.ndarray) -> list[np.ndarray]:
        out = [x]
        for _ in range(levels - 1):
            out.append(down(out[-1]))
        return [out[i] - up(out[i + 1]) for i in range(levels - 1)] + [out[-1]]

    def descriptors(x: np.ndarray) -> np.ndarray:
        n, _, h, w = x.shape
        d = [x[k, :, i : i + 7, j : j + 7] for k in range(n) for i in range(h - 6) for j in range(w - 6)]
        d = np.stack(d)  # M x C x 7 x 7
        d = d - d.mean(axis=(0, 2, 3), keepdims=True)
        d = d / d.std(axis=(0, 2, 3), keepdims=True)
        return d.reshape(d.shape[0], -1)

    distances = []
    for level, (la, lb) in enumerate(zip(pyramid(a), pyramid(b), strict=True)):
        da, db = descriptors(la), descriptors(lb)
        pa, pb = np.sort(da @ directions[level], axis=0), np.sort(db @ directions[level], axis=0)
        distances.append(np.abs(pa - pb).mean())
    return 1e3 * float(np.mean(distances))


def _swd(a: torch.Tensor, b: torch.Tensor, **kwargs) -> float:
    kwargs.setdefault("levels", 3)  # 32-px test images: 32, 16 and 8 px
    kwargs.setdefault("directions", 128)
    metric = SlicedWassersteinDistance(**kwargs)
    for chunk_a, chunk_b in zip(a.split(3), b.split(3), strict=True):  # several updates, as validation batches
        metric.update(chunk_a, chunk_b)
    return metric.compute().item()


def test_matches_an_independent_numpy_computation() -> None:
    a, b = _images(4, 0, 32), _images(4, 1, 32)
    b[:2] = b[:2] * 0.5 + 0.2  # two images of b in other colours
    levels, dirs = 3, 64
    directions = [random_directions(3 * 49, dirs, 5 * 1_000_003 + lvl).numpy() for lvl in range(levels)]
    expected = _numpy_swd(a.double().numpy(), b.double().numpy(), levels, directions)
    ours = _swd(a, b, levels=levels, patches_per_image=None, directions=dirs, seed=5)
    assert expected > 10  # a real difference, not two zeros
    assert ours == pytest.approx(expected, rel=1e-4)


def test_laplacian_pyramid_reconstructs_the_image() -> None:
    """Each Laplacian level is ``G_l - up(G_{l+1})``, so collapsing the pyramid gives the image back exactly."""
    images = _images(2, 3, 32).double()
    pyramid = laplacian_pyramid(images, 3)
    assert [p.shape[-1] for p in pyramid] == [32, 16, 8]
    from lightning_gan.metrics.swd import _pyr_up

    rebuilt = pyramid[-1]
    for level in reversed(pyramid[:-1]):
        rebuilt = level + _pyr_up(rebuilt)
    torch.testing.assert_close(rebuilt, images)


def test_identical_sets_score_zero_and_the_distance_is_symmetric() -> None:
    a, b = _images(6, 0), _images(6, 1)
    assert _swd(a, a, patches_per_image=None) == pytest.approx(0.0, abs=1e-6)
    assert _swd(a, b, patches_per_image=None) == pytest.approx(_swd(b, a, patches_per_image=None), rel=1e-6)
    # With the paper's 128 random patches per image, two draws from the same set differ only by sampling noise.
    sampled_same = _swd(a, a)
    assert sampled_same < 0.5 * _swd(a, _images(6, 1).mul(0.2))


def test_grows_with_a_blur_of_one_set() -> None:
    real, other = _images(6, 0), _images(6, 1)
    scores = []
    for sigma in (0.0, 1.0, 2.0, 4.0):
        blurred = other if sigma == 0 else _gaussian(other, sigma)
        scores.append(_swd(blurred, real, patches_per_image=None))
    assert scores == sorted(scores), scores
    assert scores[-1] > 1.3 * scores[0]


def test_grows_with_a_colour_shift_of_part_of_a_set_but_not_of_the_whole_set() -> None:
    """The paper normalises each set per channel, so one affine colour change of a whole set is invisible; a shift
    that changes the set's distribution (half of its images) is seen."""
    real, fake = _images(6, 0), _images(6, 1)
    base = _swd(fake, real, patches_per_image=None)
    whole = fake * torch.tensor([0.5, 0.8, 1.0])[:, None, None] + torch.tensor([0.3, -0.1, 0.2])[:, None, None]
    assert _swd(whole, real, patches_per_image=None) == pytest.approx(base, rel=1e-4)
    scores = []
    for shift in (0.0, 0.2, 0.5, 1.0):
        part = real.clone()
        part[:3, 0] += shift  # the red channel of half of the images
        scores.append(_swd(part, real, patches_per_image=None))
    assert scores[0] == pytest.approx(0.0, abs=1e-6)
    assert scores == sorted(scores), scores
    assert scores[-1] > 50


def test_a_constant_output_scores_far_from_real_images() -> None:
    """The degenerate case the paper's code divides by zero on: a constant set normalises to zeros."""
    real = _images(6, 0)
    grey = _swd(torch.zeros_like(real), real)
    assert np.isfinite(grey)
    assert grey > 2 * _swd(_images(6, 1), real)


def test_patch_positions_are_the_same_at_every_evaluation() -> None:
    metric = SlicedWassersteinDistance(levels=3)
    a, b = _images(4, 0), _images(4, 1)
    metric.update(a, b)
    first = metric.compute()
    metric.reset()
    metric.update(a, b)
    assert metric.compute() == first


def test_rejects_images_too_small_and_crops_sizes_off_the_pyramid_multiple() -> None:
    metric = SlicedWassersteinDistance()
    with pytest.raises(ValueError, match="at least 56 pixels a side"):
        metric.update(torch.zeros(2, 3, 48, 64), torch.zeros(2, 3, 48, 64))
    a, b = _images(2, 0, 64), _images(2, 1, 64)
    whole, cropped = (
        SlicedWassersteinDistance(patches_per_image=None),
        SlicedWassersteinDistance(patches_per_image=None),
    )
    whole.update(a[..., :56, :], b[..., :56, :])
    cropped.update(a[..., :61, :], b[..., :61, :])  # 61 rows: the last 5 are dropped
    assert cropped.compute() == whole.compute()


def _gaussian(images: torch.Tensor, sigma: float) -> torch.Tensor:
    blurred = scipy.ndimage.gaussian_filter(images.numpy(), sigma=(0, 0, sigma, sigma), mode="reflect")
    return torch.from_numpy(blurred)
