"""Smoke test of scripts/benchmark.py: every configuration runs at toy size and yields a complete table row.

No timing assertions: timings on a shared 2-core machine are noise at this size.
"""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "benchmark.py"


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmark_script"] = module
    spec.loader.exec_module(module)
    return module


def test_every_config_yields_a_table_row(benchmark, tmp_path):
    torch.manual_seed(0)
    results = [
        benchmark.run_config(c, steps=2, warmup=1, block=1, scale=0.1, peak=100.0) for c in benchmark.CONFIGS.values()
    ]
    assert [r["config"] for r in results] == ["dcgan", "pix2pix_b1", "pix2pix_b4", "segan_small", "segan_paper"]
    for r in results:
        assert r["steps"] == 2
        assert r["flops"] > 0
        assert r["lightning_samples_s"] > 0 and r["plain_samples_s"] > 0 and r["data_samples_s"] > 0
        assert r["peak_rss_mib"] > 0
    # batch 4 does four times the work of batch 1 on the same networks
    assert results[2]["flops"] == 4 * results[1]["flops"]
    table = benchmark.markdown_table(results).splitlines()
    assert table[0] == "| " + " | ".join(benchmark.COLUMNS) + " |"
    assert len(table) == 2 + len(results)
    assert all(line.count("|") == len(benchmark.COLUMNS) + 1 for line in table)

    args = benchmark.parse_args(["--no-write"])
    text = benchmark.write_doc(tmp_path / "benchmarks.md", results, {"matmul": 100.0, "conv": 50.0}, args)
    assert (tmp_path / "benchmarks.md").read_text() == text
    assert "| pix2pix_b1 (2 steps) |" in text and "0.92" in text and "100 GFLOP/s" in text


def test_plain_loop_updates_both_networks(benchmark):
    torch.manual_seed(0)
    family = benchmark.CONFIGS["pix2pix_b1"].build(0.1)
    loop = benchmark.PlainLoop(family, family.generator, family.discriminator)
    g0 = [p.detach().clone() for p in loop.g.parameters()]
    d0 = [p.detach().clone() for p in loop.d.parameters()]
    loop.step(family.batch)
    assert all(not torch.equal(a, b) for a, b in zip(g0, loop.g.parameters(), strict=True) if b.numel() > 1)
    assert any(not torch.equal(a, b) for a, b in zip(d0, loop.d.parameters(), strict=True))
    assert all(p.requires_grad for p in [*loop.g.parameters(), *loop.d.parameters()])


def test_bad_arguments_fail_early(benchmark):
    with pytest.raises(ValueError, match="--steps"):
        benchmark.parse_args(["--steps", "0"])
