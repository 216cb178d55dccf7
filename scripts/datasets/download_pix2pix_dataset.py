"""Download and unpack one of the public pix2pix datasets into ``ROOT/NAME/{train,val,test}``.

The archives are the ones the pix2pix authors host (junyanz/pytorch-CycleGAN-and-pix2pix,
``datasets/download_pix2pix_dataset.sh``): ``http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/NAME.tar.gz``. Each
unpacks to ``NAME/train``, ``NAME/val`` and/or ``NAME/test`` holding aligned A|B JPEGs, the layout
:class:`lightning_gan.data.paired_images.PairedImageDataModule` reads. Only the standard library is used; the archive
is unpacked with tarfile's ``"data"`` filter, which refuses absolute paths, ``..``, links out of the folder and
device files.

Usage::

    python scripts/datasets/download_pix2pix_dataset.py facades --root datasets
    python scripts/datasets/download_pix2pix_dataset.py facades --archive ~/Downloads/facades.tar.gz   # no download
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, TextIO

DATASETS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day")
URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
SPLITS = ("train", "val", "test")
_CHUNK = 1 << 20


class DatasetError(RuntimeError):
    """A download or unpack step failed; the message says which and why."""


def dataset_url(name: str) -> str:
    """The authors' URL of dataset ``name``.

    Raises:
        ValueError: ``name`` is not one of :data:`DATASETS`.
    """
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


def unpack(archive: Path, root: Path, name: str) -> Path:
    """Unpack ``archive`` (a .tar.gz holding ``name/<split>/...``) into ``root``; returns ``root/name``.

    Raises:
        DatasetError: the archive cannot be read, a member would land outside ``root`` or is not a plain file or
            folder (tarfile's ``"data"`` filter), or ``root/name`` has no split folder afterwards.
    """
    root.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(root, filter="data")
    except (tarfile.TarError, OSError) as err:
        raise DatasetError(f"cannot unpack {archive}: {err}") from err
    target = root / name
    found = [s for s in SPLITS if (target / s).is_dir()]
    if not found:
        raise DatasetError(
            f"{archive} did not produce {target}/train, val or test; the archive should hold {name}/<split>/ folders"
        )
    return target


def fetch(name: str, root: Path, archive: Path | None = None, out: TextIO | None = None) -> Path:
    """Download (unless ``archive`` is given) and unpack dataset ``name`` into ``root/name``; returns that folder.

    An existing ``root/name`` with a ``train/`` folder is left alone (delete it to fetch again). Progress and notes go
    to ``out`` (default: standard error).

    Raises:
        ValueError: ``name`` is not one of :data:`DATASETS`.
        DatasetError: the archive is missing, the download fails or the archive does not unpack to ``root/name``.
    """
    out = out if out is not None else sys.stderr
    url = dataset_url(name)
    target = root / name
    if (target / "train").is_dir():
        out.write(f"{target} already exists; nothing to do (delete it to download again)\n")
        return target
    if archive is not None:
        if not archive.is_file():
            raise DatasetError(f"archive not found: {archive}")
        return unpack(archive, root, name)
    with tempfile.TemporaryDirectory(dir=root if root.is_dir() else None) as tmp:
        path = download(url, Path(tmp) / f"{name}.tar.gz", out)
        out.write(f"unpacking into {root}\n")
        return unpack(path, root, name)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 on success, 1 with a message on failure)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=DATASETS, help="dataset to fetch")
    parser.add_argument("--root", type=Path, default=Path("datasets"), help="parent folder (default: datasets)")
    parser.add_argument("--archive", type=Path, default=None, help="unpack this local .tar.gz, no download")
    args = parser.parse_args(argv)
    args.root.mkdir(parents=True, exist_ok=True)
    try:
        target = fetch(args.name, args.root, args.archive)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    counts = {s: sum(1 for _ in (target / s).iterdir()) for s in SPLITS if (target / s).is_dir()}
    print(f"{args.name} is in {target}: " + ", ".join(f"{s} {n} files" for s, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
