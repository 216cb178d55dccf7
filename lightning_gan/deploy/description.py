"""What a GAN's inference generator expects and returns, from the facts the networks and strategies declare.

Generators state ``family``, ``modality``, ``latent`` and ``size_multiple`` (:mod:`lightning_gan.nets`); whole-input
strategies state theirs in ``describe()`` (:class:`lightning_gan.whole_input.strategies.StrategyInfo`); a checkpoint's
DataModule
settings add the training geometry, sample rate and pre-emphasis. :func:`describe` combines them into a
:class:`ModelInfo`, which :mod:`lightning_gan.deploy.api` and :mod:`lightning_gan.deploy.export` use. Generators from
outside the
project that declare nothing are described as ``"conditional"`` or ``"unconditional"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import torch
from torch import nn

from lightning_gan.gan import GAN

Family = Literal["pix2pix", "segan", "dcgan", "cyclegan", "conditional", "unconditional"]
Modality = Literal["image", "audio"]


@dataclass(frozen=True)
class ModelInfo:
    """What a checkpoint's generator expects and returns (see :func:`describe`).

    Attributes:
        family: ``"pix2pix"``, ``"segan"``, ``"dcgan"`` or ``"cyclegan"`` for the project's generators;
            ``"conditional"`` or ``"unconditional"`` for others.
        modality: ``"image"`` (N x C x H x W) or ``"audio"`` (N x 1 x T).
        generator: the generator's class path.
        conditional: whether the generator takes a condition (an image to translate, noisy speech).
        latent: whether the generator takes noise ``z``.
        condition_channels: channels of the condition (``None`` when unconditional).
        output_channels: channels of the output.
        size_multiple: H and W (images) or T (audio) must be multiples of this; ``None``: only the example size.
        example_size: the image side or audio window the model was trained on (``None`` when unconditional).
        sample_rate: the audio rate in Hz (``None`` for images or when the checkpoint does not record it).
        pre_emphasis: coefficient applied to the condition before G (``None``: none).
        de_emphasis: coefficient of the de-emphasis applied to G's output (``None``: none).
        ema: whether the weights are the exponential moving average of G.
        geometry: the training geometry images are translated at
            (:class:`~lightning_gan.whole_input.geometry.ImageGeometry`
            as a dict: preprocess, load_size, crop_size, size_multiple), when the model's whole-input strategy
            records one (:class:`~lightning_gan.whole_input.geometry.AtTrainingScale`); ``None`` otherwise.
        direction: the way a two-way generator (CycleGAN) translates, ``"AtoB"`` or ``"BtoA"``; the channels above
            are that direction's. ``None`` for one-way generators.
    """

    family: Family
    modality: Modality
    generator: str
    conditional: bool
    latent: bool
    condition_channels: int | None
    output_channels: int | None
    size_multiple: int | None
    example_size: int | None
    sample_rate: int | None
    pre_emphasis: float | None
    de_emphasis: float | None
    ema: bool
    geometry: dict[str, Any] | None = None
    direction: str | None = None


def _modality(module: GAN, generator: nn.Module, data: dict[str, Any], conditional: bool) -> Modality:
    declared = getattr(generator, "modality", None) or module.inference.describe().modality
    if declared is not None:
        return cast(Modality, declared)
    if conditional:
        if "sample_rate" in data:
            return "audio"
        if {"crop_size", "image_size"} & data.keys():
            return "image"
        raise ValueError(
            f"cannot tell whether {type(generator).__name__} takes images or audio: neither the generator nor the "
            "whole-input strategy declares a modality, and the checkpoint has no image/audio data settings"
        )
    shape = cast(Any, generator).latent_shape(1, None)  # undeclared: run it once to see its output
    with torch.no_grad():
        ndim = generator(torch.zeros(shape)).ndim
    return "image" if ndim == 4 else "audio"


def _example_size(module: GAN, generator: nn.Module, data: dict[str, Any], modality: Modality) -> int | None:
    """The training geometry: the data's crop/window, else what the generator or the inference strategy says."""
    strategy = module.inference.describe().example_size
    multiple = getattr(generator, "size_multiple", None)
    if modality == "audio":
        candidates = [data.get("window"), strategy, multiple]
    else:
        # The training crop recorded by AtTrainingScale comes before the size multiple: a ResNet generator's multiple
        # (4) is no size it was trained at, where a U-Net's (2**num_downs) is its crop.
        geometry = module.inference.state_dict().get("geometry") or {}
        candidates = [data.get("crop_size"), geometry.get("crop_size"), multiple, strategy]
    return next((int(c) for c in candidates if isinstance(c, int) and c > 0), None)


def describe(module: GAN, data: dict[str, Any] | None = None) -> ModelInfo:
    """What ``module``'s inference generator expects, from the module and its checkpoint's DataModule settings.

    Args:
        module: the GAN, e.g. from :func:`lightning_gan.deploy.loading.load_gan`.
        data: the checkpoint's ``datamodule_hyper_parameters`` (SEGAN's record the sample rate, window and
            pre-emphasis).

    Raises:
        ValueError: a conditional generator of unknown kind whose checkpoint says nothing of images or audio.
    """
    data = dict(data or {})
    generator = module.inference_generator
    conditional = hasattr(generator, "in_channels")
    latent = bool(getattr(generator, "latent", getattr(generator, "latent_shape", None) is not None))
    family = getattr(generator, "family", None) or ("conditional" if conditional else "unconditional")
    multiple = getattr(generator, "size_multiple", None)
    modality = _modality(module, generator, data, conditional)
    postprocess = getattr(module.postprocess, "coef", None)
    pre = data.get("pre_emphasis", postprocess if modality == "audio" else None)
    return ModelInfo(
        family=cast(Family, family),
        modality=modality,
        generator=f"{type(generator).__module__}.{type(generator).__qualname__}",
        conditional=conditional,
        latent=latent,
        condition_channels=int(cast(int, generator.in_channels)) if conditional else None,
        output_channels=getattr(generator, "out_channels", None),
        size_multiple=int(multiple) if isinstance(multiple, int) else None,
        example_size=_example_size(module, generator, data, modality) if conditional else None,
        sample_rate=data.get("sample_rate") if modality == "audio" else None,
        pre_emphasis=float(pre) if pre else None,
        de_emphasis=float(postprocess) if postprocess else None,
        ema=module.generator_ema is not None,
        geometry=module.inference.state_dict().get("geometry"),
        direction=direction if isinstance(direction := getattr(generator, "direction", None), str) else None,
    )


__all__ = ["Family", "Modality", "ModelInfo", "describe"]
