"""Benchmark every GAN family: our Lightning ``fit`` against a plain PyTorch loop, the data pipeline, the FLOP floor.

For each configuration (``--only`` picks some; default all) this measures, in one process:

- **Lightning**: the real :class:`lightning_gan.gan.GAN` in a CPU ``Trainer`` (no logger, no checkpointing, no
  progress bar, no validation). Each training batch is timed from ``on_train_batch_start`` to
  ``on_train_batch_end`` with ``time.perf_counter`` (synchronous on CPU). The batch is a fixed random tensor, so
  data loading costs nothing here.
- **plain**: a loop written here with fresh copies of the same networks (identical initial weights), the same loss
  objects, optimizers and update order as ``GAN.training_step``: one G forward reused, a D step with D trainable
  and G frozen, then a G step with D frozen.
- The two alternate in blocks inside the same ``fit``: ``--warmup`` Lightning batches, ``--warmup`` plain steps,
  then blocks of ``--block`` Lightning batches and ``--block`` plain steps, so a change in machine load hits both.
  Reported: the median over ``--steps`` measured steps each.
- **data**: the family's DataModule alone on the bundled data (``data/pix2pix_demo``, ``data/speech_demo``, the
  scikit-learn digits), iterating its train dataloader at the configured ``num_workers``.
- **FLOP/step**: one training step (forward and backward of both networks) under
  ``torch.utils.flop_counter.FlopCounterMode``, and the floor ``FLOP / machine peak``; the peak is measured here
  (fp32 GFLOP/s of a large matmul and of a representative convolution, the faster of the two).

Each configuration runs in a fresh subprocess (this script with ``--only NAME --json``) so its peak RSS
(``ru_maxrss``, monotone per process) is its own.

Usage::

    python scripts/benchmark.py                          # everything, writes docs/benchmarks.md
    python scripts/benchmark.py --only pix2pix_b1 dcgan --no-write
    python scripts/benchmark.py --only segan_paper --paper-steps 5

Targets (issue "Performance: benchmark every family against a plain PyTorch loop"): Lightning overhead <= 2 % of
the step; data >= 10x faster than training; pix2pix batch 1 >= 1.3x the reference's 0.92 it/s
(``shared/reference/pix2pix.md`` section 9).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lightning_gan.losses import AdversarialLoss, LeastSquaresLoss, NonSaturatingLoss  # noqa: E402

JSON_PREFIX = "BENCH_JSON "
COLUMNS = (
    "config",
    "Lightning samples/s",
    "plain samples/s",
    "Lightning overhead %",
    "data samples/s",
    "FLOP/step",
    "fraction of floor",
    "peak RSS",
)

OptimizerFactory = Callable[[Any], torch.optim.Optimizer]


@dataclass
class Family:
    """Everything one benchmark configuration needs, built fresh (seeded) per run.

    Attributes:
        generator, discriminator: the networks, as the family's config builds them.
        loss: the adversarial loss strategy.
        g_optimizer, d_optimizer: optimizer factories taking parameters, as the config's.
        reconstruction_weight, discriminator_loss_weight: as ``GAN``'s arguments of the same names.
        batch: one fixed training batch (``{"real": ...}`` plus ``"condition"`` when paired).
        datamodule: builds the family's DataModule on bundled data, or ``None`` to skip the data benchmark.
    """

    generator: nn.Module
    discriminator: nn.Module
    loss: AdversarialLoss
    g_optimizer: OptimizerFactory
    d_optimizer: OptimizerFactory
    batch: dict[str, Tensor]
    reconstruction_weight: float = 0.0
    discriminator_loss_weight: float = 1.0
    datamodule: Callable[[], Any] | None = None


@dataclass(frozen=True)
class Config:
    """A named benchmark configuration: ``build(scale)`` returns its :class:`Family`; ``scale`` < 1 shrinks it for
    smoke tests (channels and sizes), 1 is the real size."""

    name: str
    description: str
    batch_size: int
    build: Callable[[float], Family] = field(repr=False)
    slow: bool = False


def _adam(lr: float = 2e-4) -> OptimizerFactory:
    return functools.partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.999))  # Radford et al. 2016; pix2pix reference


def _rmsprop(lr: float) -> OptimizerFactory:
    return functools.partial(torch.optim.RMSprop, lr=lr, alpha=0.9)  # SEGAN: TF RMSProp decay 0.9


def _images(n: int, channels: int, size: int) -> Tensor:
    return torch.rand(n, channels, size, size) * 2 - 1


def _dcgan(batch_size: int, scale: float) -> Family:
    from lightning_gan.data.digits import DigitsDataModule
    from lightning_gan.nets.dcgan import DCGANDiscriminator, DCGANGenerator

    size, width = (32, 32) if scale >= 1 else (8, 4)
    return Family(  # configs/dcgan_digits.yaml
        generator=DCGANGenerator(latent_dim=100, out_channels=1, ngf=width, image_size=size),
        discriminator=DCGANDiscriminator(in_channels=1, ndf=width, image_size=size),
        loss=NonSaturatingLoss(),
        g_optimizer=_adam(),
        d_optimizer=_adam(),
        batch={"real": _images(batch_size, 1, size)},
        datamodule=lambda: DigitsDataModule(image_size=size, batch_size=batch_size),
    )


def _pix2pix(batch_size: int, scale: float) -> Family:
    from lightning_gan.data.paired_images import PairedImageDataModule
    from lightning_gan.nets.pix2pix import PatchGANDiscriminator, UnetGenerator

    size, width, downs, workers = (256, 64, 8, 4) if scale >= 1 else (32, 4, 5, 0)
    return Family(  # configs/pix2pix_facades.yaml: unet_256 + 70x70 PatchGAN, vanilla GAN, L1 x 100, D loss x 0.5
        generator=UnetGenerator(3, 3, num_downs=downs, ngf=width, norm="batch", dropout=True),
        discriminator=PatchGANDiscriminator(in_channels=6, ndf=width, n_layers=3, norm="batch"),
        loss=NonSaturatingLoss(),
        g_optimizer=_adam(),
        d_optimizer=_adam(),
        batch={"condition": _images(batch_size, 3, size), "real": _images(batch_size, 3, size)},
        reconstruction_weight=100.0,
        discriminator_loss_weight=0.5,
        datamodule=lambda: PairedImageDataModule(
            str(ROOT / "data" / "pix2pix_demo"),
            direction="BtoA",
            load_size=size + size // 8 if scale < 1 else 286,
            crop_size=size,
            batch_size=batch_size,
            num_workers=workers,  # reference --num_threads 4
            pin_memory=False,
        ),
    )


def _segan(batch_size: int, scale: float, paper: bool) -> Family:
    from lightning_gan.data.speech import NoisyCleanSpeechDataModule
    from lightning_gan.nets.segan import PAPER_CHANNELS, SEGANDiscriminator, SEGANGenerator

    if scale < 1:
        channels, kernel, window = (4, 8, 8), 5, 512
    elif paper:  # configs/segan_voicebank.yaml
        channels, kernel, window = tuple(PAPER_CHANNELS), 31, 16384
    else:  # configs/segan_demo.yaml
        channels, kernel, window = (16, 32, 32, 64, 64, 128), 15, 4096
    lr = 2e-4 if paper else 1e-3
    return Family(
        generator=SEGANGenerator(channels, kernel_size=kernel, latent=True, bias=True),
        discriminator=SEGANDiscriminator(2, channels, kernel_size=kernel, negative_slope=0.3, bias=True, window=window),
        loss=LeastSquaresLoss(),
        g_optimizer=_rmsprop(lr),
        d_optimizer=_rmsprop(lr),
        batch={
            "condition": torch.rand(batch_size, 1, window) * 2 - 1,
            "real": torch.rand(batch_size, 1, window) * 2 - 1,
        },
        reconstruction_weight=100.0,
        datamodule=lambda: NoisyCleanSpeechDataModule(
            str(ROOT / "data" / "speech_demo"),
            window=window,
            hop=window // 2,
            val_speakers=("p005",),
            batch_size=batch_size,
            num_workers=0,  # configs/segan_demo.yaml
            pin_memory=False,
            cache_dir=None,
        ),
    )


CONFIGS: dict[str, Config] = {
    c.name: c
    for c in (
        Config("dcgan", "DCGAN digits quickstart, 32x32, ngf/ndf 32, batch 64", 64, functools.partial(_dcgan, 64)),
        Config("pix2pix_b1", "pix2pix unet_256 + 70x70 PatchGAN, 256x256, batch 1", 1, functools.partial(_pix2pix, 1)),
        Config("pix2pix_b4", "pix2pix unet_256 + 70x70 PatchGAN, 256x256, batch 4", 4, functools.partial(_pix2pix, 4)),
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


# ---------------------------------------------------------------------------------------------------- plain loop
def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class PlainLoop:
    """The GAN step of :meth:`lightning_gan.gan.GAN.training_step` (``n_critic`` 1) in plain PyTorch, no logging."""

    def __init__(self, family: Family, generator: nn.Module, discriminator: nn.Module) -> None:
        self.f = family
        self.g, self.d = generator.train(), discriminator.train()
        self.opt_g = family.g_optimizer(self.g.parameters())
        self.opt_d = family.d_optimizer(self.d.parameters())

    def _discriminate(self, x: Tensor, condition: Tensor | None) -> Tensor:
        return self.d(x if condition is None else torch.cat([condition, x], dim=1))

    def step(self, batch: dict[str, Tensor]) -> float:
        real, condition = batch["real"], batch.get("condition")
        latent_shape = getattr(self.g, "latent_shape", None)
        shape = latent_shape(real.shape[0], condition) if latent_shape is not None else None
        inputs = [t for t in (condition, torch.randn(shape) if shape is not None else None) if t is not None]
        fake = self.g(*inputs)

        _set_requires_grad(self.g, False)
        d_loss = self.f.discriminator_loss_weight * self.f.loss.discriminator_loss(
            self._discriminate(real, condition), self._discriminate(fake.detach(), condition)
        )
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        self.f.loss.after_discriminator_step(self.d)
        _set_requires_grad(self.g, True)

        _set_requires_grad(self.d, False)
        g_loss = self.f.loss.generator_loss(self._discriminate(fake, condition))
        if self.f.reconstruction_weight > 0:
            g_loss = g_loss + self.f.reconstruction_weight * F.l1_loss(fake, real)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        _set_requires_grad(self.d, True)
        return float(g_loss)


# ---------------------------------------------------------------------------------------------------- measurements
class _SameBatch(Dataset):
    """``length`` times the same batch (for a ``batch_size=None`` loader): Lightning's data cost is nil, as plain's."""

    def __init__(self, batch: dict[str, Tensor], length: int) -> None:
        self.batch, self.length = batch, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.batch


def _alternating_timer(plain: PlainLoop, batch: dict[str, Tensor], warmup: int, block: int) -> Any:
    from lightning.pytorch import Callback

    class AlternatingTimer(Callback):
        """Times Lightning batches hook to hook; after each block of them, runs and times as many plain steps."""

        def __init__(self) -> None:
            self.lightning: list[float] = []
            self.plain: list[float] = []
            self._start = 0.0

        def on_train_batch_start(self, *args: Any) -> None:
            self._start = time.perf_counter()

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, b: Any, batch_idx: int) -> None:
            elapsed = time.perf_counter() - self._start
            if batch_idx >= warmup:
                self.lightning.append(elapsed)
            if batch_idx + 1 == warmup or (batch_idx >= warmup and (batch_idx + 1 - warmup) % block == 0):
                for _ in range(warmup if batch_idx + 1 == warmup else block):
                    start = time.perf_counter()
                    plain.step(batch)
                    if batch_idx >= warmup:
                        self.plain.append(time.perf_counter() - start)

    return AlternatingTimer()


def step_flops(family: Family) -> int:
    """FLOPs of one training step (both forwards and backwards; optimizer updates not counted) on copies of the nets."""
    loop = PlainLoop(family, copy.deepcopy(family.generator), copy.deepcopy(family.discriminator))
    with FlopCounterMode(display=False) as counter:
        loop.step(family.batch)
    return int(counter.get_total_flops())


def machine_gflops(size: int = 2048, repeats: int = 5) -> dict[str, float]:
    """Measured fp32 GFLOP/s of a ``size``-square matmul and of a pix2pix-like 4x4 stride-2 convolution (best of
    ``repeats``): the denominator of the floor."""
    torch.manual_seed(0)
    a, b = torch.randn(size, size), torch.randn(size, size)
    conv = nn.Conv2d(128, 256, 4, 2, 1)
    x = torch.randn(4, 128, 64, 64)
    with FlopCounterMode(display=False) as counter:
        conv(x)
    conv_flops = counter.get_total_flops()
    result = {}
    with torch.no_grad():
        for name, fn, flops in (("matmul", lambda: a @ b, 2 * size**3), ("conv", lambda: conv(x), conv_flops)):
            fn()
            best = min(_timed(fn) for _ in range(repeats))
            result[name] = flops / best / 1e9
    return result


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def data_throughput(datamodule: Any, max_batches: int = 30) -> float:
    """Samples/s of the train dataloader alone (first batch excluded: worker start-up), up to ``max_batches``."""
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    iterator: Iterator[Any] = iter(loader)
    next(iterator)
    samples, start = 0, time.perf_counter()
    for i, batch in enumerate(iterator):
        samples += (batch["real"] if isinstance(batch, dict) else batch).shape[0]
        if i + 1 >= max_batches:
            break
    elapsed = time.perf_counter() - start
    return samples / elapsed if samples else float("nan")


def run_config(
    config: Config, steps: int, warmup: int, block: int, scale: float = 1.0, data: bool = True, peak: float = 0.0
) -> dict[str, Any]:
    """Measure one configuration; returns a result row (see :data:`COLUMNS` and :func:`format_row`)."""
    from lightning.pytorch import Trainer

    from lightning_gan.gan import GAN

    torch.manual_seed(0)
    family = config.build(scale)
    if hasattr(family.discriminator, "set_reference"):  # SEGAN's VBN: a fixed reference batch, as its callback sets
        c = family.batch.get("condition")
        family.discriminator.set_reference(torch.cat([c, family.batch["real"]], dim=1) if c is not None else c)
    flops = step_flops(family)
    plain = PlainLoop(family, copy.deepcopy(family.generator), copy.deepcopy(family.discriminator))
    model = GAN(
        family.generator,
        family.discriminator,
        loss=family.loss,
        g_optimizer=family.g_optimizer,
        d_optimizer=family.d_optimizer,
        reconstruction_weight=family.reconstruction_weight,
        discriminator_loss_weight=family.discriminator_loss_weight,
    )
    steps = -(-steps // block) * block  # whole blocks
    timer = _alternating_timer(plain, family.batch, warmup, block)
    trainer = Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[timer],
    )
    loader = DataLoader(_SameBatch(family.batch, warmup + steps), batch_size=None)
    trainer.fit(model, train_dataloaders=loader)
    lightning_s, plain_s = statistics.median(timer.lightning), statistics.median(timer.plain)
    data_rate = data_throughput(family.datamodule()) if data and family.datamodule is not None else float("nan")
    return {
        "config": config.name,
        "description": config.description,
        "batch_size": config.batch_size,
        "steps": len(timer.lightning),
        "lightning_s": lightning_s,
        "plain_s": plain_s,
        "lightning_samples_s": config.batch_size / lightning_s,
        "plain_samples_s": config.batch_size / plain_s,
        "overhead_pct": 100.0 * (lightning_s - plain_s) / plain_s,
        "data_samples_s": data_rate,
        "flops": flops,
        "floor_s": flops / (peak * 1e9) if peak > 0 else float("nan"),
        "fraction_of_floor": flops / (peak * 1e9) / lightning_s if peak > 0 else float("nan"),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# ---------------------------------------------------------------------------------------------------- report
def format_row(r: dict[str, Any]) -> list[str]:
    """One table row (:data:`COLUMNS`) from a :func:`run_config` result."""
    return [
        f"{r['config']} ({r['steps']} steps)",
        f"{r['lightning_samples_s']:.3g} ({r['lightning_s']:.3g} s/step)",
        f"{r['plain_samples_s']:.3g} ({r['plain_s']:.3g} s/step)",
        f"{r['overhead_pct']:+.1f}",
        f"{r['data_samples_s']:.3g}",
        f"{r['flops'] / 1e9:.3g} G",
        f"{r['fraction_of_floor']:.2f} (floor {r['floor_s']:.3g} s)",
        f"{r['peak_rss_mib']:.0f} MiB",
    ]


def markdown_table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table with :data:`COLUMNS`."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(format_row(r)) + " |" for r in results]
    return "\n".join(lines)


def machine_info() -> dict[str, str]:
    """CPU model, cores, RAM and versions, for the report header."""
    import lightning

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        ram = f"{kib / 2**20:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
    }


DOC_TEMPLATE = """# Benchmarks

Training speed of every family on CPU: our Lightning `fit` against a plain PyTorch loop with the same networks,
losses, optimizers and update order; the data pipeline alone; and the distance to the FLOP floor. Produced by
`scripts/benchmark.py` (issue "Performance: benchmark every family against a plain PyTorch loop").

- Machine: {cpu}, {cores} cores, {ram} RAM
- Versions: Python {python}, torch {torch}, lightning {lightning}
- Threads: `torch.set_num_threads({threads})`
- Date (UTC): {date}
- Command: `{command}`
- Measured peak: {gflops} (best of 5); the floor uses the faster, **{peak:.0f} GFLOP/s**

{table}

## How to read it

- **Lightning samples/s**: `batch / median step time` of the real `lightning_gan.gan.GAN` in a CPU `Trainer` (no
  logger, checkpointing, progress bar or validation), each batch timed from `on_train_batch_start` to
  `on_train_batch_end`. The batch is a fixed random tensor, so loading costs nothing; the time between
  `on_train_batch_end` and the next `on_train_batch_start` (the loop's own bookkeeping) is not in it.
- **plain samples/s**: the same step written as a bare PyTorch loop in the script (fresh copies of the networks
  with the same initial weights), without logging and without the finite-loss checks. Both run in one process and
  one `fit`, alternating in blocks of {block} steps after {warmup} warm-up steps each; medians over the measured
  steps (in brackets after the config name).
- **Lightning overhead %**: `(Lightning step - plain step) / plain step`. Differences of a few percent are within
  the noise of a 2-core machine shared with other jobs; negative values mean "no measurable overhead".
- **data samples/s**: the family's DataModule alone on the bundled data (`data/pix2pix_demo`, `data/speech_demo`,
  the scikit-learn digits) at its configured `num_workers` (pix2pix 4, SEGAN 0, digits 0), first batch excluded.
- **FLOP/step**: one training step's forward and backward passes of G and D (`FlopCounterMode`; the optimizer
  updates are not counted). **fraction of floor**: `floor / Lightning step`, where floor = `FLOP/step / peak`; 1.0
  would be a step running entirely at the machine's measured matmul/convolution speed.
- **peak RSS**: `ru_maxrss` of a fresh subprocess that ran only this configuration (both models, their optimizer
  states and the data benchmark), so it is an upper bound for either model alone.
- SEGAN paper runs few measured steps (`--paper-steps`, default 5; about 7+ s per step here), so its figures are the
  least precise.

## Reference figures (same machine, `shared/reference/`)

| model | reference | it/s | samples/s |
|---|---|---|---|
| pix2pix unet_256 + PatchGAN, batch 1 | junyanz 2a7afba, pix2pix.md section 9 | 0.92 | 0.92 |
| pix2pix unet_256 + PatchGAN, batch 4 | junyanz 2a7afba, pix2pix.md section 9 | 0.386 | 1.54 |
| SEGAN paper, window 16384, batch 4 | deNsuh re-implementation (larger D), segan.md section 5 | 0.139 | 0.55 |

Targets of the issue: Lightning overhead <= 2 % of the step; data >= 10x faster than training; pix2pix batch 1
>= 1.3x the reference, i.e. >= 1.2 it/s.
"""


def write_doc(path: Path, results: list[dict[str, Any]], gflops: dict[str, float], args: argparse.Namespace) -> str:
    """Write ``docs/benchmarks.md`` from the results; returns the text."""
    info = machine_info()
    text = DOC_TEMPLATE.format(
        **info,
        threads=args.threads,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        command=" ".join(["python", "scripts/benchmark.py", *sys.argv[1:]]),
        gflops=", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in gflops.items()),
        peak=max(gflops.values()),
        table=markdown_table(results),
        block=args.block,
        warmup=args.warmup,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(CONFIGS), help="configurations to run (default: all)")
    p.add_argument("--steps", type=int, default=10, help="measured steps per loop (rounded up to whole blocks)")
    p.add_argument("--paper-steps", type=int, default=5, help="measured steps for the slow segan_paper")
    p.add_argument("--warmup", type=int, default=3, help="warm-up steps per loop")
    p.add_argument("--block", type=int, default=2, help="steps per alternation block")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--no-data", action="store_true", help="skip the DataModule benchmark")
    p.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="Markdown report to write")
    p.add_argument("--no-write", action="store_true", help="print only; do not write --output")
    p.add_argument("--json", action="store_true", help="(internal) run in this process, print JSON result lines")
    p.add_argument("--peak", type=float, default=0.0, help="(internal) machine peak GFLOP/s measured by the parent")
    args = p.parse_args(argv)
    for name in ("steps", "paper_steps", "block", "threads"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 1:
        raise ValueError(f"--warmup must be >= 1, got {args.warmup}")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    names = args.only or list(CONFIGS)
    if args.json:  # child: measure in this process
        results = []
        for name in names:
            config = CONFIGS[name]
            steps = args.paper_steps if config.slow else args.steps
            r = run_config(config, steps, args.warmup, args.block, data=not args.no_data, peak=args.peak)
            print(JSON_PREFIX + json.dumps(r), flush=True)
            results.append(r)
        return results
    gflops = machine_gflops()
    peak = max(gflops.values())
    print(f"machine peak: {gflops} GFLOP/s", flush=True)
    results = []
    for name in names:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--only", name, "--json", "--peak", str(peak)]
        cmd += [f"--steps={args.steps}", f"--paper-steps={args.paper_steps}", f"--warmup={args.warmup}"]
        cmd += [f"--block={args.block}", f"--threads={args.threads}"] + (["--no-data"] if args.no_data else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        rows = [
            json.loads(line[len(JSON_PREFIX) :]) for line in proc.stdout.splitlines() if line.startswith(JSON_PREFIX)
        ]
        if proc.returncode != 0 or not rows:
            raise RuntimeError(f"benchmark of {name!r} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        results += rows
        print(markdown_table(rows).splitlines()[-1], flush=True)
    print(markdown_table(results))
    if not args.no_write:
        write_doc(Path(args.output), results, gflops, args)
        print(f"wrote {args.output}")
    return results


if __name__ == "__main__":
    main()
