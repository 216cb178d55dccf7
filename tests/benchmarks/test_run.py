"""Smoke test of ``python -m benchmarks`` (``benchmarks/run.py``): every configuration runs at toy size and yields
a complete table row.

No timing assertions: timings on a shared 2-core machine are noise at this size.
"""

import copy
import dataclasses
import math

import pytest
import torch

from benchmarks import run as benchmark


def test_every_config_yields_a_table_row(tmp_path):
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
    assert "Accelerator: CPU, precision `32-true`" in text


def test_plain_loop_updates_both_networks():
    torch.manual_seed(0)
    family = benchmark.CONFIGS["pix2pix_b1"].build(0.1)
    loop = benchmark.PlainLoop(family, family.generator, family.discriminator)
    g0 = [p.detach().clone() for p in loop.g.parameters()]
    d0 = [p.detach().clone() for p in loop.d.parameters()]
    loop.step(family.batch)
    assert all(not torch.equal(a, b) for a, b in zip(g0, loop.g.parameters(), strict=True) if b.numel() > 1)
    assert any(not torch.equal(a, b) for a, b in zip(d0, loop.d.parameters(), strict=True))
    assert all(p.requires_grad for p in [*loop.g.parameters(), *loop.d.parameters()])


def test_bad_arguments_fail_early():
    with pytest.raises(ValueError, match="--steps"):
        benchmark.parse_args(["--steps", "0"])
    with pytest.raises(ValueError, match="16-mixed needs --accelerator cuda"):
        benchmark.parse_args(["--precision", "16-mixed"])
    with pytest.raises(ValueError, match="--ablate runs on the CPU in 32-true at full scale only"):
        benchmark.parse_args(["--ablate", "--precision", "bf16-mixed"])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            benchmark.parse_args(["--accelerator", "cuda"])


def test_each_accelerator_and_precision_writes_its_own_report():
    assert benchmark.default_output("cpu", "32-true") == benchmark.DEFAULT_OUTPUT
    assert benchmark.default_output("cuda", "16-mixed").endswith("docs/benchmarks_cuda_16-mixed.md")
    assert benchmark.default_output("cpu", "bf16-mixed").endswith("docs/benchmarks_cpu_bf16-mixed.md")


def test_bf16_mixed_trains_both_loops_in_bf16():
    """--precision bf16-mixed: the plain loop runs its forwards under bf16 autocast and still updates both networks,
    and the Lightning side runs with the same precision."""
    run = benchmark.Run("cpu", "bf16-mixed")
    row = benchmark.run_config(
        benchmark.CONFIGS["dcgan"], steps=2, warmup=1, block=1, scale=0.1, data=False, peak=100.0, run=run
    )
    assert (row["accelerator"], row["precision"], row["steps"]) == ("cpu", "bf16-mixed", 2)
    assert row["lightning_s"] > 0 and row["plain_s"] > 0
    torch.manual_seed(0)
    family = benchmark.CONFIGS["pix2pix_b1"].build(0.1)
    loop = benchmark.PlainLoop(family, family.generator, family.discriminator, run=run)
    dtypes = []
    loop.g.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
    g0 = [p.detach().clone() for p in loop.g.parameters()]
    d0 = [p.detach().clone() for p in loop.d.parameters()]
    assert math.isfinite(loop.step(family.batch))
    assert dtypes == [torch.bfloat16]
    assert all(p.dtype == torch.float32 for p in loop.g.parameters())  # mixed: fp32 master weights
    assert any(not torch.equal(a, b) for a, b in zip(g0, loop.g.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d0, loop.d.parameters(), strict=True))


def _cheap_variants():
    """All variants, with ``compile`` traced by the ``eager`` backend: the code path without minutes of inductor."""
    return tuple(
        dataclasses.replace(v, options=dataclasses.replace(v.options, compile="eager")) if v.options.compile else v
        for v in benchmark.VARIANTS
    )


@pytest.mark.parametrize(
    ("config", "skipped"),
    [
        ("dcgan", {"cudnn_benchmark": "not measured"}),
        (
            "segan_small",  # 1-D audio, RMSprop: no channels_last, no fused implementation
            {"cudnn_benchmark": "not measured", "channels_last": "not applicable", "optim_fused": "not supported"},
        ),
    ],
)
def test_ablation_yields_one_row_per_variant(tmp_path, config, skipped):
    variants = _cheap_variants()
    rows = benchmark.ablate_config(
        benchmark.CONFIGS[config], variants, steps=2, warmup=1, block=1, compile_warmup=1, scale=0.1
    )
    assert [r["variant"] for r in rows] == [v.name for v in benchmark.VARIANTS]
    for r in rows:
        if r["variant"] in skipped:
            assert r["steps"] == 0 and r["verdict"] == skipped[r["variant"]] and r["note"].startswith(r["verdict"])
        else:
            assert r["steps"] == 2, r
            assert math.isfinite(r["median_s"]) and 0 < r["min_s"] <= r["median_s"] and math.isfinite(r["change_pct"])
            assert r["samples_s"] == pytest.approx(benchmark.CONFIGS[config].batch_size / r["median_s"])
    assert rows[0]["change_pct"] == rows[0]["min_change_pct"] == 0.0 and rows[0]["verdict"] == "reference"
    compiled = next(r for r in rows if r["variant"] == "compile")
    assert math.isfinite(compiled["compile_s"]) and compiled["note"].startswith("compile: ")

    table = benchmark.ablation_table(rows).splitlines()
    assert len(table) == 2 + len(rows)
    assert all(line.count("|") == len(benchmark.ABLATION_COLUMNS) + 1 for line in table)
    args = benchmark.parse_args(["--ablate", "--output", str(tmp_path / "ablate.md")])
    assert f"## {config}: " in benchmark.ablation_markdown({config: rows}, args)


def test_verdict_names_a_change_only_when_median_and_min_agree():
    assert benchmark._verdict("compile", -12.3, -8.0, 3.0) == "faster by 8-12 %"
    assert benchmark._verdict("compile", 4.0, 6.0, 3.0) == "slower by 4-6 %"
    assert benchmark._verdict("compile", 8.8, 8.6, 3.0) == "slower by 9 %"
    assert benchmark._verdict("compile", -2.9, 1.0, 3.0).startswith("within noise")
    assert benchmark._verdict("compile", -10.0, 1.0, 3.0).startswith("inconclusive")
    assert benchmark._verdict("baseline", 0.0, 0.0, 3.0) == "reference"


def test_plain_loop_variants_match_the_baseline_step():
    """Switches that only change speed leave the training unchanged: same G loss after one update of both networks
    (same weights, batch and noise)."""
    family = benchmark.build_family(benchmark.CONFIGS["dcgan"], 0.1)
    losses = {}
    for name in ("baseline", "channels_last", "optim_foreach", "optim_fused", "set_to_none_off", "d_grad_on_in_g_step"):
        options = next(v.options for v in benchmark.VARIANTS if v.name == name)
        loop = benchmark.PlainLoop(
            family, copy.deepcopy(family.generator), copy.deepcopy(family.discriminator), options
        )
        torch.manual_seed(1)
        loop.step(family.batch)
        torch.manual_seed(2)
        losses[name] = loop.step(family.batch)  # after one update of both nets: the optimizers agree too
    for name, value in losses.items():
        assert value == pytest.approx(losses["baseline"], rel=1e-4), name


def test_ablation_arguments_fail_early():
    with pytest.raises(ValueError, match="--variants needs --ablate"):
        benchmark.parse_args(["--variants", "compile"])
    with pytest.raises(ValueError, match="--compile-warmup"):
        benchmark.parse_args(["--ablate", "--compile-warmup", "0"])
    with pytest.raises(ValueError, match="first variant must be 'baseline'"):
        benchmark.ablate_config(benchmark.CONFIGS["dcgan"], benchmark.VARIANTS[1:], scale=0.1)
