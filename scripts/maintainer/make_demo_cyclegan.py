"""Derive the unpaired CycleGAN demo (data/cyclegan_demo) from the paired pix2pix demo (data/pix2pix_demo).

The CycleGAN paper scores unpaired translation on data that also has pairs (Zhu et al. 2017, arXiv 1703.10593,
section 5.1: labels <-> photos on Cityscapes, against pix2pix trained on the pairs). This does the same at CPU size:
``trainA/`` holds the label maps (A halves) of the first half of the paired training set and ``trainB/`` the
facade renderings (B halves) of the second half, so no training image of A has its counterpart in B and the pairing
is hidden from CycleGAN. ``testA/`` and ``testB/`` hold both halves of every test pair under the same file name:
CycleGAN never uses that pairing, the demo's scoring does (A -> B against the true B).

    python scripts/maintainer/make_demo_cyclegan.py --src data/pix2pix_demo --out data/cyclegan_demo
"""

import argparse
from pathlib import Path

from PIL import Image


def halves(path: Path) -> tuple[Image.Image, Image.Image]:
    both = Image.open(path).convert("RGB")
    w, h = both.size
    return both.crop((0, 0, w // 2, h)), both.crop((w // 2, 0, w, h))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("data/pix2pix_demo"))
    parser.add_argument("--out", type=Path, default=Path("data/cyclegan_demo"))
    args = parser.parse_args()
    train = sorted((args.src / "train").glob("*.png"))
    half = len(train) // 2
    for split, files, take in (("trainA", train[:half], 0), ("trainB", train[half:], 1)):
        (args.out / split).mkdir(parents=True, exist_ok=True)
        for path in files:
            halves(path)[take].save(args.out / split / path.name)
    for path in sorted((args.src / "test").glob("*.png")):
        a, b = halves(path)
        for split, image in (("testA", a), ("testB", b)):
            (args.out / split).mkdir(parents=True, exist_ok=True)
            image.save(args.out / split / path.name)


if __name__ == "__main__":
    main()
