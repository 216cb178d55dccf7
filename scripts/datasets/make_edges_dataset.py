"""Build an edges -> photo development set (``edges2*`` style) from freely licensed photographs available offline.

pix2pix's edges2shoes/edges2handbags pair each photograph with an edge map drawn by an edge detector (Isola et al.
2017, https://arxiv.org/abs/1611.07004, section 4.1: HED edges, post-processed to thin lines). This script does the
same with the Canny detector (scikit-image ``feature.canny``) thinned to 1-pixel black lines on white, on square crops
of real photographs, and writes aligned ``A|B`` PNGs (``2*size x size``, A = edge map on the left, B = the photo), so
``direction: AtoB`` trains edges -> photo.

Sources, each a package of desktop wallpapers made of photographs:

* Debian's ``plasma-workspace-wallpapers`` (KDE): the 11 photographs of ``PHOTOS`` below; each wallpaper's
  ``metadata.json`` names its author and licence (LGPLv3 for these; the package's ``debian/copyright`` says GPL-2+).
* Ubuntu's ``ubuntu-wallpapers-<release>`` packages (``UBUNTU_PACKAGES``, 22.04.4-0ubuntu1, from
  archive.ubuntu.com): the winners of Ubuntu's Free Culture Showcase, one photographer each; ``debian/copyright``
  gives each file's author and licence (DEP-5). Used: every image under a Creative Commons licence or CC0 except the
  ``NOT_PHOTOGRAPHS`` (drawings, renders, the release mascots), about 250 photographs. Images under the Unsplash
  licence, or any licence not in ``FREE_LICENCES``, are left out.

The photographs are copyleft or attribution-licensed, so the built set is **not** shipped with lightning_gan: build it
locally. ``--plasma`` / ``--ubuntu`` take packages already extracted with ``dpkg -x`` (all the Ubuntu packages into one
folder); without them the script downloads the packages (``apt-get download`` for Debian's, the archive's pool URL
for Ubuntu's) and extracts them into a temporary folder. ``--no-ubuntu`` builds the plasma-only set::

    python scripts/datasets/make_edges_dataset.py --out datasets/edges2wallpapers
    python scripts/datasets/make_edges_dataset.py --out datasets/edges2wallpapers \\
        --plasma /tmp/plasma --ubuntu /tmp/ubuntu

Splits are by **scene**: every crop of one photograph lands in the same split, so the test photographs are scenes
that training never saw. The plasma photographs keep the split of ``PHOTOS``; an Ubuntu photograph's split is fixed by
a hash of its file name (:func:`split_of`: 10 % test, 10 % validation, the rest training), so it does not depend on
which other photographs are present. Several random square crops are taken per photograph, each of a
random side between ``--min-frac`` and ``--max-frac`` of the photo's short side, resized to ``--size`` (antialiased
bicubic). The result depends only on the arguments (one seed per photo and crop). ``ATTRIBUTION.md`` in the output
lists each photograph, its author, licence and package, and the script prints the trivial baselines (output = A,
output = mid-grey) on each split.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

SPLITS = ("train", "val", "test")
PACKAGE = "plasma-workspace-wallpapers"

UBUNTU_POOL = "http://archive.ubuntu.com/ubuntu/pool"
UBUNTU_VERSION = "22.04.4-0ubuntu1"
#: The Ubuntu wallpaper packages of one photographer-contest release each, and their archive component.
UBUNTU_PACKAGES: dict[str, str] = {
    f"ubuntu-wallpapers-{release}": "main" if release == "jammy" else "universe"
    for release in (
        *("karmic", "lucid", "maverick", "natty", "oneiric", "precise", "quantal", "raring", "saucy", "trusty"),
        *("utopic", "vivid", "wily", "xenial", "yakkety", "zesty", "artful", "bionic", "cosmic", "disco", "eoan"),
        *("focal", "groovy", "hirsute", "impish", "jammy"),
    )
}
#: Licences of the Ubuntu images used (DEP-5 short names of their debian/copyright).
FREE_LICENCES = ("CC0", "CC-BY-2.0", "CC-BY-3.0", "CC-BY-4.0", "CC-BY-SA-2.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0")
#: Images of the Ubuntu packages that are not photographs (drawings, renders, mascots, abstract compositions), picked
#: by looking at every image once.
NOT_PHOTOGRAPHS = frozenset(
    {
        "150305-cinqAA_by_Pierre_Cante.jpg",
        "160218-deux-two_by_Pierre_Cante.jpg",
        "80s_Disco_Dingo_Simulation_by_Abubakar_NK.jpg",
        "Aardvark_Wallpaper_Grey_4096x2304.png",
        "Abstract_Painting_Photo_by_Pierre_Châtel-Innocenti.jpg",
        "Abstract_Ubuntu_by_Marek_Koteluk.jpg",
        "Aubergine_Sea_by_Wyatt_Kirby.jpg",
        "Beaver_Wallpaper_Grey_4096x2304.png",
        "Black_hole_by_Marek_Koteluk.jpg",
        "Blue_by_dariuskws.jpg",
        "BusquedaNocturna.jpg",
        "Cacomixtle_Ubunteño_by_Carlos_and_Paula_Morales.jpg",
        "Cuttlefish_Wallpaper_Grey_4096x2304.png",
        "Dingo_Wallpaper_Grey_4096x2304.png",
        "Disco_Dingo_Alt_Default_by_Abubakar_NK.png",
        "Encounter_by_Lazardjin.jpg",
        "Ermine_Wallpaper_Grey_4096x2304.png",
        "Ermine_lines_by_Gustavo_Brenner.png",
        "Flight_dive_by_Nicolas_Silva.png",
        "Focal-Fossa_WP_4096x2304_GREY.png",
        "Gorilla_Wallpaper_Grey_4096x2304.png",
        "Hirsute-Hippo_WP_4096x2304_Grey.png",
        "Holes_by_FireCobold.jpg",
        "I_am_a_Saucy_Salamander..._by_Juan_Pablo_Lauriente.jpg",
        "Impish-Indri_WP_4096x2304_Grey.png",
        "Jammy-Jellyfish_WP_4096x2304_Grey.png",
        "JardinPolar_by_CarmenGloria_Gonzalez.jpg",
        "Optical_Fibers_in_Dark_by_Elena_Stravoravdi.jpg",
        "Precise_Pangolin_by_Vlad_Gerasimov.jpg",
        "Saucy_Salamander_Abstract_by_José_Vera_alcivar.jpg",
        "Stalking_Ocelot_by_Sayantan_Chaudhuri.jpg",
        "Stop_the_light_by_Mato_Rachela.jpg",
        "This_Is_Bionic_Beaver_by_Pierre_Cante.jpg",
        "Trazo_solitario_by_Julio_Diliegros.jpg",
        "Tri_Narwhal_by_momez.jpg",
        "Ubuntu_80s_glitch_by_Abubakar_NK.jpg",
        "Ubuntu_gel_by_Midge_Mantissa_Sinnaeve.jpg",
        "Utopic_Unicorn__by_Bedis_ElAchКche.jpg",  # noqa: RUF001 (the file's name has a Cyrillic Ka)
        "Variations-On-Natty-Narwhal-1_by_madeinkobaia.jpg",
        "Xerus_Wallpaper_Grey_4096x2304.png",
        "Yak_Wallpaper_Grey_4096x2304.png",
        "Zapus_Wallpaper_Grey_4096x2304.png",
        "canvas_by_roytanck.jpg",
        "hardy_wallpaper_uhd.png",
        "jj_dark_by_Hiking93.jpg",
        "jj_light_by_Hiking93.jpg",
        "there_is_something_human_in_that_stuff_by_Pierre_Cante.jpg",
        "touch_de_vert_by_François_Cante.jpg",
        "ubuntu16_10_by_Khoir_Rudin.png",
        "ubuntu_wallpaper_16_10_02_by_screen_name_007.jpg",
    }
)

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
        "`scripts/datasets/make_edges_dataset.py`. The crops are derived works of the photographs and keep their",
        "licences.",
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


def split_of(name: str) -> str:
    """The split of an Ubuntu photograph, from a hash of its file name: 10 % test, 10 % validation, 80 % training."""
    bucket = zlib.crc32(name.encode()) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def dep5_licences(text: str) -> list[tuple[list[str], str]]:
    """``(file patterns, licence short name)`` of each ``Files:`` paragraph of a DEP-5 ``debian/copyright``.

    Each line of a ``Files`` field is read as one pattern (not split at spaces: the Ubuntu packages list one file per
    line, and some of their names contain a space where the file on disk has ``_``).
    """
    paragraphs = []
    for paragraph in text.split("\n\n"):
        fields: dict[str, list[str]] = {}
        key = None
        for line in paragraph.splitlines():
            if line[:1].isspace() and key is not None:
                fields[key].append(line.strip())
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = [value.strip()]
        if "Files" in fields and "License" in fields:
            # One pattern per line: the Ubuntu file lists one name per line, and some names contain a space.
            paragraphs.append(([p for p in fields["Files"] if p], fields["License"][0]))
    return paragraphs


def licence_of(name: str, paragraphs: list[tuple[list[str], str]]) -> str | None:
    """The licence of file ``name``: the last matching paragraph wins (DEP-5). Spaces in patterns match ``_``."""
    found = None
    for patterns, licence in paragraphs:
        if any(fnmatch.fnmatchcase(name, p.replace(" ", "_")) for p in patterns):
            found = licence
    return found


def ubuntu_photos(root: Path) -> list[Photo]:
    """The photographs of the Ubuntu wallpaper packages extracted (``dpkg -x``) into ``root``, with credits.

    Each package lists its images in ``usr/share/gnome-background-properties/<release>-wallpapers.xml`` (title and
    file); the licence comes from ``debian/copyright``. Images outside :data:`FREE_LICENCES` and the
    :data:`NOT_PHOTOGRAPHS` are skipped.

    Raises:
        FileNotFoundError: ``root`` holds no Ubuntu wallpaper package.
    """
    lists = sorted((root / "usr/share/gnome-background-properties").glob("*-wallpapers.xml"))
    copyrights = sorted((root / "usr/share/doc").glob("ubuntu-wallpapers-*/copyright"))
    if not lists or not copyrights:
        raise FileNotFoundError(f"no ubuntu-wallpapers-* package extracted under {root}")
    paragraphs = dep5_licences(copyrights[0].read_text(encoding="utf-8"))
    photos: dict[str, Photo] = {}
    for listing in lists:
        release = listing.name.removesuffix("-wallpapers.xml")
        for entry in ET.parse(listing).getroot().iter("wallpaper"):
            filename, title = entry.findtext("filename"), entry.findtext("name")
            path = root / str(filename).lstrip("/") if filename else None
            if path is None or path.suffix.lower() not in (".jpg", ".jpeg", ".png") or not path.is_file():
                continue
            licence = licence_of(path.name, paragraphs)
            if path.name in NOT_PHOTOGRAPHS or licence not in FREE_LICENCES:
                continue
            scene = "".join(c if c.isascii() and c.isalnum() else "_" for c in path.stem)
            author = path.stem.split("_by_", 1)[1].replace("_", " ") if "_by_" in path.stem else "(see copyright)"
            credit = (
                f'"{title}" by {author}, licence {licence} (Ubuntu package ubuntu-wallpapers-{release}, {path.name})'
            )
            photos.setdefault(scene, Photo(name=scene, path=path, split=split_of(path.name), credit=credit))
    return [photos[k] for k in sorted(photos)]


def _fetch_ubuntu(workdir: Path) -> Path:
    """Download every :data:`UBUNTU_PACKAGES` from the Ubuntu archive and ``dpkg -x`` them into one folder."""
    root = workdir / "ubuntu-wallpapers"
    for package, component in UBUNTU_PACKAGES.items():
        deb = workdir / f"{package}_{UBUNTU_VERSION}_all.deb"
        urllib.request.urlretrieve(f"{UBUNTU_POOL}/{component}/u/ubuntu-wallpapers/{deb.name}", deb)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
        deb.unlink()
    return root


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
    parser.add_argument("--plasma", type=Path, help=f"extracted {PACKAGE} (dpkg -x); default: apt-get download it")
    parser.add_argument(
        "--ubuntu", type=Path, help="folder with the ubuntu-wallpapers-* packages extracted; default: download them"
    )
    parser.add_argument("--no-ubuntu", action="store_true", help="only the plasma photographs (the 11-scene set)")
    parser.add_argument("--size", type=int, default=256, help="side of each half (default 256)")
    parser.add_argument("--train", type=int, default=8, help="crops per training photograph (default 8)")
    parser.add_argument("--val", type=int, default=4, help="crops per validation photograph (default 4)")
    parser.add_argument("--test", type=int, default=4, help="crops per test photograph (default 4)")
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
        plasma = args.plasma if args.plasma is not None else _fetch_package(Path(tmp))
        photos = plasma_photos(plasma)
        copyrights = {PACKAGE: plasma / f"usr/share/doc/{PACKAGE}/copyright"}
        if not args.no_ubuntu:
            ubuntu = args.ubuntu if args.ubuntu is not None else _fetch_ubuntu(Path(tmp))
            photos += ubuntu_photos(ubuntu)
            copyrights["ubuntu-wallpapers"] = next((ubuntu / "usr/share/doc").glob("ubuntu-wallpapers-*/copyright"))
        written = build(photos, args.out, counts, args.size, args.min_frac, args.max_frac, args.seed)
        for package, copyright_file in copyrights.items():
            if copyright_file.is_file():
                shutil.copy(copyright_file, args.out / f"{package}.copyright")
    for split in SPLITS:
        identity, grey = baselines(args.out / split)
        print(f"{split}: {written[split]} pairs; PSNR identity {identity:.2f} dB, mid-grey {grey:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
