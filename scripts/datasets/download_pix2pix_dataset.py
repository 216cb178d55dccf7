"""Download and unpack one of the public pix2pix or CycleGAN datasets into ``ROOT/NAME/``.

The archives are the ones the pix2pix authors host (junyanz/pytorch-CycleGAN-and-pix2pix,
``datasets/download_pix2pix_dataset.sh``): ``http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/NAME.tar.gz``. Each
unpacks to ``NAME/train``, ``NAME/val`` and/or ``NAME/test`` holding aligned A|B JPEGs, the layout
:class:`lightning_gan.data.paired_images.PairedImageDataModule` reads. Only the standard library is used; the archive
is unpacked with tarfile's ``"data"`` filter, which refuses absolute paths, ``..``, links out of the folder and
device files.

The unpaired CycleGAN archives (the same authors' ``datasets/download_cyclegan_dataset.sh``:
``http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/NAME.zip``) unpack to ``NAME/trainA``, ``trainB``, ``testA``,
``testB``, the layout :class:`lightning_gan.data.UnpairedImageDataModule` reads; ``--unpaired`` picks them for the
names both collections have (facades, maps, cityscapes), and names only CycleGAN has (horse2zebra, ...) need no flag.
Zip members are checked before anything is written: an absolute path, ``..`` or a link is refused.

Usage::

    python scripts/datasets/download_pix2pix_dataset.py facades --root datasets
    python scripts/datasets/download_pix2pix_dataset.py horse2zebra --root datasets   # unpaired: trainA/ ...
    python scripts/datasets/download_pix2pix_dataset.py facades --archive ~/Downloads/facades.tar.gz   # no download
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import BinaryIO, TextIO

DATASETS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day")
URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
SPLITS = ("train", "val", "test")
CYCLEGAN_DATASETS = (
    "apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo", "ukiyoe2photo",
    "vangogh2photo", "maps", "cityscapes", "facades", "iphone2dslr_flower", "ae_photos",
)  # fmt: skip
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
UNPAIRED_SPLITS = ("trainA", "trainB", "testA", "testB")
_CHUNK = 1 << 20


class DatasetError(RuntimeError):
    """A download or unpack step failed; the message says which and why."""


def dataset_url(name: str, unpaired: bool = False) -> str:
    """The authors' URL of dataset ``name``: a pix2pix archive, or with ``unpaired`` a CycleGAN one.

    Raises:
        ValueError: ``name`` is not one of :data:`DATASETS` (:data:`CYCLEGAN_DATASETS` with ``unpaired``).
    """
    if unpaired:
        if name not in CYCLEGAN_DATASETS:
            raise ValueError(f"unknown CycleGAN dataset {name!r}; expected one of {', '.join(CYCLEGAN_DATASETS)}")
        return CYCLEGAN_URL.format(name=name)
    if name not in DATASETS:
        raise ValueError(f"unknown pix2pix dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return URL.format(name=name)


def _copy_with_progress(src: BinaryIO, dst: BinaryIO, total: int | None, out: TextIO) -> int:
    done = 0
    while chunk := src.read(_CHUNK):
        dst.write(chunk)
        done += len(chunk)
        if total:
            out.write(f"\r  {done / 1e6:8.1f} / {total / 1e6:.1f} MB ({100 * done / total:5.1f}%)")
        else:
            out.write(f"\r  {done / 1e6:8.1f} MB")
        out.flush()
    out.write("\n")
    return done


def download(url: str, dest: Path, out: TextIO | None = None, timeout: float = 60.0) -> Path:
    """Stream ``url`` to ``dest`` with a progress line on ``out`` (default: standard error); no partial file is left.

    Raises:
        DatasetError: the server cannot be reached, answers with an error, or the transfer stops early.
    """
    out = out if out is not None else sys.stderr
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    out.write(f"downloading {url}\n")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as file:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = _copy_with_progress(response, file, total, out)
        if total is not None and done != total:
            raise DatasetError(f"download of {url} stopped at {done} of {total} bytes; try again")
    except (urllib.error.URLError, OSError, ValueError) as err:
        partial.unlink(missing_ok=True)
        raise DatasetError(
            f"cannot download {url}: {err}. Check the network, or download the file yourself and pass --archive"
        ) from err
    except DatasetError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dest)
    return dest


def _extract_zip(archive: Path, root: Path) -> None:
    """Extract a zip after checking every member: no absolute path, no ``..``, no link (as tarfile's "data" filter)."""
    with zipfile.ZipFile(archive) as zipped:
        base = root.resolve()
        for info in zipped.infolist():
            target = (root / info.filename).resolve()
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if info.filename.startswith(("/", "\\")) or not target.is_relative_to(base) or is_link:
                raise DatasetError(f"{archive}: member {info.filename!r} would land outside {root} or is a link")
        zipped.extractall(root)


def unpack(archive: Path, root: Path, name: str) -> Path:
    """Unpack ``archive`` (a .tar.gz or .zip holding ``name/<split>/...``) into ``root``; returns ``root/name``.

    Raises:
        DatasetError: the archive cannot be read, a member would land outside ``root`` or is not a plain file or
            folder (tarfile's ``"data"`` filter; the same checks for zips), or ``root/name`` has no split folder
            (``train``, ``val``, ``test``, or CycleGAN's ``trainA`` ...) afterwards.
    """
    root.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, root)
        else:
            with tarfile.open(archive, "r:*") as tar:
                tar.extractall(root, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as err:
        raise DatasetError(f"cannot unpack {archive}: {err}") from err
    target = root / name
    found = [s for s in (*SPLITS, *UNPAIRED_SPLITS) if (target / s).is_dir()]
    if not found:
        raise DatasetError(
            f"{archive} did not produce {target}/train, val, test (pix2pix) or trainA, trainB, testA, testB "
            f"(CycleGAN); the archive should hold {name}/<split>/ folders"
        )
    return target


def fetch(
    name: str, root: Path, archive: Path | None = None, out: TextIO | None = None, unpaired: bool = False
) -> Path:
    """Download (unless ``archive`` is given) and unpack dataset ``name`` into ``root/name``; returns that folder.

    An existing ``root/name`` with a ``train/`` folder is left alone (delete it to fetch again). Progress and notes go
    to ``out`` (default: standard error).

    Raises:
        ValueError: ``name`` is not one of :data:`DATASETS`.
        DatasetError: the archive is missing, the download fails or the archive does not unpack to ``root/name``.
    """
    out = out if out is not None else sys.stderr
    url = dataset_url(name, unpaired)
    target = root / name
    if (target / ("trainA" if unpaired else "train")).is_dir():
        out.write(f"{target} already exists; nothing to do (delete it to download again)\n")
        return target
    if archive is not None:
        if not archive.is_file():
            raise DatasetError(f"archive not found: {archive}")
        return unpack(archive, root, name)
    with tempfile.TemporaryDirectory(dir=root if root.is_dir() else None) as tmp:
        path = download(url, Path(tmp) / url.rsplit("/", 1)[-1], out)
        out.write(f"unpacking into {root}\n")
        return unpack(path, root, name)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 on success, 1 with a message on failure)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted({*DATASETS, *CYCLEGAN_DATASETS}), help="dataset to fetch")
    parser.add_argument(
        "--unpaired", action="store_true", help="the CycleGAN archive (trainA/trainB/testA/testB) of a name both have"
    )
    parser.add_argument("--root", type=Path, default=Path("datasets"), help="parent folder (default: datasets)")
    parser.add_argument("--archive", type=Path, default=None, help="unpack this local .tar.gz or .zip, no download")
    args = parser.parse_args(argv)
    args.root.mkdir(parents=True, exist_ok=True)
    try:
        unpaired = args.unpaired or args.name not in DATASETS
        target = fetch(args.name, args.root, args.archive, unpaired=unpaired)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    splits = (*SPLITS, *UNPAIRED_SPLITS)
    counts = {s: sum(1 for _ in (target / s).iterdir()) for s in splits if (target / s).is_dir()}
    print(f"{args.name} is in {target}: " + ", ".join(f"{s} {n} files" for s, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
