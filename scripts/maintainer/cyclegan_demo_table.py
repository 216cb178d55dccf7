"""Score the CycleGAN CPU demo as the CycleGAN paper scores unpaired translation: on data that also has pairs.

For every test pair of ``data/cyclegan_demo`` (``testA/NAME`` a label map, ``testB/NAME`` its true facade), A -> B is
compared with the true B by PSNR, SSIM and L1 (tensors in [-1, 1], torchmetrics, pooled over the split as the
configs' metrics are), for four predictors: the identity (output = A), grey (output = 0), CycleGAN's G_A, and
pix2pix trained on the paired data for the same wall time (the paper's upper bound, Zhu et al. 2017, arXiv
1703.10593, section 5.1). Translations are what ``predict`` writes (:func:`lightning_gan.deploy.api.load_generator`).

Layout: a translation keeps the input's layout when its edges fall where the true B's edges are. ``edge F1`` is the
F-score of the output's edge pixels against the true B's (Sobel magnitude above its 80th percentile per image, a match
within one pixel); ``edge F1 (shuffled)`` scores each output against the true B of another test image, the level of
a facade-like image with the wrong layout.

It also writes a grid: one row per test image, input A | A -> B | B -> A(A -> B) (the cycle) | true B.

Usage::

    python scripts/maintainer/cyclegan_demo_table.py --cyclegan <run>/checkpoints/last.ckpt \\
        --pix2pix <pix2pix run>/checkpoints/last.ckpt --out docs/images/cyclegan_demo_grid.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torchmetrics import MeanAbsoluteError
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from lightning_gan.data.image_folder import list_images, load_image, pil_to_tensor
from lightning_gan.deploy.api import load_generator


def edges(x: torch.Tensor) -> torch.Tensor:
    """Edge pixels of ``x`` (1 x C x H x W): Sobel magnitude of the grey image above its 80th percentile."""
    grey = x.mean(1, keepdim=True)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
    gx, gy = F.conv2d(grey, kx, padding=1), F.conv2d(grey, kx.transpose(2, 3), padding=1)
    magnitude = (gx.square() + gy.square()).sqrt()[..., 1:-1, 1:-1]
    return magnitude > magnitude.flatten().quantile(0.8)


def edge_f1(output: torch.Tensor, truth: torch.Tensor) -> float:
    """F-score of ``output``'s edge pixels against ``truth``'s, a match within one pixel."""
    e_out, e_true = edges(output).float(), edges(truth).float()
    near_true = F.max_pool2d(e_true, 3, 1, 1)
    near_out = F.max_pool2d(e_out, 3, 1, 1)
    precision = (e_out * near_true).sum() / e_out.sum().clamp(min=1)
    recall = (e_true * near_out).sum() / e_true.sum().clamp(min=1)
    return float(2 * precision * recall / (precision + recall).clamp(min=1e-8))


def score(outputs: list[torch.Tensor], targets: list[torch.Tensor]) -> dict[str, float]:
    psnr, ssim, l1 = (
        PeakSignalNoiseRatio(data_range=2.0),
        StructuralSimilarityIndexMeasure(data_range=2.0),
        MeanAbsoluteError(),
    )
    for output, target in zip(outputs, targets, strict=True):
        psnr.update(output, target)
        ssim.update(output, target)
        l1.update(output, target)
    n = len(outputs)
    return {
        "psnr": float(psnr.compute()),
        "ssim": float(ssim.compute()),
        "l1": float(l1.compute()),
        "edge_f1": sum(edge_f1(o, t) for o, t in zip(outputs, targets, strict=True)) / n,
        "edge_f1_shuffled": sum(edge_f1(outputs[i], targets[(i + 1) % n]) for i in range(n)) / n,
    }


def as_tensor(image: Image.Image) -> torch.Tensor:
    return pil_to_tensor(image).unsqueeze(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cyclegan", type=Path, required=True, help="CycleGAN checkpoint (configs/cyclegan_demo.yaml)")
    parser.add_argument("--pix2pix", type=Path, default=None, help="pix2pix checkpoint (configs/pix2pix_demo.yaml)")
    parser.add_argument("--data", type=Path, default=Path("data/cyclegan_demo"))
    parser.add_argument("--out", type=Path, default=Path("docs/images/cyclegan_demo_grid.png"))
    parser.add_argument("--rows", type=int, default=6)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    files = list_images(args.data / "testA")
    inputs = [as_tensor(load_image(p, 3)) for p in files]
    targets = [as_tensor(load_image(args.data / "testB" / p.name, 3)) for p in files]
    cyclegan = load_generator(args.cyclegan, device="cpu")
    a_to_b = [as_tensor(cyclegan.translate(p, direction="AtoB")) for p in files]
    predictors = {
        "identity (output = A)": inputs,
        "grey (output = 0)": [torch.zeros_like(t) for t in targets],
        "CycleGAN (unpaired)": a_to_b,
    }
    if args.pix2pix is not None:
        pix2pix = load_generator(args.pix2pix, device="cpu")
        predictors["pix2pix (paired, upper bound)"] = [as_tensor(pix2pix.translate(p)) for p in files]
    print("| A -> B on testA/testB (20 pairs) | PSNR (dB) | SSIM | L1 | edge F1 | edge F1 (shuffled) |")
    print("|---|---|---|---|---|---|")
    for name, outputs in predictors.items():
        s = score(outputs, targets)
        print(f"| {name} | {s['psnr']:.2f} | {s['ssim']:.3f} | {s['l1']:.3f} | {s['edge_f1']:.3f} | "
              f"{s['edge_f1_shuffled']:.3f} |")  # fmt: skip

    # The cycle: B -> A of the A -> B translations, written as images and read back as predict would.
    rows = []
    for path, x, y, target in list(zip(files, inputs, a_to_b, targets, strict=True))[: args.rows]:
        fake_b = args.out.parent / f".cycle_{path.name}"
        Image.fromarray(((y[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()).save(fake_b)
        cycled = as_tensor(cyclegan.translate(fake_b, direction="BtoA"))
        fake_b.unlink()
        rows.append(torch.cat([x, y, cycled, target], dim=3))
    grid = torch.cat(rows, dim=2)[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(((grid.permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()).save(args.out)
    print(f"grid: {args.out} (input A | A -> B | B -> A(A -> B) | true B)")


if __name__ == "__main__":
    main()
