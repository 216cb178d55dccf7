"""configs/pix2pix_cpu.yaml's translation metrics in a real (tiny) fit: on edge-map inputs it logs SWD, edge-F1 and
edge-F1's chance level and keeps the lowest-SWD checkpoint as "best"; on inputs that are not edge maps (the bundled
demo) it stops before training with one message naming EdgeF1."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lightning_gan.cli import main
from tests.conftest import CONFIGS, console_error
from tests.metrics.test_edges import _edge_input, _scene

pytest.importorskip("skimage")

TINY = [
    "--config", str(CONFIGS / "pix2pix_cpu.yaml"),
    "--data.init_args.load_size", "64", "--data.init_args.crop_size", "64",
    "--model.generator.init_args.num_downs", "6", "--model.generator.init_args.ngf", "4",
    "--model.discriminator.init_args.ndf", "4", "--data.init_args.num_workers", "0",
    "--trainer.logger", "false", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
    "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
]  # fmt: skip


def _edges_dataset(root: Path) -> Path:
    """Aligned A|B pairs, 64 px: A = the detector's black-on-white edge map of B, B = a scene of flat rectangles."""
    for split, seeds in (("train", range(4)), ("val", range(10, 14)), ("test", range(20, 22))):
        (root / split).mkdir(parents=True)
        for seed in seeds:
            b = _scene(seed)
            both = torch.cat([_edge_input(b), b], dim=-1)
            pixels = ((both.permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
            Image.fromarray(np.ascontiguousarray(pixels)).save(root / split / f"{seed:03d}.png")
    return root


def test_fit_logs_swd_and_edge_f1_and_keeps_the_lowest_swd(tmp_path: Path) -> None:
    root = _edges_dataset(tmp_path / "edges")
    runs = tmp_path / "runs"
    cli = main([*TINY, "--data.init_args.root", str(root), "--trainer.default_root_dir", str(runs)], run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    logged = cli.trainer.callback_metrics
    swd = logged["val/swd_lap4_7x7"].item()
    own, chance = logged["val/edge_f1_canny_tol2"].item(), logged["val/edge_f1_canny_tol2_other_input"].item()
    assert swd > 0 and 0 <= own <= 1 and 0 <= chance <= 1
    assert {"val/l1", "val/psnr", "val/ssim"} <= logged.keys()  # the secondary numbers stay
    assert cli.trainer.checkpoint_callback.best_model_score.item() == pytest.approx(swd)  # "best" follows SWD
    (best,) = runs.rglob("best-*.ckpt")
    assert best.name == f"best-epoch=000-swd={swd:.0f}.ckpt"
    # `test`'s HTML report scores edge-F1 per image too (it gets each image's input); the chance level, which
    # compares an output with another image's input, stays in the summary.
    main(["test", *TINY, "--data.init_args.root", str(root), "--trainer.default_root_dir", str(runs),
          "--ckpt_path", str(best)])  # fmt: skip
    (report,) = best.parent.parent.glob("test/*/metrics.json")  # the report stays with the run
    data = json.loads(report.read_text())
    assert "edge_f1_canny_tol2" in data["columns"] and "edge_f1_canny_tol2_other_input" not in data["columns"]
    assert "test/edge_f1_canny_tol2_other_input" in data["summary"]
    assert all(0 <= row["metrics"]["edge_f1_canny_tol2"] <= 1 for row in data["rows"])


def test_inputs_that_are_not_edge_maps_stop_before_training(tmp_path: Path, capsys) -> None:
    args = [*TINY, "--data.init_args.root", "data/pix2pix_demo", "--trainer.default_root_dir", str(tmp_path)]
    error = console_error(["fit", *args], capsys)
    assert error.startswith("EdgeF1 (edge consistency) needs inputs that are edge maps")
    assert not list(tmp_path.rglob("*.ckpt"))


def test_the_papers_ablation_trains_its_three_objectives_through_the_cli(tmp_path: Path) -> None:
    """scripts/maintainer/pix2pix_ablation.py at tiny size: L1 alone, cGAN alone and L1 + cGAN, fit then test."""
    from tests.scripts.test_pix2pix_scripts import _load

    ablation = _load("maintainer/pix2pix_ablation")
    root = _edges_dataset(tmp_path / "edges")
    at = TINY.index("--trainer.logger")
    extra = TINY[2:at] + TINY[at + 2 :]  # the script names the config and turns the logger off itself
    assert ablation.main(["--root", str(root), "--out", str(tmp_path / "out"), "--minutes", "1", "--", *extra]) == 0
    rows = (tmp_path / "out" / "ablation.md").read_text().splitlines()[2:]
    names = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert names == ["mid-grey", "the input edge map", "real photos of training scenes", "the true photos", "l1",
                     "cgan", "l1_cgan"]  # fmt: skip
    assert all("-" not in row.split(" | ")[1:7] for row in rows)  # every test metric was logged
    truth = dict(zip(names, rows, strict=True))["the true photos"].split(" | ")
    assert float(truth[2]) == pytest.approx(1.0)  # the true photos' edges are the input maps: edge-F1 1
    assert ablation.variant_args("l1", 100.0, 600)[:2] == [
        "--model.objective.init_args.reconstruction_weight=100.0",
        "--model.objective.init_args.adversarial_weight=0",
    ]


def test_adversarial_weight_zero_leaves_only_the_reconstruction_term() -> None:
    from lightning_gan.objectives import PairedTranslation

    with pytest.raises(ValueError, match="both 0"):
        PairedTranslation(reconstruction_weight=0.0, adversarial_weight=0.0)
    with pytest.raises(ValueError, match=">= 0"):
        PairedTranslation(adversarial_weight=-1.0)
