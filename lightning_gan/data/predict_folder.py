"""A ``predict`` folder is checked as a whole before anything is written.

Every input is opened and decoded first. Problems are collected, not raised one at a time: a folder with one
0-sample WAV among good ones fails at setup with *every* bad file named and nothing written (no half-written output
folder sorted up to the bad file). With ``skip_bad_inputs`` (``predict --skip_bad_inputs true``) the bad files are
skipped instead, each with a warning, and listed again when ``predict`` ends.

Images: the suffixes of :data:`lightning_gan.data.image_folder.IMAGE_EXTENSIONS`, fully decoded as training reads
them (:func:`lightning_gan.data.image_folder.decode_image`: upright, one frame, at most ``max_pixels`` pixels, float
images finite and in [0, 1]) and at least 1 x 1.
Audio: what soundfile (libsndfile) reads, by suffix: WAV, FLAC, OGG (Vorbis/Opus), AIFF; decodable, at least one
sample, finite. A float file whose samples go beyond [-1, 1] is used as it is, with a warning naming the file and
its peak (the networks were trained on [-1, 1]). Files of other types are ignored, listed once. Two inputs with the
same stem (``a.wav``, ``a.flac``) would write the same output file and are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import soundfile
from lightning.pytorch.utilities import rank_zero_warn

from lightning_gan.data.image_folder import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, ImageReadError, decode_image
from lightning_gan.errors import InputError

AUDIO_EXTENSIONS: frozenset[str] = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff"})
"""Suffixes (any case) read as audio: formats libsndfile decodes (WAV, FLAC, OGG Vorbis/Opus, AIFF)."""

_SHOWN = 20  # names listed per message before "..."


@dataclass
class ScanResult:
    """The usable files of a predict folder, in name order, and what was left out.

    Attributes:
        files: the inputs to predict on.
        skipped: ``(file name, reason)`` of bad inputs skipped (``skip_bad_inputs``).
        ignored: names of files that are not inputs of this kind.
    """

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _names(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (f" ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def _check_image(path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> str | None:
    try:
        width, height = decode_image(path, max_pixels).size
    except ImageReadError as err:
        return str(err)
    if width < 1 or height < 1:
        return f"empty image ({width} x {height})"
    return None


def _check_audio(path: Path) -> str | None:
    try:
        info = soundfile.info(str(path))
        data, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:
        return f"cannot decode as audio ({str(err).strip() or type(err).__name__})"
    if info.frames == 0 or data.shape[0] == 0:
        return "no samples (0 frames)"
    if not np.isfinite(data).all():
        return f"{int((~np.isfinite(data)).sum())} NaN or infinite samples"
    peak = float(np.abs(data).max())
    if peak > 1.0:
        rank_zero_warn(
            f"{path}: samples peak at {peak:.3g}, beyond [-1, 1] (a {info.subtype} file); it is used as it is, but "
            "the model was trained on [-1, 1]: normalise it for a meaningful output"
        )
    return None


def _scan(
    folder: Path, kind: str, suffixes: frozenset[str], check: Callable[[Path], str | None], skip_bad: bool, flag: str
) -> ScanResult:
    if not folder.is_dir():
        raise FileNotFoundError(f"predict_dir {folder} does not exist or is not a folder")
    result = ScanResult()
    problems: list[tuple[str, str]] = []
    by_stem: dict[str, str] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.suffix.lower() not in suffixes:
            if not path.name.startswith("."):
                result.ignored.append(path.name + ("/" if path.is_dir() else ""))
            continue
        reason = check(path)
        if reason is None and kind == "audio" and path.stem in by_stem:
            reason = f"same name as {by_stem[path.stem]}: both would be written as {path.stem}.wav"
        if reason is not None:
            problems.append((path.name, reason))
            continue
        by_stem[path.stem] = path.name
        result.files.append(path)
    if result.ignored:
        rank_zero_warn(
            f"predict_dir {folder}: ignoring {len(result.ignored)} files that are not {kind} inputs: "
            f"{_names(result.ignored)}"
        )
    total = len(result.files) + len(problems)
    if problems and not skip_bad:
        listed = "; ".join(f"{name}: {reason}" for name, reason in problems[:_SHOWN])
        more = f"; ... ({len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise InputError(
            f"{len(problems)} of {total} {kind} files in predict_dir {folder} cannot be used, so nothing was "
            f"written: {listed}{more}. Fix or remove them, or skip them with {flag}"
        )
    for name, reason in problems:
        rank_zero_warn(f"skipping {folder / name}: {reason}")
    result.skipped = problems
    if not result.files:
        expected = "/".join(sorted(s.lstrip(".") for s in suffixes))
        noun = "images" if kind == "image" else "audio files"
        usable = "usable " if problems else ""
        raise InputError(f"no {usable}{noun} in predict_dir {folder} (expected {expected} files)")
    return result


SKIP_FLAG = "--skip_bad_inputs true"


def scan_images(folder: Path, skip_bad: bool = False, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> ScanResult:
    """Check every image of ``folder`` (module docstring); ``max_pixels``: the largest image (``None``: no limit).

    Raises:
        FileNotFoundError: the folder does not exist.
        InputError: some images are bad (all listed; unless ``skip_bad``), or none is usable.
    """
    check = partial(_check_image, max_pixels=max_pixels)
    return _scan(Path(folder), "image", IMAGE_EXTENSIONS, check, skip_bad, SKIP_FLAG)


def scan_audio(folder: Path, skip_bad: bool = False) -> ScanResult:
    """Check every audio file of ``folder`` (module docstring).

    Raises:
        FileNotFoundError: the folder does not exist.
        InputError: some files are bad (all listed; unless ``skip_bad``), or none is usable.
    """
    return _scan(Path(folder), "audio", AUDIO_EXTENSIONS, _check_audio, skip_bad, SKIP_FLAG)


def report_skipped(datamodule: object) -> str | None:
    """The end-of-predict summary of skipped inputs (``datamodule.predict_scan``), or ``None`` when none."""
    scan = getattr(datamodule, "predict_scan", None)
    if not isinstance(scan, ScanResult) or not scan.skipped:
        return None
    listed = "; ".join(f"{name} ({reason})" for name, reason in scan.skipped)
    return f"predict skipped {len(scan.skipped)} bad inputs (--skip_bad_inputs): {listed}"


__all__ = ["AUDIO_EXTENSIONS", "SKIP_FLAG", "ScanResult", "report_skipped", "scan_audio", "scan_images"]
