"""Spectral normalization of a network's layers (Miyato et al. 2018, "Spectral Normalization for Generative
Adversarial Networks", arXiv 1802.05957).

Each convolution, transposed convolution, linear and embedding weight ``W`` is replaced by ``W / sigma(W)``, with
``sigma`` its largest singular value estimated by power iteration (one iteration per training forward, as in the
paper), so every layer is 1-Lipschitz. We use PyTorch's ``torch.nn.utils.parametrizations.spectral_norm``: the
weight becomes a parametrization, so a module's state dict holds ``<layer>.parametrizations.weight.original`` and
the power iteration's ``_u``/``_v`` vectors instead of ``<layer>.weight``.

Checkpoints: the discriminator builders take ``spectral_norm: bool`` and it is saved with the other
hyper-parameters, so a checkpoint rebuilds D with or without it and its weights load either way. A checkpoint
trained without spectral norm does not load into a D built with it (nor the reverse): they are different
parametrizations of D, and the strict load names the missing ``parametrizations.weight.original`` keys.
"""

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm
from torch.nn.utils.parametrize import is_parametrized

SPECTRAL_NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
    nn.Embedding,
)
"""The layer types whose ``weight`` :func:`apply_spectral_norm` normalizes."""


def apply_spectral_norm(module: nn.Module, n_power_iterations: int = 1, eps: float = 1e-12) -> nn.Module:
    """Spectrally normalize, in place, the weight of every conv, linear and embedding layer inside ``module``.

    Call it after the weights are initialised: the parametrization keeps the initial weight as ``original`` and
    starts its power iteration from it. Layers already normalized are left alone, so applying it twice is harmless.

    Args:
        module: the network, e.g. a discriminator.
        n_power_iterations: power iterations per training forward (1 in the paper: the estimate improves over
            the training steps).
        eps: numerical floor of the norms in the power iteration.

    Returns:
        ``module``.
    """
    if n_power_iterations < 1:
        raise ValueError(f"Expected `n_power_iterations` >= 1, got {n_power_iterations!r}.")
    layers = [m for m in module.modules() if isinstance(m, SPECTRAL_NORM_LAYERS) and not is_parametrized(m, "weight")]
    for layer in layers:
        spectral_norm(layer, n_power_iterations=n_power_iterations, eps=eps)
    return module


def spectrally_normalized(module: nn.Module) -> list[nn.Module]:
    """The layers of ``module`` whose weight is spectrally normalized."""
    return [m for m in module.modules() if is_parametrized(m, "weight")]
