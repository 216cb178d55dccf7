"""Frechet distance and kernel (MMD) distance between two sets of features, in float64.

FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium",
arXiv 1706.08500) fits a Gaussian to each set of features and reports

    d^2 = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)).

``Tr((S_1 S_2)^(1/2))`` equals ``Tr((A S_2 A)^(1/2))`` with ``A = S_1^(1/2)``, and ``A S_2 A`` is symmetric positive
semi-definite, so both square roots come from symmetric eigendecompositions (real eigenvalues, clipped at zero where
rounding makes them slightly negative). The result is checked: ``A @ A`` must reproduce ``S_1`` and the root of
``A S_2 A`` squared must reproduce it, to a relative Frobenius error below ``SQRT_TOLERANCE``; otherwise
:class:`SqrtError` is raised rather than a wrong number returned. (The common ``scipy.linalg.sqrtm(S_1 @ S_2)``
works on a non-symmetric product and can return complex values from rounding alone.)

KID (Binkowski et al. 2018, "Demystifying MMD GANs", arXiv 1801.01401) is the unbiased estimate of the squared
maximum mean discrepancy under the kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over random subsets. The
subsets come from a seeded generator, so the same features always give the same number and the global RNG (which
drives training noise) is never touched.
"""

import torch
from torch import Tensor

SQRT_TOLERANCE = 1e-6


class SqrtError(ArithmeticError):
    """A matrix square root did not reproduce its matrix to the tolerance."""


def mean_and_covariance(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and unbiased covariance (divisor ``n - 1``) of N x D features, in float64."""
    if features.dim() != 2 or features.shape[0] < 2:
        raise ValueError(f"Expected N x D features with N >= 2, got shape {tuple(features.shape)}.")
    x = features.double()
    mean = x.mean(dim=0)
    centred = x - mean
    return mean, centred.T @ centred / (x.shape[0] - 1)


def sqrtm_psd(matrix: Tensor, tolerance: float = SQRT_TOLERANCE) -> Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix, checked to ``tolerance``.

    Raises:
        SqrtError: the root squared differs from ``matrix`` by more than ``tolerance`` (relative Frobenius norm),
            e.g. because the matrix has clearly negative eigenvalues or is not finite.
    """
    matrix = matrix.double()
    symmetric = (matrix + matrix.T) / 2
    eigenvalues, eigenvectors = torch.linalg.eigh(symmetric)
    root = (eigenvectors * eigenvalues.clamp(min=0).sqrt()) @ eigenvectors.T
    scale = torch.linalg.matrix_norm(matrix).item()
    error = torch.linalg.matrix_norm(root @ root - matrix).item() / max(scale, torch.finfo(torch.float64).tiny)
    if not error <= tolerance:  # also catches NaN
        raise SqrtError(
            f"Matrix square root off by a relative {error:.3g} (tolerance {tolerance:g}); smallest eigenvalue "
            f"{eigenvalues.min().item():.3g} of a matrix of norm {scale:.3g}."
        )
    return root


def gaussian_frechet_distance(mean_1: Tensor, cov_1: Tensor, mean_2: Tensor, cov_2: Tensor) -> Tensor:
    """Squared Frechet distance between N(mean_1, cov_1) and N(mean_2, cov_2), a float64 scalar."""
    mean_1, cov_1, mean_2, cov_2 = (t.double() for t in (mean_1, cov_1, mean_2, cov_2))
    root_1 = sqrtm_psd(cov_1)
    cross = sqrtm_psd(root_1 @ cov_2 @ root_1)
    return (mean_1 - mean_2).square().sum() + cov_1.trace() + cov_2.trace() - 2 * cross.trace()


def frechet_distance(features_1: Tensor, features_2: Tensor) -> Tensor:
    """Squared Frechet distance between Gaussians fitted to two sets of N x D features (FID in Inception space)."""
    return gaussian_frechet_distance(*mean_and_covariance(features_1), *mean_and_covariance(features_2))


def _polynomial_kernel(x: Tensor, y: Tensor) -> Tensor:
    return (x @ y.T / x.shape[1] + 1) ** 3


def unbiased_mmd2(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased squared MMD between samples ``x`` (m x D) and ``y`` (n x D) under the cubic polynomial kernel."""
    x, y = x.double(), y.double()
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return within_x + within_y - 2 * k_xy.mean()


def kernel_distance(
    features_1: Tensor, features_2: Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """KID: mean and standard deviation of :func:`unbiased_mmd2` over ``subsets`` random subsets of each set.

    ``subset_size`` is capped at the smaller set's size; with ``subsets=1`` and a subset as large as both sets the
    whole sets are compared. Subsets are drawn without replacement from a generator seeded with ``seed``.
    """
    if min(features_1.shape[0], features_2.shape[0]) < 2:
        raise ValueError("KID needs at least 2 samples in each set.")
    size = min(subset_size, features_1.shape[0], features_2.shape[0])
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        i = torch.randperm(features_1.shape[0], generator=generator)[:size].to(features_1.device)
        j = torch.randperm(features_2.shape[0], generator=generator)[:size].to(features_2.device)
        values.append(unbiased_mmd2(features_1[i], features_2[j]))
    stacked = torch.stack(values)
    return stacked.mean(), stacked.std(unbiased=True) if subsets > 1 else stacked.new_zeros(())
