"""The CycleGAN benchmark row runs both loops, alternating, and reports comparable medians."""

import torch

from benchmarks.cyclegan import run_cyclegan


def test_the_row_times_lightning_and_the_plain_reference_alternately() -> None:
    torch.set_num_threads(1)
    row = run_cyclegan(steps=4, warmup=1, block=2, scale=0.0625)
    assert row["steps"] == 4
    assert row["lightning_s"] > 0 and row["plain_s"] > 0
    assert row["overhead_pct"] == 100.0 * (row["lightning_s"] - row["plain_s"]) / row["plain_s"]
