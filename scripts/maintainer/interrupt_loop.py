"""Interrupt a real fit at random moments, resume it each time, and compare its history with an uninterrupted run.

    python scripts/maintainer/interrupt_loop.py OUT --interrupts 8 --seed 0 -- --config configs/dcgan_digits.yaml \
        --trainer.max_epochs 8 --trainer.limit_train_batches 20

Each leg runs ``python -m lightning_gan fit`` in a subprocess, sends SIGINT or SIGTERM (alternating) after a random
delay, and the next leg resumes from the run's ``last.ckpt``; after the last interrupt one leg runs to the end. The
uninterrupted run uses the same arguments. Compared: the final ``global_step``, the training rows and their step
axis, and the validated epochs, from ``metrics.csv`` (CSV logger) or the offline W&B run file(s) (W&B logger).
Prints one JSON object. A maintainer's check (docs/training.md quotes its result), not a test: the moments are
random; ``tests/training/test_interrupts.py`` covers each kind of moment deterministically.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _leg(root: Path, args: list[str], delay: float | None, signum: int) -> int:
    command = [sys.executable, "-m", "lightning_gan", "fit", *args, "--trainer.default_root_dir", str(root)]
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as process:  # fmt: skip
        if delay is not None:
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signum)
        return process.wait()


def _last(root: Path) -> Path | None:
    found = sorted(root.rglob("checkpoints/last.ckpt"))
    return found[0] if found else None


def _history(root: Path) -> tuple[list[int], list[int]]:
    """(training steps, validated epochs) from metrics.csv or the W&B offline run files."""
    metrics = sorted(root.rglob("metrics.csv"))
    if metrics:
        with metrics[0].open(newline="") as f:
            rows = list(csv.DictReader(f))
        train = [int(r["step"]) for r in rows if any(k.startswith("train/") and v for k, v in r.items())]
        val = [int(r["epoch"]) for r in rows if any(k.startswith("val/") and v for k, v in r.items())]
        return train, val
    from tests import wandb_records

    train, val = [], []
    for path in sorted(root.rglob("run-*.wandb"), key=lambda p: p.stat().st_mtime):
        for row in wandb_records.history(path):
            if any(k.startswith("train/") for k in row):
                train.append(int(row["trainer/global_step"]))
            if any(k.startswith("val/") for k in row):
                val.append(int(row["epoch"]))
    return train, val


def _summary(root: Path) -> dict[str, Any]:
    last = _last(root)
    checkpoint = torch.load(last, map_location="cpu", weights_only=True) if last else {}
    train, val = _history(root)
    return {"global_step": checkpoint.get("global_step"), "train_rows": len(train), "train_steps": train,
            "validated_epochs": val}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--interrupts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min_delay", type=float, default=8.0, help="seconds; start-up takes a few")
    parser.add_argument("--max_delay", type=float, default=20.0)
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    fit_args = argv[split + 1 :]  # the fit's own arguments, after `--`
    rng = random.Random(args.seed)
    started = time.time()
    assert _leg(args.out / "straight", fit_args, None, 0) == 0
    legs = []
    interrupted = args.out / "interrupted"
    for i in range(args.interrupts):
        last = _last(interrupted)
        resume = ["--ckpt_path", str(last)] if last else []
        signum = (signal.SIGINT, signal.SIGTERM)[i % 2]
        delay = rng.uniform(args.min_delay, args.max_delay)
        status = _leg(interrupted, fit_args + resume, delay, signum)
        legs.append({"signal": signal.Signals(signum).name, "after_s": round(delay, 1), "exit": status})
    last = _last(interrupted)
    status = _leg(interrupted, fit_args + (["--ckpt_path", str(last)] if last else []), None, 0)
    straight, resumed = _summary(args.out / "straight"), _summary(interrupted)
    report = {
        "legs": legs, "final_exit": status, "straight": {k: v for k, v in straight.items() if k != "train_steps"},
        "interrupted": {k: v for k, v in resumed.items() if k != "train_steps"},
        "same_step_axis": straight["train_steps"] == resumed["train_steps"],
        "same_validated_epochs": straight["validated_epochs"] == resumed["validated_epochs"],
        "wall_s": round(time.time() - started),
    }  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
