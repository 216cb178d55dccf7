"""CycleGAN's benchmark row: ``GAN.training_step`` with ``CycleConsistency`` against the reference's update in plain
PyTorch (:mod:`benchmarks.reference_cyclegan`), in one process, alternating blocks of steps (as ``benchmarks/run.py``
times the other families), from the same weights and the same batch.

    python -m benchmarks.cyclegan                      # configs/cyclegan/base.yaml's nets, 256x256, batch 1
    python -m benchmarks.cyclegan --scale 0.25 --steps 10 --warmup 2 --block 5    # a quick CPU look

The networks are the base config's (resnet_9blocks x 2, 70x70 PatchGAN x 2); ``--scale`` < 1 shrinks their widths
and the image side for smoke tests.
"""

from __future__ import annotations

import argparse
import copy
import functools
import statistics
from typing import Any

import torch
from torch.utils.data import DataLoader

from benchmarks.loops import _SameBatch
from benchmarks.reference_cyclegan import ReferenceCycleGANStep
from benchmarks.run import CPU_FP32, _alternating_timer


def run_cyclegan(steps: int = 20, warmup: int = 3, block: int = 5, scale: float = 1.0) -> dict[str, Any]:
    """Median seconds per step of Lightning's loop and of the plain reference update; returns the row."""
    from lightning.pytorch import Trainer

    from lightning_gan.gan import GAN
    from lightning_gan.nets import DiscriminatorPair, GeneratorPair
    from lightning_gan.objectives import CycleConsistency

    torch.manual_seed(0)
    ngf, ndf, side = max(4, int(64 * scale)), max(4, int(64 * scale)), max(64, int(256 * scale) // 4 * 4)
    g, d = GeneratorPair(ngf=ngf), DiscriminatorPair(ndf=ndf)
    batch = {"a": torch.rand(1, 3, side, side) * 2 - 1, "b": torch.rand(1, 3, side, side) * 2 - 1}
    g_ref, d_ref = copy.deepcopy(g), copy.deepcopy(d)
    plain = ReferenceCycleGANStep(g_ref.g_a, g_ref.g_b, d_ref.d_a, d_ref.d_b)
    adam = functools.partial(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))
    model = GAN(g, d, CycleConsistency(), g_optimizer=adam, d_optimizer=adam)
    steps = -(-steps // block) * block
    timer = _alternating_timer(plain, batch, warmup, block, CPU_FP32)  # type: ignore[arg-type]  # duck-typed step
    trainer = Trainer(
        accelerator="cpu", devices=1, max_epochs=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
        callbacks=[timer],
    )  # fmt: skip
    trainer.fit(model, train_dataloaders=DataLoader(_SameBatch(batch, warmup + steps), batch_size=None))
    lightning_s, plain_s = statistics.median(timer.lightning), statistics.median(timer.plain)
    return {
        "config": f"cyclegan (ngf {ngf}, ndf {ndf}, {side}x{side}, batch 1)",
        "steps": len(timer.lightning),
        "lightning_s": lightning_s,
        "plain_s": plain_s,
        "overhead_pct": 100.0 * (lightning_s - plain_s) / plain_s,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--block", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    row = run_cyclegan(args.steps, args.warmup, args.block, args.scale)
    print("| config | steps | Lightning s/step | plain s/step | overhead |")
    print("|---|---|---|---|---|")
    print(f"| {row['config']} | {row['steps']} | {row['lightning_s']:.4f} | {row['plain_s']:.4f} | "
          f"{row['overhead_pct']:+.1f}% |")  # fmt: skip
    return row


if __name__ == "__main__":
    main()
