"""Measure the two DDP strategies for the GAN module against each other, and against one process.

Lightning's ``ddp`` wraps the whole GAN module in one ``DistributedDataParallel``; a GAN's D and G backward passes
each reach one network, so it needs ``find_unused_parameters`` (``ddp_find_unused_parameters_true``). Our
``ddp_separate`` (:mod:`lightning_gan.training.ddp`) wraps G and D in one DDP each instead. This script runs the real
CLI (``python -m lightning_gan fit``) in subprocesses, alternating the strategies, and times each training batch on
rank 0 (``on_train_batch_start`` to ``on_train_batch_end``, which includes the gradient all-reduces; median after
the warm-up batches), with 2 processes on the CPU (gloo) and, for reference, 1 process with the same per-process
batch. Validation, checkpoints, loggers and sample logging are off.

Usage::

    python -m benchmarks.ddp                      # writes docs/benchmarks_ddp.md (from the repository root)
    python -m benchmarks.ddp --only dcgan --repeats 1 --no-write

Every process runs one intra-op thread (``OMP_NUM_THREADS=1``), so 2 processes use the 2 cores of the benchmark
machine without oversubscription.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning
import torch
from lightning.pytorch import Callback

ROOT = Path(__file__).resolve().parents[1]

# name -> (description, CLI arguments after `fit`)
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "dcgan": (
        "DCGAN 32x32 (configs/dcgan_digits.yaml), 0.37 M + 0.17 M parameters, batch 64 per process",
        ["--config", "configs/dcgan_digits.yaml"],
    ),
    "pix2pix": (
        "pix2pix unet_256 + 70x70 PatchGAN (configs/pix2pix/base.yaml + facades.yaml at 256x256 on data/pix2pix_demo), "
        "54.4 M + 2.8 M parameters, batch 1 per process",
        [
            "--config",
            "configs/pix2pix/base.yaml",
            "--config",
            "configs/pix2pix/facades.yaml",
            "--data.init_args.root",
            "data/pix2pix_demo",
            "--data.init_args.direction",
            "AtoB",
            "--data.init_args.num_workers",
            "1",
        ],
    ),
}

STRATEGIES = ("ddp_find_unused_parameters_true", "ddp_separate")


def fit_command(config_args: list[str], strategy: str, devices: int, steps: int, out: Path) -> list[str]:
    """The CLI call: ``steps`` batches (each ``n_critic + 1`` optimizer steps), timing callback only."""
    callbacks = [{"class_path": "benchmarks.ddp.BatchTimer", "init_args": {"out": str(out)}}]
    return [
        sys.executable, "-m", "lightning_gan", "fit", *config_args,
        "--trainer.accelerator", "cpu",
        "--trainer.devices", str(devices),
        "--trainer.strategy", strategy if devices > 1 else "auto",
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", str(steps),
        "--trainer.limit_val_batches", "0",
        "--trainer.num_sanity_val_steps", "0",
        "--trainer.logger", "false",
        "--trainer.enable_checkpointing", "false",
        "--trainer.enable_progress_bar", "false",
        "--trainer.callbacks", json.dumps(callbacks),
        "--trainer.default_root_dir", str(out.parent / "runs"),
    ]  # fmt: skip


class BatchTimer(Callback):
    """Rank 0 writes its per-batch times (seconds) to ``out`` as JSON."""

    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.times: list[float] = []
        self._start = 0.0

    def on_train_batch_start(self, *args: Any) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, *args: Any) -> None:
        self.times.append(time.perf_counter() - self._start)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.global_rank == 0:
            self.out.write_text(json.dumps(self.times))


def run_once(config_args: list[str], strategy: str, devices: int, steps: int, workdir: Path) -> list[float]:
    out = workdir / f"{strategy}-{devices}-{time.monotonic_ns()}.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # `-m` in cwd=ROOT: `benchmarks.ddp.BatchTimer` is importable
    result = subprocess.run(
        fit_command(config_args, strategy, devices, steps, out), cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{strategy} on {devices} process(es) failed:\n{result.stderr[-3000:]}")
    return json.loads(out.read_text())


def measure(name: str, steps: int, warmup: int, repeats: int) -> list[dict[str, Any]]:
    """Alternate 1 process and both strategies ``repeats`` times; median batch time over all measured batches."""
    description, config_args = CONFIGS[name]
    variants = [("1 process", "auto", 1)] + [(s, s, 2) for s in STRATEGIES]
    times: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for label, strategy, devices in variants:
                times[label] += run_once(config_args, strategy, devices, warmup + steps, Path(tmp))[warmup:]
    rows = []
    one = statistics.median(times["1 process"])
    for label, _, devices in variants:
        median = statistics.median(times[label])
        rows.append(
            {
                "config": name,
                "description": description,
                "variant": label,
                "processes": devices,
                "batches": len(times[label]),
                "median_s": median,
                "vs_one_process_pct": 100.0 * (median - one) / one,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# DDP benchmark: one DDP around the GAN module vs one DDP per network",
        "",
        "Produced by `python -m benchmarks.ddp` (`benchmarks/ddp.py`, see its docstring); both strategies run the",
        "same CLI, data, seed and update order, and end with bit-identical weights (`tests/training/test_ddp.py`).",
        "",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPU only, gloo",
        f"- Versions: Python {platform.python_version()}, torch {torch.__version__}, lightning {lightning.__version__}",
        "- Threads: `OMP_NUM_THREADS=1` per process",
        f"- Date (UTC): {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}",
        f"- Command: `{' '.join(['python -m benchmarks.ddp', *sys.argv[1:]])}`",
        "",
        "| config | variant | processes | median s/batch (rank 0) | vs 1 process | batches |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['variant']} | {r['processes']} | {r['median_s']:.4f} | "
            f"{r['vs_one_process_pct']:+.1f} % | {r['batches']} |"
        )
    lines += ["", "Configurations:", ""]
    lines += [f"- **{name}**: {CONFIGS[name][0]}" for name in dict.fromkeys(r["config"] for r in rows)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ddp", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(CONFIGS), help="configurations (default: all)")
    p.add_argument("--steps", type=int, default=10, help="measured batches per run")
    p.add_argument("--warmup", type=int, default=3, help="batches excluded at the start of each run")
    p.add_argument("--repeats", type=int, default=2, help="alternations of the three variants")
    p.add_argument("--output", default=str(ROOT / "docs" / "benchmarks_ddp.md"))
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args(argv)
    rows = [row for name in args.only or list(CONFIGS) for row in measure(name, args.steps, args.warmup, args.repeats)]
    text = markdown(rows)
    print(text)
    if not args.no_write:
        Path(args.output).write_text(text)
    return rows


if __name__ == "__main__":
    main()
