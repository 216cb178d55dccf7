"""The benchmark's configurations, built from the shipped YAML through ``lightning_gan.cli.main([...], run=False)``.

Nothing about a family is restated here: networks, loss, optimizers and weights come from ``configs/*.yaml``; the
overrides are the batch size, the bundled data (``data/pix2pix_demo``, ``data/speech_demo``) and, for smoke tests
(``scale < 1``), smaller networks and inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from benchmarks.loops import Family, LoopOptions, OptimizerFactory
from benchmarks.reference_pix2pix import ReferencePix2PixStep

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Config:
    """A named benchmark configuration: ``build(scale)`` returns its :class:`Family`; ``scale`` < 1 shrinks it for
    smoke tests (channels and sizes), 1 is the real size."""

    name: str
    description: str
    batch_size: int
    build: Callable[[float], Family] = field(repr=False)
    slow: bool = False
    step_multiplier: int = 1  # measure --steps x this: short steps need more of them for a stable median
    reference: Callable[[float], Any] | None = field(default=None, repr=False)  # the reference's update, by scale


def _images(n: int, channels: int, size: int) -> Tensor:
    return torch.rand(n, channels, size, size) * 2 - 1


def _speed_switch_free(optimizer: Any) -> tuple[OptimizerFactory, bool | None]:
    """The config's optimizer factory without its ``fused``/``foreach`` choice, and its ``fused`` value.

    The benchmark passes those switches itself (:class:`LoopOptions`): the shipped ones in the main benchmark, one at
    a time in the ablation, whose baseline is torch's default.
    """
    keywords = dict(optimizer.keywords)
    fused = keywords.pop("fused", None)
    keywords.pop("foreach", None)
    return functools.partial(optimizer.func, *optimizer.args, **keywords), fused


def _from_config(config_file: str, batch: Callable[[Any], dict[str, Tensor]], *overrides: str) -> Family:
    """The family exactly as ``configs/<config_file>`` builds it (``lightning_gan.cli.main(..., run=False)``;
    several files as ``"a.yaml+b.yaml"``, composed in order), with
    ``overrides`` (batch size, bundled data, smaller nets for smoke tests) given as on the command line; ``batch``
    makes one random training batch from the resolved ``data.init_args``."""
    from lightning_gan.cli import main

    files = [arg for name in config_file.split("+") for arg in ("--config", str(ROOT / "configs" / name))]
    args = [*files, "--trainer.logger", "false", *overrides]
    cli = main(args, run=False)
    model, datamodule = cli.model, cli.datamodule
    g_optimizer, fused = _speed_switch_free(model.g_optimizer)
    d_optimizer, _ = _speed_switch_free(model.d_optimizer)
    return Family(
        generator=model.generator,
        discriminator=model.discriminator,
        loss=model.objective.loss,
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        batch=batch(cli.config.data.init_args),
        reconstruction_weight=float(getattr(model.objective, "reconstruction_weight", 0.0)),
        discriminator_loss_weight=float(model.objective.discriminator_loss_weight),
        datamodule=lambda: datamodule,
        shipped=LoopOptions(channels_last=model.speed.channels_last, fused=fused),
    )


def _dcgan(batch_size: int, scale: float) -> Family:
    small = ["--data.init_args.image_size", "8", "--model.generator.init_args.ngf", "4",
             "--model.discriminator.init_args.ndf", "4"] if scale < 1 else []  # fmt: skip
    return _from_config(
        "dcgan_digits.yaml",
        lambda data: {"real": _images(batch_size, 1, data.image_size)},
        "--data.init_args.batch_size", str(batch_size), *small,
    )  # fmt: skip


def _pix2pix(batch_size: int, scale: float) -> Family:
    """configs/pix2pix/base.yaml + facades.yaml (unet_256 + 70x70 PatchGAN) on the bundled demo pairs."""
    small = ["--model.generator.init_args.num_downs", "5", "--model.generator.init_args.ngf", "4",
             "--model.discriminator.init_args.ndf", "4", "--data.init_args.crop_size", "32",
             "--data.init_args.load_size", "36", "--data.init_args.num_workers", "0"] if scale < 1 else []  # fmt: skip
    return _from_config(
        "pix2pix/base.yaml+pix2pix/facades.yaml",
        lambda data: {k: _images(batch_size, 3, data.crop_size) for k in ("condition", "real")},
        "--data.init_args.root", str(ROOT / "data" / "pix2pix_demo"), "--data.init_args.batch_size", str(batch_size),
        "--data.init_args.pin_memory", "false", *small,
    )  # fmt: skip


def _pix2pix_reference(scale: float) -> ReferencePix2PixStep:
    """junyanz/pytorch-CycleGAN-and-pix2pix's update (benchmarks/reference_pix2pix.py), at ``_pix2pix``'s scale."""
    return ReferencePix2PixStep(num_downs=5, ngf=4, ndf=4) if scale < 1 else ReferencePix2PixStep()


def _segan(batch_size: int, scale: float, paper: bool) -> Family:
    """configs/segan_voicebank.yaml (paper) or configs/segan_demo.yaml, on the bundled demo utterances."""
    small = []
    if scale < 1:
        for net in ("generator", "discriminator"):
            small += [f"--model.{net}.init_args.channels", "[4, 8, 8]", f"--model.{net}.init_args.kernel_size", "5"]
        small += ["--data.init_args.window", "512", "--data.init_args.hop", "256"]

    def batch(data: Any) -> dict[str, Tensor]:
        return {
            "condition": torch.rand(batch_size, 1, data.window) * 2 - 1,
            "real": torch.rand(batch_size, 1, data.window) * 2 - 1,
        }

    return _from_config(
        "segan_voicebank.yaml" if paper else "segan_demo.yaml",
        batch,
        "--data.init_args.root", str(ROOT / "data" / "speech_demo"), "--data.init_args.val_speakers", "[p005]",
        "--data.init_args.batch_size", str(batch_size), "--data.init_args.num_workers", "0",
        "--data.init_args.pin_memory", "false", "--data.init_args.cache_dir", "null", *small,
    )  # fmt: skip


CONFIGS: dict[str, Config] = {
    c.name: c
    for c in (
        Config(
            "dcgan",
            "DCGAN digits quickstart, 32x32, ngf/ndf 32, batch 64",
            64,
            functools.partial(_dcgan, 64),
            step_multiplier=5,
        ),
        Config(
            "pix2pix_b1",
            "pix2pix unet_256 + 70x70 PatchGAN, 256x256, batch 1",
            1,
            functools.partial(_pix2pix, 1),
            reference=_pix2pix_reference,
        ),
        Config(
            "pix2pix_b4",
            "pix2pix unet_256 + 70x70 PatchGAN, 256x256, batch 4",
            4,
            functools.partial(_pix2pix, 4),
            reference=_pix2pix_reference,
        ),
        Config(
            "segan_small",
            "SEGAN demo nets (6 layers, k15), window 4096, batch 16",
            16,
            functools.partial(_segan, 16, paper=False),
        ),
        Config(
            "segan_paper",
            "SEGAN paper nets (11 layers, k31), window 16384, batch 4",
            4,
            functools.partial(_segan, 4, paper=True),
            slow=True,
        ),
    )
}


def build_family(config: Config, scale: float = 1.0) -> Family:
    """``config.build(scale)`` after ``torch.manual_seed(0)``, with SEGAN's VBN reference batch set (as its callback
    sets it), so every loop built from it starts from the same weights."""
    torch.manual_seed(0)
    family = config.build(scale)
    if hasattr(family.discriminator, "set_reference"):
        c = family.batch.get("condition")
        family.discriminator.set_reference(torch.cat([c, family.batch["real"]], dim=1) if c is not None else c)
    return family
