"""Write a sample grid for a pix2pix checkpoint: one row per aligned A|B test image, condition | output | target.

The outputs are what ``predict`` writes for the conditions (:func:`lightning_gan.deploy.api.load_generator`, the same
geometry and resampling), at the images' own size.

Usage::

    python scripts/maintainer/pix2pix_grid.py --ckpt <run>/checkpoints/last.ckpt \\
        --images datasets/edges2wallpapers/test --out docs/images/pix2pix_cpu_test.jpg --every 8 --rows 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

from lightning_gan.data.image_folder import list_images, load_image
from lightning_gan.deploy.api import load_generator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, required=True, help="the checkpoint")
    parser.add_argument("--images", type=Path, required=True, help="folder of aligned A|B images")
    parser.add_argument("--out", type=Path, required=True, help="the grid image to write")
    parser.add_argument("--rows", type=int, default=8, help="how many images (default 8)")
    parser.add_argument("--every", type=int, default=1, help="take every n-th file in name order (default 1)")
    parser.add_argument("--direction", choices=("AtoB", "BtoA"), default="AtoB")
    args = parser.parse_args(argv)
    generator = load_generator(args.ckpt, device="cpu")
    files = list_images(args.images)[:: args.every][: args.rows]
    rows = []
    for path in files:
        both = load_image(path, 3)
        half = both.width // 2
        a, b = both.crop((0, 0, half, both.height)), both.crop((half, 0, both.width, both.height))
        condition, target = (a, b) if args.direction == "AtoB" else (b, a)
        rows.append((condition, generator.translate(condition).convert("RGB"), target))
    width, height = rows[0][0].size
    grid = Image.new("RGB", (3 * width, len(rows) * height), "white")
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            grid.paste(image, (j * width, i * height))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote {args.out}: {len(rows)} rows (condition | output | target) from {args.images}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
