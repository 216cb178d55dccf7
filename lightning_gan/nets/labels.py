"""Class labels for class-conditional GANs: who takes them, and checks that fail early with the values.

A network is class-conditional when it has an integer attribute ``num_classes``; the GAN loop then passes the
batch's ``label`` (N class indices, int64) to it as the last positional argument: ``G(z, labels)``,
``D(x, labels)``. Networks without ``num_classes`` are called as before, so unconditional models ignore labels.
"""

from typing import Any

import torch
from torch import Tensor, nn


def num_classes(network: nn.Module | None) -> int | None:
    """The network's ``num_classes``, or ``None`` when it does not take labels."""
    value = getattr(network, "num_classes", None)
    return int(value) if isinstance(value, int) else None


def check_label_values(labels: Tensor, classes: int, owner: str) -> Tensor:
    """``labels`` as a 1-D int64 tensor, checked to lie in ``[0, classes)``.

    Raises:
        ValueError: a label outside the range (the first one is named), a floating-point or non-1-D tensor.
    """
    if labels.is_floating_point() or labels.is_complex() or labels.ndim != 1:
        raise ValueError(
            f"{owner}: expected labels as a 1-D tensor of class indices, got dtype {labels.dtype} and shape "
            f"{tuple(labels.shape)}."
        )
    labels = labels.long()
    bad = (labels < 0) | (labels >= classes)
    if bool(bad.any()):
        value = int(labels[bad][0])
        raise ValueError(f"{owner}: label {value} is outside the {classes} classes (expected 0 <= label < {classes}).")
    return labels


def class_inputs(network: nn.Module, labels: Tensor | None, role: str) -> list[Tensor]:
    """``[labels]`` when ``network`` is class-conditional, ``[]`` otherwise: the extra positional input.

    Raises:
        ValueError: a class-conditional network and no labels.
    """
    if num_classes(network) is None:
        return []
    if labels is None:
        raise ValueError(
            f"The {role} {type(network).__name__} is class-conditional (num_classes={num_classes(network)}) but the "
            "batch has no 'label'; use a data module that yields labels (DigitsDataModule: `labels: true`)."
        )
    return [labels]


def check_labels(datamodule: Any, generator: nn.Module, discriminator: nn.Module) -> None:
    """Fail at setup when the data's classes and the networks' disagree, naming both values.

    Uses the DataModule's optional ``num_classes`` (set when it yields labels) and the networks' ``num_classes``.
    """
    data = getattr(datamodule, "num_classes", None)
    g, d = num_classes(generator), num_classes(discriminator)
    if data is None:
        if g is not None or d is not None:
            which = "generator" if g is not None else "discriminator"
            raise ValueError(
                f"The {which} is class-conditional (num_classes={g if g is not None else d}) but the data module "
                f"{type(datamodule).__name__} yields no labels (its num_classes is None); enable its labels "
                "(DigitsDataModule: `--data.init_args.labels true`)."
            )
        return
    if g is None:
        raise ValueError(
            f"The data module yields labels of {data} classes but the generator {type(generator).__name__} is "
            "unconditional (no num_classes); use a class-conditional generator (lightning_gan.nets.conditional) or "
            "turn the data module's labels off."
        )
    for role, value in (("generator", g), ("discriminator", d)):
        if value is not None and value != data:
            raise ValueError(
                f"The data has num_classes = {data} but the {role} has num_classes = {value}; set it from the data "
                "module's."
            )


def as_label_tensor(labels: Any, n: int, classes: int | None, owner: str) -> Tensor | None:
    """Labels given by a user (a sequence or tensor of class indices) as a checked int64 tensor of length ``n``.

    Raises:
        ValueError: labels for an unconditional generator, a length other than ``n``, a label out of range.
    """
    if labels is None:
        return None
    if classes is None:
        raise ValueError(
            f"{owner}: labels were given but this generator is unconditional (it has no num_classes); labels need a "
            "class-conditional generator such as lightning_gan.nets.conditional.ConditionalDCGANGenerator."
        )
    tensor = labels if isinstance(labels, Tensor) else torch.as_tensor(list(labels))
    tensor = tensor.reshape(-1) if tensor.ndim == 0 else tensor
    if tensor.ndim != 1 or len(tensor) != n:
        raise ValueError(f"{owner}: expected {n} labels (one per sample), got shape {tuple(tensor.shape)}.")
    return check_label_values(tensor, classes, owner)
