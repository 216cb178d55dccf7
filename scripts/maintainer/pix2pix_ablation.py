"""The pix2pix paper's objective ablation at CPU size: L1 alone, cGAN alone and L1 + cGAN, each trained with
``configs/pix2pix_cpu.yaml``'s settings for the same budget, then scored on held-out scenes.

Isola et al. 2017 ("Image-to-Image Translation with Conditional Adversarial Networks", arXiv 1611.07004, section 4.2,
Table 1) compare the three objectives at equal settings: L1 alone is blurry, cGAN alone sharp but less faithful,
L1 + cGAN both. Here each variant differs only in ``model.objective.init_args``:

* ``l1``: ``adversarial_weight 0`` (D still trains on the same schedule; G ignores it), ``reconstruction_weight`` as
  given (``--l1-weight``, the paper's 100 by default);
* ``cgan``: ``reconstruction_weight 0``;
* ``l1_cgan``: both (the paper's objective).

Each run is ``fit`` for ``--minutes`` (the timed linear decay follows: ``total_seconds`` = the budget), then ``test`` of
its last checkpoint on ``<root>/test`` (or ``--test-root``: for choosing settings, a folder whose ``test`` is the
validation split, so the held-out scenes are looked at only for the final table). The table (stdout and
``<out>/ablation.md``) has the test SWD, edge-F1 and its chance level, PSNR, SSIM and L1 and the wall time of each
fit, below the same numbers for the trivial predictors (mid-grey, the input itself, photos of training scenes, the
true photos); ``--grid`` also writes one sample
grid per variant with ``pix2pix_grid.py``. Extra arguments after ``--`` go to every ``fit`` (e.g. a smaller net for a
smoke run)::

    python scripts/maintainer/pix2pix_ablation.py --root datasets/edges2wallpapers --out runs/ablation --minutes 10
    python scripts/maintainer/pix2pix_ablation.py --root <tiny set> --out /tmp/abl --minutes 0.2 -- \\
        --trainer.limit_val_batches 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VARIANTS: dict[str, dict[str, str]] = {
    "l1": {"adversarial_weight": "0"},
    "cgan": {"reconstruction_weight": "0"},
    "l1_cgan": {},
}
COLUMNS = (
    "test/swd_lap4_7x7",
    "test/edge_f1_canny_tol2",
    "test/edge_f1_canny_tol2_other_input",
    "test/psnr",
    "test/ssim",
    "test/l1",
)


def variant_args(name: str, l1_weight: float, seconds: int) -> list[str]:
    """The command-line overrides of one variant of ``configs/pix2pix_cpu.yaml``."""
    objective = {"reconstruction_weight": str(l1_weight), **VARIANTS[name]}
    args = [f"--model.objective.init_args.{key}={value}" for key, value in objective.items()]
    clock = str(seconds)
    hms = f"00:{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return [
        *args,
        f"--trainer.max_time={hms}",
        f"--model.g_scheduler.init_args.total_seconds={clock}",
        f"--model.d_scheduler.init_args.total_seconds={clock}",
    ]


def run_variant(name: str, args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    """fit then test one variant in-process; returns its test metrics and the fit's wall time."""
    from lightning_gan.cli import main

    seconds = max(1, round(args.minutes * 60))
    common = ["--config", str(args.config), f"--data.init_args.root={args.root}", "--trainer.logger=false"]
    root_dir = args.out / name
    fit = main(
        [*common, *variant_args(name, args.l1_weight, seconds), f"--trainer.default_root_dir={root_dir}", *extra],
        run=False,
    )
    start = time.perf_counter()
    fit.trainer.fit(fit.model, datamodule=fit.datamodule)
    wall = time.perf_counter() - start
    ckpt = next(root_dir.rglob("checkpoints/last.ckpt"))
    test_root = args.test_root or args.root
    tested = main(
        [*common, f"--data.init_args.root={test_root}", f"--trainer.default_root_dir={root_dir}", *extra],
        run=False,
    )
    tested.trainer.test(tested.model, datamodule=tested.datamodule, ckpt_path=str(ckpt))
    metrics = {k: float(v) for k, v in tested.trainer.callback_metrics.items()}
    if args.grid:
        grid = args.out / f"{name}_test.jpg"
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("pix2pix_grid.py")), "--ckpt", str(ckpt), "--images",
             str(Path(test_root) / "test"), "--out", str(grid), "--every", "9", "--rows", "8"],
            check=True,
        )  # fmt: skip
    return {"wall_s": wall, "ckpt": str(ckpt), **metrics}


def baselines(folder: Path, train: Path | None = None) -> dict[str, dict[str, Any]]:
    """The trivial predictors of issue #29 scored like the runs' ``test``, on the aligned A|B pairs of ``folder`` at
    their own size: mid-grey, the input edge map itself, real photographs of other scenes (as many photos of the
    training pairs in ``train``, spread over it; realistic, wrong structure) and the true photographs (SWD's sampling
    floor: two draws of patches from the same images). SWD compares sets, so photos of other scenes must come from
    another set: the targets in another order would be the same set."""
    import numpy as np
    import torch
    from torchmetrics import MeanAbsoluteError
    from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

    from lightning_gan.data.image_folder import list_images, load_image
    from lightning_gan.metrics import EdgeF1, SlicedWassersteinDistance

    def tensor(image: Any) -> torch.Tensor:
        return torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1) / 127.5 - 1.0

    a, b = [], []
    for path in list_images(folder):
        both = load_image(path, 3)
        half = both.width // 2
        a.append(tensor(both.crop((0, 0, half, both.height))))
        b.append(tensor(both.crop((half, 0, both.width, both.height))))
    inputs, targets = torch.stack(a), torch.stack(b)
    predictors = {"mid-grey": torch.zeros_like(targets), "the input edge map": inputs}
    if train is not None:
        files = list_images(train)
        files = files[:: max(1, len(files) // len(targets))][: len(targets)]
        photos = []
        for path in files:
            both = load_image(path, 3)
            photos.append(tensor(both.crop((both.width // 2, 0, both.width, both.height))))
        if len(photos) == len(targets) and photos[0].shape == targets[0].shape:
            predictors["real photos of training scenes"] = torch.stack(photos)
    predictors["the true photos"] = targets
    out: dict[str, dict[str, Any]] = {}
    for name, outputs in predictors.items():
        metrics = {
            "test/swd_lap4_7x7": SlicedWassersteinDistance(),
            "test/edge_f1_canny_tol2": EdgeF1(),
            "test/edge_f1_canny_tol2_other_input": EdgeF1(against="another_input"),
            "test/psnr": PeakSignalNoiseRatio(data_range=2.0),
            "test/ssim": StructuralSimilarityIndexMeasure(data_range=2.0),
            "test/l1": MeanAbsoluteError(),
        }
        for start in range(0, len(targets), 4):  # batches of 4, as the config's eval_batch_size
            o, t, c = (x[start : start + 4] for x in (outputs, targets, inputs))
            for key, metric in metrics.items():
                metric.update(o, t, condition=c) if "edge" in key else metric.update(o, t)
        out[name] = {"wall_s": 0.0, **{k: float(m.compute()) for k, m in metrics.items()}}
    return out


def table(results: dict[str, dict[str, Any]]) -> str:
    head = "| objective | " + " | ".join(c.removeprefix("test/") for c in COLUMNS) + " | fit wall (s) |"
    rows = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for name, r in results.items():
        cells = [f"{r[c]:.3f}" if c in r else "-" for c in COLUMNS]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {r['wall_s']:.0f} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="aligned A|B set with train/ val/ test/")
    parser.add_argument("--test-root", type=Path, help="the set whose test/ split is scored (default: --root)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the runs, the table and the grids")
    parser.add_argument("--config", type=Path, default=Path("configs/pix2pix_cpu.yaml"))
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget of each variant (default 10)")
    parser.add_argument("--l1-weight", type=float, default=100.0, help="L1 weight of l1 and l1_cgan (paper: 100)")
    parser.add_argument("--only", nargs="+", choices=sorted(VARIANTS), help="run only these variants")
    parser.add_argument("--grid", action="store_true", help="write <out>/<variant>_test.jpg sample grids")
    parser.add_argument("--no-baselines", action="store_true", help="leave the trivial predictors' rows out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    test_split = Path(args.test_root or args.root) / "test"
    results = {} if args.no_baselines else baselines(test_split, Path(args.root) / "train")
    results |= {name: run_variant(name, args, extra) for name in (args.only or VARIANTS)}
    text = table(results)
    (args.out / "ablation.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
