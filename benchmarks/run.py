"""Benchmark every GAN family: our Lightning ``fit`` against a plain PyTorch loop, the data pipeline, the FLOP floor.

For each configuration (``--only`` picks some; default all) this measures, in one process:

- **Lightning**: the real :class:`lightning_gan.gan.GAN` in a CPU ``Trainer`` (no logger, no checkpointing, no
  progress bar, no validation). Each training batch is timed from ``on_train_batch_start`` to
  ``on_train_batch_end`` with ``time.perf_counter`` (synchronous on CPU). The batch is a fixed random tensor, so
  data loading costs nothing here.
- **plain**: a loop written here with fresh copies of the same networks (identical initial weights), the same loss
  objects, optimizers and update order as ``GAN.training_step``: one G forward reused, a D step with D trainable
  and G frozen, then a G step with D frozen. Both use the speed switches the family's shipped config turns on
  (``Family.shipped``: fused Adam for DCGAN and pix2pix, channels_last for DCGAN).
- **reference** (pix2pix): the update of junyanz/pytorch-CycleGAN-and-pix2pix (its layer list, unfused Adam, its
  update order), written by us in ``benchmarks/reference_pix2pix.py``, with its own networks of the same sizes.
- They alternate in blocks inside the same ``fit``: ``--warmup`` Lightning batches, ``--warmup`` plain steps (and
  reference steps), then blocks of ``--block`` of each, so a change in machine load hits all of them. Reported: the
  median over ``--steps`` measured steps each, and same-run ratios. ``tests/benchmarks/test_parity.py`` checks that
  the plain loop and ``GAN.training_step`` compute the same step. The families are the shipped configs, built
  through ``lightning_gan.cli.main([...], run=False)``; only the batch size, the bundled data and the smoke-test
  scale are overridden.
- **data**: the family's DataModule alone on the bundled data (``data/pix2pix_demo``, ``data/speech_demo``, the
  scikit-learn digits), iterating its train dataloader at the configured ``num_workers``.
- **FLOP/step**: one training step (forward and backward of both networks) under
  ``torch.utils.flop_counter.FlopCounterMode``, and the floor ``FLOP / machine peak``; the peak is measured here
  (fp32 GFLOP/s of a large matmul and of a representative convolution, the faster of the two).

Each configuration runs in a fresh subprocess (``python -m benchmarks`` with ``--only NAME --json``) so its peak RSS
(``ru_maxrss``, monotone per process) is its own.

Usage::

    python -m benchmarks                          # everything, printed only (from the repository root)
    python -m benchmarks --write                  # everything, and writes docs/benchmarks.md
    python -m benchmarks --only pix2pix_b1 dcgan
    python -m benchmarks --only segan_paper --paper-steps 5
    python -m benchmarks --only dcgan --scale 0.1 --steps 200 --no-data        # fixed overhead/batch
    python -m benchmarks --accelerator cuda --precision 16-mixed --steps 50 --write   # benchmarks_cuda_16-mixed
    python -m benchmarks --ablate --only dcgan --output /tmp/ablate.md         # cheap-wins ablation (below)
    python -m benchmarks --ablate --only pix2pix_b1 --variants channels_last compile --steps 20

``--ablate`` (issue "Take the cheap wins and measure each one on and off") instead times the plain loop alone in
:data:`VARIANTS`, each switching exactly one thing against the baseline (what ``GAN.training_step`` does today):
channels_last, the optimizer's foreach / fused implementations, ``zero_grad(set_to_none=False)``, D trainable during
G's step, a repeated G forward, ``torch.compile`` (steady state and compile time), and cuDNN autotuning (GPU-only,
listed as not measured). See :func:`ablate_config` for how the timing is kept fair. It writes ``--output`` only when
given (never ``docs/benchmarks.md`` by default).

Targets (issue "Performance: benchmark every family against a plain PyTorch loop"): Lightning overhead <= 2 % of
the step; data >= 10x faster than training; pix2pix batch 1 >= 1.3x the reference's 0.92 it/s (the update of
junyanz/pytorch-CycleGAN-and-pix2pix 2a7afba timed alone on this kind of machine, not in this run).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import functools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.families import CONFIGS, Config, build_family
from benchmarks.loops import Family, LoopOptions, PlainLoop, Run, _SameBatch

ROOT = Path(__file__).resolve().parents[1]

JSON_PREFIX = "BENCH_JSON "
DEFAULT_OUTPUT = str(ROOT / "docs" / "benchmarks.md")
COLUMNS = (
    "config",
    "Lightning samples/s",
    "plain samples/s",
    "Lightning overhead %",
    "reference samples/s (ours / reference)",
    "data samples/s",
    "FLOP/step",
    "fraction of floor",
    "peak RSS",
)

CPU_FP32 = Run()  # the default device and precision


# ---------------------------------------------------------------------------------------------------- measurements
def _alternating_timer(
    plain: PlainLoop, batch: dict[str, Tensor], warmup: int, block: int, run: Run, reference: Any = None
) -> Any:
    from lightning.pytorch import Callback

    class AlternatingTimer(Callback):
        """Times Lightning batches hook to hook; after each block of them, runs and times as many plain steps, then
        (when given) as many steps of the reference's own update."""

        def __init__(self) -> None:
            self.lightning: list[float] = []
            self.plain: list[float] = []
            self.reference: list[float] = []
            self._start = 0.0

        def on_train_batch_start(self, *args: Any) -> None:
            run.sync()
            self._start = time.perf_counter()

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, b: Any, batch_idx: int) -> None:
            run.sync()
            elapsed = time.perf_counter() - self._start
            if batch_idx >= warmup:
                self.lightning.append(elapsed)
            if batch_idx + 1 == warmup or (batch_idx >= warmup and (batch_idx + 1 - warmup) % block == 0):
                for _ in range(warmup if batch_idx + 1 == warmup else block):
                    elapsed = _timed(functools.partial(plain.step, batch), run.sync)
                    if batch_idx >= warmup:
                        self.plain.append(elapsed)
                for _ in range(warmup if batch_idx + 1 == warmup else block) if reference is not None else ():
                    elapsed = _timed(functools.partial(reference.step, batch), run.sync)
                    if batch_idx >= warmup:
                        self.reference.append(elapsed)

    return AlternatingTimer()


def step_flops(family: Family) -> int:
    """FLOPs of one training step (both forwards and backwards; optimizer updates not counted) on copies of the nets."""
    loop = PlainLoop(family, copy.deepcopy(family.generator), copy.deepcopy(family.discriminator))
    with FlopCounterMode(display=False) as counter:
        loop.step(family.batch)
    return int(counter.get_total_flops())


def machine_gflops(size: int = 2048, repeats: int = 5, run: Run = CPU_FP32) -> dict[str, float]:
    """Measured GFLOP/s of a ``size``-square matmul and of a pix2pix-like 4x4 stride-2 convolution (best of
    ``repeats``), on ``run``'s device in its precision (fp32, or the autocast dtype): the denominator of the floor.
    On CUDA the sizes are 4x (matmul) and 8x (conv batch) larger, so the GPU is busy long enough to time."""
    torch.manual_seed(0)
    gpu = run.gpu
    size = size * 4 if gpu else size
    a, b = torch.randn(size, size, device=run.device), torch.randn(size, size, device=run.device)
    conv = nn.Conv2d(128, 256, 4, 2, 1).to(run.device)
    x = torch.randn(32 if gpu else 4, 128, 64, 64, device=run.device)
    with FlopCounterMode(display=False) as counter:
        conv(x)
    conv_flops = counter.get_total_flops()
    result = {}
    with torch.no_grad(), run.autocast():
        for name, fn, flops in (("matmul", lambda: a @ b, 2 * size**3), ("conv", lambda: conv(x), conv_flops)):
            fn()
            best = min(_timed(fn, run.sync) for _ in range(repeats))
            result[name] = flops / best / 1e9
    return result


def _timed(fn: Callable[[], Any], sync: Callable[[], None] = lambda: None) -> float:
    sync()
    start = time.perf_counter()
    fn()
    sync()
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


def lightning_module(family: Family) -> Any:
    """The :class:`~lightning_gan.gan.GAN` that trains ``family`` as its config does (the shipped speed switches on),
    on ``family``'s own networks (copy them first to keep the originals)."""
    from lightning_gan.gan import GAN
    from lightning_gan.objectives import PairedTranslation, Synthesis
    from lightning_gan.training import Speed

    shipped = family.shipped
    weight = family.discriminator_loss_weight
    objective = (
        PairedTranslation(family.loss, family.reconstruction_weight, discriminator_loss_weight=weight)
        if "condition" in family.batch
        else Synthesis(family.loss, discriminator_loss_weight=weight)
    )
    return GAN(
        family.generator,
        family.discriminator,
        objective=objective,
        g_optimizer=functools.partial(family.g_optimizer, **shipped.optimizer_kwargs()),
        d_optimizer=functools.partial(family.d_optimizer, **shipped.optimizer_kwargs()),
        speed=Speed(channels_last=shipped.channels_last),
    )


def run_config(
    config: Config,
    steps: int,
    warmup: int,
    block: int,
    scale: float = 1.0,
    data: bool = True,
    peak: float = 0.0,
    run: Run = CPU_FP32,
) -> dict[str, Any]:
    """Measure one configuration on ``run``'s device and precision; returns a result row (see :data:`COLUMNS` and
    :func:`format_row`). FLOPs are counted on the CPU in fp32 (the same operations in any precision)."""
    from lightning.pytorch import Trainer

    family = build_family(config, scale)
    flops = step_flops(family)
    shipped = family.shipped
    plain = PlainLoop(family, copy.deepcopy(family.generator), copy.deepcopy(family.discriminator), shipped, run)
    batch = {k: v.to(run.device) for k, v in family.batch.items()}
    model = lightning_module(family)
    steps = -(-steps // block) * block  # whole blocks
    reference = None
    if config.reference is not None:
        torch.manual_seed(0)
        reference = config.reference(scale)
        reference.g.to(run.device), reference.d.to(run.device)
    timer = _alternating_timer(plain, batch, warmup, block, run, reference)
    gpu = run.gpu
    if gpu:
        torch.backends.cudnn.benchmark = True  # fixed shapes: autotuned convolutions, for both loops
        torch.cuda.reset_peak_memory_stats()
    trainer = Trainer(
        accelerator="gpu" if gpu else "cpu",
        devices=1,
        precision=run.precision,
        benchmark=True if gpu else None,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[timer],
    )
    loader = DataLoader(_SameBatch(batch, warmup + steps), batch_size=None)
    trainer.fit(model, train_dataloaders=loader)
    lightning_s, plain_s = statistics.median(timer.lightning), statistics.median(timer.plain)
    reference_s = statistics.median(timer.reference) if timer.reference else float("nan")
    data_rate = data_throughput(family.datamodule()) if data and family.datamodule is not None else float("nan")
    return {
        "config": config.name,
        "accelerator": run.accelerator,
        "precision": run.precision,
        "description": config.description,
        "batch_size": config.batch_size,
        "steps": len(timer.lightning),
        "lightning_s": lightning_s,
        "plain_s": plain_s,
        "lightning_samples_s": config.batch_size / lightning_s,
        "plain_samples_s": config.batch_size / plain_s,
        "overhead_pct": 100.0 * (lightning_s - plain_s) / plain_s,
        "reference_s": reference_s,
        "reference_samples_s": config.batch_size / reference_s,
        "vs_reference": reference_s / lightning_s,
        "data_samples_s": data_rate,
        "flops": flops,
        "floor_s": flops / (peak * 1e9) if peak > 0 else float("nan"),
        "fraction_of_floor": flops / (peak * 1e9) / lightning_s if peak > 0 else float("nan"),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if gpu else float("nan"),
    }


# ---------------------------------------------------------------------------------------------------- ablation
@dataclass(frozen=True)
class Variant:
    """One ablation variant: the baseline (``GAN.training_step`` as it is) with exactly one switch flipped.

    Attributes:
        name: the row's name (``--variants``).
        options: the :class:`PlainLoop` switches.
        description: what it changes, for the report.
        images_only: applies to 4-D image batches only.
        gpu_only: not measurable by this CPU benchmark; listed so the table says so.
    """

    name: str
    options: LoopOptions
    description: str
    images_only: bool = False
    gpu_only: bool = False


VARIANTS: tuple[Variant, ...] = (
    Variant("baseline", LoopOptions(), "GAN.training_step today: one G forward, frozen nets, default optimizer"),
    Variant("channels_last", LoopOptions(channels_last=True), "nets and 4-D inputs channels_last", images_only=True),
    Variant("optim_foreach", LoopOptions(foreach=True), "optimizer foreach=True (the CPU default is the for-loop)"),
    Variant("optim_fused", LoopOptions(fused=True), "optimizer fused=True"),
    Variant("set_to_none_off", LoopOptions(set_to_none=False), "zero_grad(set_to_none=False)"),
    Variant("d_grad_on_in_g_step", LoopOptions(freeze_d_in_g_step=False), "D's params trainable in G's step"),
    Variant("repeat_g_forward", LoopOptions(reuse_fake=False), "no_grad G forward for D, a second one for G"),
    Variant("compile", LoopOptions(compile="inductor"), "torch.compile(G), torch.compile(D), inductor"),
    Variant("cudnn_benchmark", LoopOptions(), "torch.backends.cudnn.benchmark = True", gpu_only=True),
)
ABLATION_COLUMNS = (
    "variant",
    "median s/step",
    "samples/s",
    "median vs baseline",
    "min s/step",
    "min vs baseline",
    "verdict",
    "note",
)


def _skip_reason(variant: Variant, family: Family) -> str | None:
    if variant.gpu_only:
        return "not measured: this benchmark runs on CPU; cuDNN autotuning only affects CUDA convolutions"
    if variant.images_only and family.batch["real"].dim() != 4:
        return "not applicable: 1-D audio; channels_last is defined for 4-D (N, C, H, W) tensors only"
    return None


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300] if text else ''}"


def _time_variants(
    loops: dict[str, PlainLoop],
    batch: dict[str, Tensor],
    steps: int,
    warmup: int,
    block: int,
    compile_warmup: int,
    notes: dict[str, str],
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Warm-up step times and measured step times per variant (see :func:`ablate_config`); a variant whose warm-up
    raises is dropped with its error in ``notes``."""
    import torch._inductor.config as inductor_config

    warm: dict[str, list[float]] = {}
    # Compile serially in this process (no pool of compile workers): the compile time is then the same on every
    # run, and no compile work can run in the background of another variant's timed steps.
    with inductor_config.patch(compile_threads=1):
        for name, loop in loops.items():
            try:
                n = compile_warmup if loop.options.compile else warmup
                warm[name] = [_timed(functools.partial(loop.step, batch)) for _ in range(n)]
            except Exception as error:  # e.g. inductor without a working C++ compiler
                notes[name] = f"failed: {_first_line(error)}"
        names = list(warm)
        times: dict[str, list[float]] = {name: [] for name in names}
        for r in range(-(-steps // block)):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times[name] += [_timed(functools.partial(loops[name].step, batch)) for _ in range(block)]
    return warm, times


def ablate_config(
    config: Config,
    variants: tuple[Variant, ...] = VARIANTS,
    steps: int = 10,
    warmup: int = 3,
    block: int = 2,
    compile_warmup: int = 5,
    noise_pct: float = 3.0,
    scale: float = 1.0,
) -> list[dict[str, Any]]:
    """Time the plain loop in every variant on one configuration; returns one result row per variant.

    Every variant gets fresh copies of the same networks (same initial weights) and the same batch. After its own
    warm-up (``compile_warmup`` steps for ``compile``, whose first steps compile), the variants run in rounds of
    ``block`` timed steps each; the order rotates every round, so load drift and cache effects hit all of them.
    Each row holds the median over ``steps`` (rounded up to whole blocks) and its change against ``baseline``.
    """
    if not variants or variants[0].name != "baseline":
        raise ValueError(f"the first variant must be 'baseline', got {[v.name for v in variants]}")
    family = build_family(config, scale)
    notes: dict[str, str] = {}
    loops: dict[str, PlainLoop] = {}
    for v in variants:
        reason = _skip_reason(v, family)
        if reason is not None:
            notes[v.name] = reason
            continue
        try:
            loops[v.name] = PlainLoop(
                family, copy.deepcopy(family.generator), copy.deepcopy(family.discriminator), v.options
            )
        except (TypeError, ValueError, RuntimeError) as error:  # e.g. an optimizer without fused=
            notes[v.name] = f"not supported: {_first_line(error)}"
    warm, times = _time_variants(loops, family.batch, steps, warmup, block, compile_warmup, notes)
    if "baseline" not in times:
        raise RuntimeError(f"the baseline of {config.name} did not run: {notes.get('baseline')}")

    base, base_min = statistics.median(times["baseline"]), min(times["baseline"])
    rows = []
    for v in variants:
        row: dict[str, Any] = {"config": config.name, "variant": v.name, "description": v.description, "steps": 0}
        t = times.get(v.name)
        if t is None:
            row |= dict.fromkeys(("median_s", "samples_s", "change_pct", "min_s", "min_change_pct"), float("nan"))
            row |= {"verdict": notes[v.name].split(":")[0], "note": notes[v.name]}
            rows.append(row)
            continue
        median, fastest = statistics.median(t), min(t)
        change, min_change = 100.0 * (median - base) / base, 100.0 * (fastest - base_min) / base_min
        q1, _, q3 = statistics.quantiles(t, n=4) if len(t) > 1 else (median, median, median)
        note = ""
        if v.options.compile:
            row["compile_s"] = sum(warm[v.name]) - len(warm[v.name]) * median
            note = f"compile: {row['compile_s']:.1f} s once (excess of its {len(warm[v.name])} warm-up steps)"
        row |= {"steps": len(t), "median_s": median, "samples_s": config.batch_size / median, "change_pct": change}
        row |= {"min_s": fastest, "min_change_pct": min_change, "iqr_pct": 100.0 * (q3 - q1) / median}
        row |= {"verdict": _verdict(v.name, change, min_change, noise_pct), "note": note}
        rows.append(row)
    return rows


def _verdict(name: str, change_pct: float, min_change_pct: float, noise_pct: float) -> str:
    """Call a change only when the median and the fastest step agree on it: load from other jobs only ever adds
    time, so the fastest step is the least disturbed estimate and the median the typical one."""
    if name == "baseline":
        return "reference"
    if abs(change_pct) <= noise_pct and abs(min_change_pct) <= noise_pct:
        return f"within noise (median and min within {noise_pct:g} %)"
    low, high = (f"{x:.0f}" for x in sorted((abs(change_pct), abs(min_change_pct))))
    span = f"{low} %" if low == high else f"{low}-{high} %"
    if min(change_pct, min_change_pct) > noise_pct:
        return f"slower by {span}"
    if max(change_pct, min_change_pct) < -noise_pct:
        return f"faster by {span}"
    return "inconclusive (median and min disagree)"


def ablation_table(rows: list[dict[str, Any]]) -> str:
    """One configuration's ablation rows as a Markdown table (:data:`ABLATION_COLUMNS`)."""
    lines = ["| " + " | ".join(ABLATION_COLUMNS) + " |", "|" + "---|" * len(ABLATION_COLUMNS)]
    for r in rows:
        if r["steps"] == 0:
            cells = [r["variant"], "-", "-", "-", "-", "-", r["verdict"], r["note"]]
        else:
            cells = [
                r["variant"],
                f"{r['median_s']:.4g}",
                f"{r['samples_s']:.4g}",
                f"{r['change_pct']:+.1f} %",
                f"{r['min_s']:.4g}",
                f"{r['min_change_pct']:+.1f} %",
                r["verdict"],
                r["note"],
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


ABLATION_TEMPLATE = """# Ablation of the cheap performance wins

The plain PyTorch loop of `benchmarks/run.py` (the step of `GAN.training_step`) with one switch flipped at a
time against the baseline (what `GAN.training_step` does today). Issue "Take the cheap wins and measure each one".

- Machine: {cpu}, {cores} cores, {ram} RAM; threads: `torch.set_num_threads({threads})`
- Versions: Python {python}, torch {torch}, lightning {lightning}
- Date (UTC): {date}
- Command: `{command}`
- {steps} measured steps per variant (median), after {warmup} warm-up steps ({compile_warmup} for `compile`), in
  rounds of {block} steps per variant whose order rotates every round. `median vs baseline` and `min vs baseline`:
  the change of the median and of the fastest step time (negative: faster). Other jobs' load only adds time, so the
  fastest step is the least disturbed figure; the verdict names a change only when both agree beyond {noise:g} %.
  `compile`: compile time is the excess of its warm-up steps over its steady-state median, with a fresh (cold)
  inductor cache and compilation in-process (`compile_threads = 1`).

{tables}
"""


def ablation_markdown(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    """The whole ablation report: header and one table per configuration."""
    tables = "\n\n".join(
        f"## {name}: {CONFIGS[name].description}\n\n{ablation_table(rows)}" for name, rows in results.items()
    )
    return ABLATION_TEMPLATE.format(
        **machine_info(),
        threads=args.threads,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        command=" ".join(["python", "-m", "benchmarks", *sys.argv[1:]]),
        steps=args.steps,
        warmup=args.warmup,
        compile_warmup=args.compile_warmup,
        block=args.block,
        noise=args.noise_pct,
        tables=tables,
    )


def run_ablation(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """``--ablate``: every chosen configuration in this process; prints JSON lines and the tables."""
    # a cold inductor cache of our own, so the reported compile time is the first-run cost and repeatable
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="benchmark_inductor_"))
    chosen = set(args.variants or [v.name for v in VARIANTS]) | {"baseline"}
    variants = tuple(v for v in VARIANTS if v.name in chosen)
    results = {}
    for name in args.only or list(CONFIGS):
        config = CONFIGS[name]
        steps = args.paper_steps if config.slow else args.steps
        rows = ablate_config(config, variants, steps, args.warmup, args.block, args.compile_warmup, args.noise_pct)
        for r in rows:
            print(JSON_PREFIX + json.dumps(r), flush=True)
        print(f"\n## {name}\n{ablation_table(rows)}\n", flush=True)
        results[name] = rows
    if args.output is not None and not args.no_write:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(ablation_markdown(results, args))
        print(f"wrote {args.output}")
    return results


# ---------------------------------------------------------------------------------------------------- report
def format_row(r: dict[str, Any]) -> list[str]:
    """One table row (:data:`COLUMNS`) from a :func:`run_config` result."""
    return [
        f"{r['config']} ({r['steps']} steps)",
        f"{r['lightning_samples_s']:.3g} ({r['lightning_s']:.3g} s/step)",
        f"{r['plain_samples_s']:.3g} ({r['plain_s']:.3g} s/step)",
        f"{r['overhead_pct']:+.1f}",
        f"{r['reference_samples_s']:.3g} ({r['vs_reference']:.2f}x)" if math.isfinite(r["reference_s"]) else "-",
        f"{r['data_samples_s']:.3g}",
        f"{r['flops'] / 1e9:.3g} G",
        f"{r['fraction_of_floor']:.2f} (floor {r['floor_s']:.3g} s)",
        f"{r['peak_rss_mib']:.0f} MiB"
        + (f" ({r['peak_gpu_mib']:.0f} MiB GPU)" if math.isfinite(r.get("peak_gpu_mib", math.nan)) else ""),
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


DOC_TEMPLATE = """# Benchmarks: {where}, `{precision}`

Training speed of every family on {where}: our Lightning `fit` against a plain PyTorch loop with the same networks,
losses, optimizers and update order; the data pipeline alone; and the distance to the FLOP floor. Produced by
`python -m benchmarks` (issue "Performance: benchmark every family against a plain PyTorch loop").

- Machine: {cpu}, {cores} cores, {ram} RAM
- Versions: Python {python}, torch {torch}, lightning {lightning}
- Accelerator: {where}, precision `{precision}`
- Threads: `torch.set_num_threads({threads})`
- Date (UTC): {date}
- Command: `{command}`
- Measured peak: {gflops} (best of 5); the floor uses the faster, **{peak:.0f} GFLOP/s**

{table}

## How to read it

- **Lightning samples/s**: `batch / median step time` of the real `lightning_gan.gan.GAN` in a `Trainer` (no
  logger, checkpointing, progress bar or validation), each batch timed from `on_train_batch_start` to
  `on_train_batch_end`. The batch is a fixed random tensor, so loading costs nothing; the time between
  `on_train_batch_end` and the next `on_train_batch_start` (the loop's own bookkeeping) is not in it. On a GPU
  each timing starts and ends with `torch.cuda.synchronize()`, and cuDNN autotuning (`benchmark=True`) is on.
- **plain samples/s**: the same step written as a bare PyTorch loop in the script (fresh copies of the networks
  with the same initial weights), without logging and without the finite-loss checks. Both use the speed switches
  of the family's shipped config (fused Adam for DCGAN and pix2pix, channels_last for DCGAN; SEGAN's RMSprop has no
  fused kernel and its tensors are 1-D). Both run in one process and
  one `fit`, alternating in blocks of {block} steps after {warmup} warm-up steps each; medians over the measured
  steps (in brackets after the config name; DCGAN measures 5x `--steps`, since its steps are short).
- **reference samples/s** (pix2pix): the update of junyanz/pytorch-CycleGAN-and-pix2pix 2a7afba (its layer list,
  unfused Adam, its update order; `benchmarks/reference_pix2pix.py`), alternating with the two above in the same blocks;
  in brackets, ours / reference from the same run.
- **Lightning overhead %**: `(Lightning step - plain step) / plain step`. Differences of a few percent are within
  the noise of a 2-core machine shared with other jobs; negative values mean "no measurable overhead".
- **data samples/s**: the family's DataModule alone on the bundled data (`data/pix2pix_demo`, `data/speech_demo`,
  the scikit-learn digits) at its configured `num_workers` (pix2pix 4, SEGAN 0, digits 0), first batch excluded.
- **FLOP/step**: one training step's forward and backward passes of G and D (`FlopCounterMode`; the optimizer
  updates are not counted). **fraction of floor**: `floor / Lightning step`, where floor = `FLOP/step / peak`; 1.0
  would be a step running entirely at the machine's measured matmul/convolution speed.
- **peak RSS**: `ru_maxrss` of a fresh subprocess that ran only this configuration (both models, their optimizer
  states and the data benchmark), so it is an upper bound for either model alone; on a GPU, the peak of
  `torch.cuda.max_memory_allocated` beside it.
- SEGAN paper runs few measured steps (`--paper-steps`, default 5; about 7+ s per step here), so its figures are the
  least precise.

## Reference figures (measured separately on this kind of 2-core machine, 2026-11-22; not in this run)

| model | reference | it/s | samples/s |
|---|---|---|---|
| pix2pix unet_256 + PatchGAN, batch 1 | junyanz/pytorch-CycleGAN-and-pix2pix 2a7afba | 0.92 | 0.92 |
| pix2pix unet_256 + PatchGAN, batch 4 | junyanz/pytorch-CycleGAN-and-pix2pix 2a7afba | 0.386 | 1.54 |
| SEGAN paper, window 16384, batch 4 | deNsuh/segan-pytorch 938b6c8 (larger D) | 0.139 | 0.55 |

Targets of the issue: Lightning overhead <= 2 % of the step; data >= 10x faster than training; pix2pix batch 1
>= 1.3x the reference, i.e. >= 1.2 it/s.

## See also

- `docs/benchmarks_ablation.md`: each cheap win (channels_last, foreach / fused Adam, `set_to_none`, D frozen in
  G's step, one G forward, `torch.compile`) measured on and off (`python -m benchmarks --ablate`).
- `docs/benchmarks_ddp.md`: 2-process DDP against one process, and the two DDP strategies against each other
  (`python -m benchmarks.ddp`).
- `docs/benchmarks_<accelerator>_<precision>.md`: this report in other precisions and on GPUs (`--accelerator`,
  `--precision`), e.g. `docs/benchmarks_cpu_bf16-mixed.md`.
"""


def write_doc(path: Path, results: list[dict[str, Any]], gflops: dict[str, float], args: argparse.Namespace) -> str:
    """Write the report (``docs/benchmarks.md`` on the CPU in fp32) from the results; returns the text."""
    info = machine_info()
    text = DOC_TEMPLATE.format(
        **info,
        threads=args.threads,
        where=torch.cuda.get_device_name(0) if args.accelerator == "cuda" else "CPU",
        precision=args.precision,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        command=" ".join(["python", "-m", "benchmarks", *sys.argv[1:]]),
        gflops=", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in gflops.items()),
        peak=max(gflops.values()),
        table=markdown_table(results),
        block=args.block,
        warmup=args.warmup,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def default_output(accelerator: str, precision: str) -> str:
    """``docs/benchmarks.md`` for the CPU in fp32; ``docs/benchmarks_<accelerator>_<precision>.md`` otherwise."""
    if (accelerator, precision) == ("cpu", "32-true"):
        return DEFAULT_OUTPUT
    return str(ROOT / "docs" / f"benchmarks_{accelerator}_{precision}.md")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(CONFIGS), help="configurations to run (default: all)")
    p.add_argument("--steps", type=int, default=10, help="measured steps per loop (rounded up to whole blocks)")
    p.add_argument("--paper-steps", type=int, default=5, help="measured steps for the slow segan_paper")
    p.add_argument("--warmup", type=int, default=3, help="warm-up steps per loop")
    p.add_argument("--block", type=int, default=2, help="steps per alternation block")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--no-data", action="store_true", help="skip the DataModule benchmark")
    p.add_argument("--accelerator", choices=("cpu", "cuda"), default="cpu", help="where both loops train")
    p.add_argument(
        "--precision",
        choices=("32-true", "bf16-mixed", "16-mixed"),
        default="32-true",
        help="Lightning precision, mirrored by the plain loop (16-mixed: CUDA only)",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="< 1 shrinks the networks and inputs to a few channels and pixels, so a step is almost all fixed "
        "per-batch cost: `--only dcgan --scale 0.1 --steps 200 --no-data` measures Lightning's fixed overhead",
    )
    p.add_argument(
        "--output", help="Markdown report to write (default: none, print only; --write: the default docs/ report)"
    )
    p.add_argument("--write", action="store_true", help=f"write the default report ({DEFAULT_OUTPUT} on the CPU)")
    p.add_argument("--no-write", action="store_true", help="print only, even with --output or --write")
    p.add_argument("--ablate", action="store_true", help="time plain-loop variants against the baseline instead")
    p.add_argument(
        "--variants", nargs="+", choices=[v.name for v in VARIANTS], help="--ablate: variants to run (default: all)"
    )
    p.add_argument("--compile-warmup", type=int, default=5, help="--ablate: warm-up steps of the compile variant")
    p.add_argument("--noise-pct", type=float, default=3.0, help="--ablate: |change| %% called 'within noise'")
    p.add_argument("--json", action="store_true", help="(internal) run in this process, print JSON result lines")
    p.add_argument("--peak", type=float, default=0.0, help="(internal) machine peak GFLOP/s measured by the parent")
    args = p.parse_args(argv)
    if args.precision == "16-mixed" and args.accelerator != "cuda":
        raise ValueError("--precision 16-mixed needs --accelerator cuda (fp16 autocast is for GPUs)")
    if args.accelerator == "cuda" and not torch.cuda.is_available():
        raise ValueError("--accelerator cuda: torch sees no CUDA device on this machine")
    if args.ablate and (args.accelerator, args.precision, args.scale) != ("cpu", "32-true", 1.0):
        raise ValueError("--ablate runs on the CPU in 32-true at full scale only")
    if not 0 < args.scale <= 1:
        raise ValueError(f"--scale must be in (0, 1], got {args.scale}")
    for name in ("steps", "paper_steps", "block", "threads", "compile_warmup"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 1:
        raise ValueError(f"--warmup must be >= 1, got {args.warmup}")
    if args.noise_pct < 0:
        raise ValueError(f"--noise-pct must be >= 0, got {args.noise_pct}")
    if args.variants and not args.ablate:
        raise ValueError("--variants needs --ablate")
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    if args.ablate:
        return [row for rows in run_ablation(args).values() for row in rows]
    names = args.only or list(CONFIGS)
    if args.json:  # child: measure in this process
        results = []
        for name in names:
            config = CONFIGS[name]
            steps = args.paper_steps if config.slow else args.steps * config.step_multiplier
            r = run_config(
                config,
                steps,
                args.warmup,
                args.block,
                scale=args.scale,
                data=not args.no_data,
                peak=args.peak,
                run=Run(args.accelerator, args.precision),
            )
            print(JSON_PREFIX + json.dumps(r), flush=True)
            results.append(r)
        return results
    gflops = machine_gflops(run=Run(args.accelerator, args.precision))
    peak = max(gflops.values())
    print(f"machine peak: {gflops} GFLOP/s", flush=True)
    results = []
    for name in names:
        cmd = [sys.executable, "-m", "benchmarks", "--only", name, "--json", "--peak", str(peak)]
        cmd += [f"--steps={args.steps}", f"--paper-steps={args.paper_steps}", f"--warmup={args.warmup}"]
        cmd += [f"--block={args.block}", f"--threads={args.threads}", f"--scale={args.scale}"]
        cmd += [f"--accelerator={args.accelerator}", f"--precision={args.precision}"]
        cmd += ["--no-data"] if args.no_data else []
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        rows = [
            json.loads(line[len(JSON_PREFIX) :]) for line in proc.stdout.splitlines() if line.startswith(JSON_PREFIX)
        ]
        if proc.returncode != 0 or not rows:
            raise RuntimeError(f"benchmark of {name!r} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        results += rows
        print(markdown_table(rows).splitlines()[-1], flush=True)
    print(markdown_table(results))
    if not args.no_write and (args.output or args.write):
        output = args.output or default_output(args.accelerator, args.precision)
        write_doc(Path(output), results, gflops, args)
        print(f"wrote {output}")
    return results


if __name__ == "__main__":
    main()
