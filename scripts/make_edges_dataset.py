"""Build an edges -> photo development set (``edges2*`` style) from freely licensed photographs available offline.

pix2pix's edges2shoes/edges2handbags pair each photograph with an edge map drawn by an edge detector (Isola et al.
2017, https://arxiv.org/abs/1611.07004, section 4.1: HED edges, post-processed to thin lines). This script does the
same with the Canny detector (scikit-image ``feature.canny``) thinned to 1-pixel black lines on white, on square crops
of real photographs, and writes aligned ``A|B`` PNGs (``2*size x size``, A = edge map on the left, B = the photo), so
``direction: AtoB`` trains edges -> photo.

Sources: by default the photographs of Debian's ``plasma-workspace-wallpapers`` package (KDE; each wallpaper's
``metadata.json`` names its author and licence, LGPLv3 for the photographs used here; the package's
``debian/copyright`` says GPL-2+). They are copyleft, so the built set is **not** shipped with lightning_gan: build it
locally. ``--source`` takes the package extracted with ``dpkg -x``; without it the script fetches the package with
``apt-get download`` and extracts it into a temporary folder::

    python scripts/make_edges_dataset.py --out datasets/edges2wallpapers
    python scripts/make_edges_dataset.py --out datasets/edges2wallpapers --source /tmp/plasma   # after dpkg -x

Splits are by **scene**: every crop of one photograph lands in the same split (``PHOTOS`` below), so the test
photographs are scenes that training never saw. Several random square crops are taken per photograph, each of a
random side between ``--min-frac`` and ``--max-frac`` of the photo's short side, resized to ``--size`` (antialiased
bicubic). The result depends only on the arguments (one seed per photo and crop). ``ATTRIBUTION.md`` in the output
lists each photograph, its author, licence and package, and the script prints the trivial baselines (output = A,
output = mid-grey) on each split.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SPLITS = ("train", "val", "test")
PACKAGE = "plasma-workspace-wallpapers"

# Photographs of plasma-workspace-wallpapers (the package's other wallpapers are drawings or renders), and the split
# each scene belongs to: 7 training scenes, 2 validation scenes (for choosing settings), 2 held-out test scenes.
PHOTOS: dict[str, str] = {
    "BytheWater": "train",
    "ColorfulCups": "train",
    "DarkestHour": "train",
    "Grey": "train",
    "Kite": "train",
    "Path": "train",
    "summer_1am": "train",
    "ColdRipple": "val",
    "FallenLeaf": "val",
    "EveningGlow": "test",
    "OneStandsOut": "test",
}


@dataclass(frozen=True)
class Photo:
    """One source photograph.

    Attributes:
        name: the scene's name (used in the output file names).
        path: the image file.
        split: ``"train"``, ``"val"`` or ``"test"``.
        credit: a line of attribution (title, author, licence, source).
    """

    name: str
    path: Path
    split: str
    credit: str


def edge_map(
    photo: np.ndarray, sigma: float = 2.0, low: float = 0.75, high: float = 0.9, min_size: int = 12
) -> np.ndarray:
    """Canny edges of an RGB ``uint8`` image as 1-pixel black lines on white (``uint8`` H x W, 0 or 255).

    Thresholds are quantiles of the gradient magnitude (``use_quantiles``), so every crop gets a similar edge density
    whatever its contrast; edge pieces under ``min_size`` pixels (noise, texture specks) are dropped and the rest
    thinned to one pixel (Canny's non-maximum suppression leaves a few 2-pixel corners).
    """
    from skimage import color, feature, morphology

    gray = color.rgb2gray(photo)
    edges = feature.canny(gray, sigma=sigma, low_threshold=low, high_threshold=high, use_quantiles=True)
    edges = morphology.remove_small_objects(edges, max_size=min_size - 1, connectivity=2)
    edges = morphology.thin(edges)
    return np.where(edges, 0, 255).astype(np.uint8)


def crops(
    image: Image.Image, count: int, size: int, min_frac: float, max_frac: float, seed: list[int]
) -> list[Image.Image]:
    """``count`` random square crops of ``image`` resized to ``size`` x ``size`` (antialiased bicubic)."""
    rng = np.random.default_rng(seed)
    width, height = image.size
    short = min(width, height)
    out = []
    for _ in range(count):
        side = max(size, round(rng.uniform(min_frac, max_frac) * short))
        side = min(side, short)
        left = int(rng.integers(0, width - side + 1))
        top = int(rng.integers(0, height - side + 1))
        out.append(image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC))
    return out


def build(
    photos: list[Photo], out: Path, counts: dict[str, int], size: int, min_frac: float, max_frac: float, seed: int
) -> dict[str, int]:
    """Write ``out/{train,val,test}/<scene>_<k>.png`` (A = edges | B = photo) and ``out/ATTRIBUTION.md``.

    Returns:
        The number of pairs written per split.

    Raises:
        ValueError: a photo has an unknown split, or two photos share a name.
    """
    names = [p.name for p in photos]
    if len(set(names)) != len(names):
        raise ValueError(f"photo names must be unique, got {names}")
    written = dict.fromkeys(SPLITS, 0)
    for photo in photos:
        if photo.split not in SPLITS:
            raise ValueError(f"{photo.path}: split must be one of {SPLITS}, got {photo.split!r}")
        folder = out / photo.split
        folder.mkdir(parents=True, exist_ok=True)
        with Image.open(photo.path) as img:
            rgb = img.convert("RGB")
        photo_seed = [seed, zlib.crc32(photo.name.encode())]
        for k, crop in enumerate(crops(rgb, counts[photo.split], size, min_frac, max_frac, photo_seed)):
            b = np.asarray(crop)
            a = np.repeat(edge_map(b)[:, :, None], 3, axis=2)
            Image.fromarray(np.concatenate([a, b], axis=1)).save(folder / f"{photo.name}_{k:03d}.png")
            written[photo.split] += 1
    lines = [
        "# Attribution",
        "",
        "Edge maps (left) and crops (right) of the photographs below, made by lightning_gan's",
        "`scripts/make_edges_dataset.py`. The crops are derived works of the photographs and keep their licences.",
        "",
        "| scene | split | credit |",
        "|---|---|---|",
        *[f"| {p.name} | {p.split} | {p.credit} |" for p in photos],
        "",
    ]
    (out / "ATTRIBUTION.md").write_text("\n".join(lines), encoding="utf-8")
    return written


def _fetch_package(workdir: Path) -> Path:
    """``apt-get download`` the wallpaper package and ``dpkg -x`` it into ``workdir``; returns the extracted root."""
    subprocess.run(["apt-get", "download", PACKAGE], cwd=workdir, check=True)
    deb = next(workdir.glob(f"{PACKAGE}_*.deb"))
    root = workdir / PACKAGE
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def plasma_photos(root: Path) -> list[Photo]:
    """The :data:`PHOTOS` of an extracted ``plasma-workspace-wallpapers`` (largest JPEG of each), with credits.

    Raises:
        FileNotFoundError: a photograph's folder or image is missing under ``root``.
    """
    wallpapers = root / "usr/share/wallpapers"
    photos = []
    for name, split in PHOTOS.items():
        folder = wallpapers / name
        images = sorted((folder / "contents/images").glob("*.jpg"), key=lambda p: p.stat().st_size)
        if not images:
            raise FileNotFoundError(f"no JPEG under {folder}/contents/images: is {root} an extracted {PACKAGE}?")
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["KPlugin"]
        author = ", ".join(a.get("Name", "?") for a in meta.get("Authors", []))
        credit = (
            f'"{meta.get("Name", name)}" by {author}, licence {meta.get("License", "?")} '
            f"(Debian package {PACKAGE}, {images[-1].name})"
        )
        photos.append(Photo(name=name, path=images[-1], split=split, credit=credit))
    return photos


def baselines(folder: Path) -> tuple[float, float]:
    """PSNR (dB, data range 2 on [-1, 1] as the metrics of the configs) of output = A and output = mid-grey."""
    se_identity, se_grey, count = 0.0, 0.0, 0
    for path in sorted(folder.glob("*.png")):
        both = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 127.5 - 1.0
        half = both.shape[1] // 2
        a, b = both[:, :half], both[:, half:]
        se_identity += float(((a - b) ** 2).sum())
        se_grey += float((b**2).sum())
        count += b.size
    return tuple(10 * np.log10(4.0 / (se / count)) for se in (se_identity, se_grey))  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (train/, val/, test/ inside)")
    parser.add_argument("--source", type=Path, help=f"extracted {PACKAGE} (dpkg -x); default: apt-get download it")
    parser.add_argument("--size", type=int, default=256, help="side of each half (default 256)")
    parser.add_argument("--train", type=int, default=48, help="crops per training photograph (default 48)")
    parser.add_argument("--val", type=int, default=12, help="crops per validation photograph (default 12)")
    parser.add_argument("--test", type=int, default=16, help="crops per test photograph (default 16)")
    parser.add_argument("--min-frac", type=float, default=0.3, help="smallest crop side / short side (default 0.3)")
    parser.add_argument("--max-frac", type=float, default=0.8, help="largest crop side / short side (default 0.8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0 < args.min_frac <= args.max_frac <= 1:
        parser.error(f"expected 0 < --min-frac <= --max-frac <= 1, got {args.min_frac}, {args.max_frac}")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty")
    counts = {"train": args.train, "val": args.val, "test": args.test}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.source if args.source is not None else _fetch_package(Path(tmp))
        photos = plasma_photos(root)
        written = build(photos, args.out, counts, args.size, args.min_frac, args.max_frac, args.seed)
        copyright_file = root / f"usr/share/doc/{PACKAGE}/copyright"
        if copyright_file.is_file():
            shutil.copy(copyright_file, args.out / f"{PACKAGE}.copyright")
    for split in SPLITS:
        identity, grey = baselines(args.out / split)
        print(f"{split}: {written[split]} pairs; PSNR identity {identity:.2f} dB, mid-grey {grey:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
