"""Paste A and B images side by side into the aligned A|B layout pix2pix reads.

For every pair of identically named files in ``--a`` and ``--b`` it writes ``--out/<name>`` = A on the left half and
B on the right half, as the reference's ``datasets/combine_A_and_B.py`` does. With ``--splits train val test`` it
reads ``A/<split>`` and ``B/<split>`` (the reference's layout) and writes ``OUT/<split>``, which is the folder layout
:class:`lightning_gan.data.paired_images.PairedImageDataModule` expects.

Choices, documented:

* File names must match exactly (``1.jpg`` does not pair with ``1.png``); otherwise nothing is written and the error
  lists the unmatched names on each side.
* If B's size differs from A's, B is resized to A's size (bicubic) and a note names the file: the DataModule resizes
  both halves to a square anyway, so this only loses what that resize would lose. ``--strict`` makes it an error.
* Both halves are written in RGB unless both are grayscale. The output keeps the file name, so the format follows the
  suffix (JPEG at quality 95).

Note that PairedImageDataModule also reads the split layout (``train/A``, ``train/B``) directly, so combining is only
needed for tools that want single A|B files.

Usage::

    python scripts/datasets/combine_A_and_B.py --a photos/A --b photos/B --out datasets/mine --splits train val test
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from PIL import Image

from lightning_gan.data.image_folder import ImageReadError, list_images

_SHOW = 10


def matched_names(dir_a: Path, dir_b: Path) -> list[str]:
    """The image file names present in both folders, sorted.

    Raises:
        FileNotFoundError: a folder is missing.
        ValueError: a folder has no images, or some names are in only one folder (the first few are listed).
    """
    names_a = {p.name for p in list_images(dir_a)}
    names_b = {p.name for p in list_images(dir_b)}
    if not names_a:
        raise ValueError(f"no images in {dir_a}")
    only_a, only_b = sorted(names_a - names_b), sorted(names_b - names_a)
    if only_a or only_b:

        def show(names: list[str]) -> str:
            more = f", ... ({len(names)} in all)" if len(names) > _SHOW else ""
            return ", ".join(names[:_SHOW]) + more

        raise ValueError(
            f"{dir_a} and {dir_b} must hold the same file names; "
            f"only in A: [{show(only_a)}]; only in B: [{show(only_b)}]"
        )
    return sorted(names_a)


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except Exception as err:
        raise ImageReadError(f"cannot read image {path}: {err}") from err


def combine_pair(path_a: Path, path_b: Path, strict: bool = False) -> tuple[Image.Image, bool]:
    """A|B side by side; returns the image and whether B was resized to A's size.

    Raises:
        ValueError: the sizes differ and ``strict`` is set.
        ImageReadError: a file cannot be read.
    """
    a, b = _open(path_a), _open(path_b)
    mode = "L" if a.mode == b.mode == "L" else "RGB"
    a, b = a.convert(mode), b.convert(mode)
    resized = a.size != b.size
    if resized:
        if strict:
            raise ValueError(f"{path_a} is {a.width}x{a.height} but {path_b} is {b.width}x{b.height} (--strict)")
        b = b.resize(a.size, Image.Resampling.BICUBIC)
    out = Image.new(mode, (2 * a.width, a.height))
    out.paste(a, (0, 0))
    out.paste(b, (a.width, 0))
    return out, resized


def combine_folder(dir_a: Path, dir_b: Path, out: Path, strict: bool = False, log: TextIO | None = None) -> int:
    """Combine every matched pair of ``dir_a`` and ``dir_b`` into ``out``; returns the number of files written.

    All names are matched before anything is written, so a mismatch leaves ``out`` untouched. Notes about resized
    files go to ``log`` (default: standard output).
    """
    log = log if log is not None else sys.stdout
    names = matched_names(dir_a, dir_b)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        image, resized = combine_pair(dir_a / name, dir_b / name, strict)
        if resized:
            log.write(f"note: {dir_b / name} resized to the size of {dir_a / name}\n")
        dest = out / name
        if dest.suffix.lower() in (".jpg", ".jpeg"):
            image.save(dest, quality=95)
        else:
            image.save(dest)
    return len(names)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 on success, 1 with a message on failure)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, required=True, help="folder of A images (or of A/<split> folders)")
    parser.add_argument("--b", type=Path, required=True, help="folder of B images (or of B/<split> folders)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for the A|B images")
    parser.add_argument("--splits", nargs="+", default=None, help="combine A/<split> and B/<split> into OUT/<split>")
    parser.add_argument("--strict", action="store_true", help="error (instead of resizing B) when sizes differ")
    args = parser.parse_args(argv)
    jobs = (
        [(args.a / s, args.b / s, args.out / s) for s in args.splits] if args.splits else [(args.a, args.b, args.out)]
    )
    try:
        for dir_a, dir_b, _ in jobs:  # check every split before writing anything
            matched_names(dir_a, dir_b)
        for dir_a, dir_b, out in jobs:
            n = combine_folder(dir_a, dir_b, out, args.strict)
            print(f"wrote {n} A|B images to {out}")
    except (FileNotFoundError, ValueError, ImageReadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
