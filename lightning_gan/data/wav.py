"""WAV input/output for the speech data: decoding, downmixing, anti-aliased resampling and a decode cache.

Every SEGAN reference assumes 16 kHz audio and the most common user complaint is a model fed 48 kHz files
(santi-pdp/segan_pytorch issues #17 and #22, santi-pdp/segan issue #75). Instead of only rejecting other rates as the
TF code does, :func:`read_wav` resamples anything it reads to the rate asked for, with a filter good enough that
resampling is not an audible or measurable part of the result:

Resampling filter
    :func:`scipy.signal.resample_poly` with the rational factor ``up/down = new_sr/orig_sr`` reduced by their gcd,
    and our own linear-phase low-pass FIR designed by :func:`scipy.signal.firwin` at the intermediate rate
    ``up * orig_sr``: cutoff at 0.95 of the lower of the two Nyquist frequencies, ``2 * 64 * max(up, down) + 1``
    taps (64 zero crossings of the sinc on each side), Kaiser window with beta = 10. For 48 kHz -> 16 kHz that is a
    385-tap filter, flat within 0.01 dB up to 7.26 kHz and at least 99 dB down at and above 8 kHz (the new Nyquist),
    so nothing aliases above the 16-bit noise floor. scipy's default filter (Kaiser beta = 5, 10 zero crossings,
    cutoff at the new Nyquist) is only 6 dB down at 8 kHz, so content just above it folds back, and droops by 0.1 dB
    from 6.9 kHz.

Decode cache
    Files that need resampling are decoded and resampled once, then stored as one float32 ``.npy`` per file, named by
    a hash of the absolute path, the file size, its ``mtime_ns``, the target rate and the filter version: editing
    or replacing a file gives it a new entry and the stale one is never read (a rewrite that keeps both the size and
    the nanosecond mtime would not be noticed, the same heuristic as make and rsync). Entries are written to a
    temporary file and moved into place with :func:`os.replace`, which is atomic, so DataLoader workers and DDP
    ranks that fill the cache at the same time never read half an entry. Reading a window out of an entry maps it
    (``np.load(mmap_mode="r")``) instead of loading the whole utterance. Files already at the target rate are never
    cached: reading a window straight from a 16-bit WAV is as cheap as reading it from a ``.npy``, and a float32
    copy would double the corpus on disk. The default location is :func:`default_cache_dir`; stale entries are not
    deleted, remove the folder to reclaim the space.

Non-finite samples
    Only float files (WAV subtypes ``FLOAT`` and ``DOUBLE``) can hold NaN or infinity; integer PCM cannot. The corpus
    index checks every float file whole, once, when it is indexed (:func:`check_finite`), so a NaN is found at setup
    and not only when a random training window happens to cover it; every read checks the samples it returns as well
    (a file rewritten during the run). The message names the file, the count and the first position.

Errors
    A file that cannot be read or used raises :class:`AudioReadError`, a one-line message on the command line also
    when it is read inside a DataLoader worker (:mod:`lightning_gan.data.file_errors`).
"""

import hashlib
import os
import tempfile
import warnings
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import soundfile
import torch
from scipy.signal import firwin, resample_poly
from torch import Tensor

from lightning_gan.data.file_errors import DataFileError

# Bump when the resampler changes, so that cache entries made by the old filter are not reused.
_RESAMPLER_VERSION = "kaiser10-z64-r095"
_ZERO_CROSSINGS = 64
_KAISER_BETA = 10.0
_ROLLOFF = 0.95
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})  # the only WAV sample formats that can store NaN or infinity
_BLOCK = 1 << 18  # frames per block when a whole file is scanned for non-finite samples


class AudioReadError(DataFileError, RuntimeError):
    """An audio file that cannot be read, or whose samples are NaN or infinite; the message names the file. Also a
    ``RuntimeError`` (unreadable files raised that before it became an input error)."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/lightning_gan/wav``, or ``~/.cache/lightning_gan/wav`` when the variable is unset.

    A per-user cache rather than a folder inside the corpus, because corpora are often on read-only or shared mounts.
    Entries are keyed by absolute path, so several corpora can share it.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lightning_gan" / "wav"


@lru_cache(maxsize=32)
def _lowpass(up: int, down: int) -> np.ndarray:
    """The anti-aliasing/anti-imaging filter for ``up/down`` (module docstring), unit DC gain (resample_poly scales
    it by ``up`` itself)."""
    m = max(up, down)
    taps = firwin(2 * _ZERO_CROSSINGS * m + 1, _ROLLOFF / m, window=("kaiser", _KAISER_BETA))
    taps.setflags(write=False)
    return taps


def _resample_array(x: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """Resample a float array along its last axis; the output has ``ceil(n * new_sr / orig_sr)`` samples."""
    if orig_sr == new_sr:
        return x
    g = gcd(orig_sr, new_sr)
    up, down = new_sr // g, orig_sr // g
    if x.shape[-1] == 0:
        return np.zeros((*x.shape[:-1], 0), dtype=x.dtype)
    return resample_poly(x, up, down, axis=-1, window=_lowpass(up, down))


def resampled_length(frames: int, orig_sr: int, new_sr: int) -> int:
    """Number of samples :func:`resample` returns for ``frames`` input samples: ``ceil(frames * new_sr / orig_sr)``."""
    g = gcd(orig_sr, new_sr)
    up, down = new_sr // g, orig_sr // g
    return -(-frames * up // down)


def _check_rate(name: str, rate: int) -> None:
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise ValueError(f"{name} must be a positive integer sample rate in Hz, got {rate!r}")


def resample(x: Tensor, orig_sr: int, new_sr: int) -> Tensor:
    """Resample ``x`` (any leading shape) along its last dimension from ``orig_sr`` to ``new_sr`` Hz.

    Uses the polyphase Kaiser-windowed filter described in the module docstring (computed in float64 on the CPU);
    the result comes back with ``x``'s dtype and device and has ``ceil(T * new_sr / orig_sr)`` samples.
    """
    _check_rate("orig_sr", orig_sr)
    _check_rate("new_sr", new_sr)
    if orig_sr == new_sr:
        return x
    y = _resample_array(x.detach().cpu().double().numpy(), orig_sr, new_sr)
    return torch.from_numpy(np.ascontiguousarray(y)).to(device=x.device, dtype=x.dtype)


def wav_info(path: Path) -> tuple[int, int, int]:
    """``(frames, sample_rate, channels)`` from the file header only (cheap; used to index a corpus at setup).

    Raises:
        AudioReadError: the file cannot be opened or parsed as audio; the message names it.
    """
    try:
        info = soundfile.info(str(path))
    except Exception as err:
        raise _cannot_read(path, err) from err
    return int(info.frames), int(info.samplerate), int(info.channels)


def _cannot_read(path: Path, err: BaseException) -> AudioReadError:
    return AudioReadError(f"cannot read audio {path}: {str(err).strip() or type(err).__name__}")


def _non_finite(path: Path, count: int, first: int, rate: int) -> AudioReadError:
    return AudioReadError(
        f"audio file {path} contains {count} NaN or infinite samples, the first at sample {first} "
        f"({first / rate:.3f} s); expected finite samples. Fix the file or remove it from the corpus"
    )


def check_finite(path: Path) -> None:
    """Check that every sample of a float audio file is finite, reading it once in blocks (module docstring).

    Integer files (16-bit PCM ...) cannot hold NaN or infinity and are not read: only their header is opened.

    Raises:
        AudioReadError: the file cannot be read, or it holds NaN or infinite samples (the message gives the file,
            how many frames hold one and the first of them).
    """
    try:
        info = soundfile.info(str(path))
        if info.subtype not in _FLOAT_SUBTYPES:
            return
        count, first, offset = 0, -1, 0
        for block in soundfile.blocks(str(path), blocksize=_BLOCK, dtype="float32", always_2d=True):
            bad = ~np.isfinite(block).all(axis=1)
            if bad.any():
                if first < 0:
                    first = offset + int(np.argmax(bad))
                count += int(bad.sum())
            offset += block.shape[0]
    except Exception as err:
        raise _cannot_read(path, err) from err
    if count:
        raise _non_finite(path, count, first, int(info.samplerate))


def _decode(path: Path, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, int]:
    """Decode frames ``[start, stop)`` to mono float32 (channels averaged) and check that they are finite."""
    try:
        data, rate = soundfile.read(str(path), start=start, stop=stop, dtype="float32", always_2d=True)
    except Exception as err:
        raise _cannot_read(path, err) from err
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    finite = np.isfinite(mono)
    if not finite.all():
        raise _non_finite(path, int((~finite).sum()), start + int(np.argmin(finite)), int(rate))
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


def cache_path(path: Path, sample_rate: int, cache_dir: Path) -> Path:
    """Where the cache entry of ``path`` resampled to ``sample_rate`` lives (whether or not it exists yet).

    The name hashes the absolute path, size, ``mtime_ns``, target rate and resampler version, so a modified file maps
    to a new entry.
    """
    st = os.stat(path)
    key = f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}|{sample_rate}|{_RESAMPLER_VERSION}"
    return Path(cache_dir) / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"


def _store(entry: Path, wave: np.ndarray) -> None:
    """Write a cache entry atomically; a failure to write only costs the cache, never the read."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, wave)
            os.replace(tmp, entry)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        warnings.warn(f"audio decode cache disabled for {entry.parent}: {err}", RuntimeWarning, stacklevel=3)


def _load_resampled(path: Path, sample_rate: int, cache_dir: Path | None, mmap: bool) -> np.ndarray:
    """The whole file, mono, at ``sample_rate``; from the cache when the file needs resampling and a cache is set."""
    entry = None
    if cache_dir is not None:
        try:
            entry = cache_path(path, sample_rate, cache_dir)
        except OSError as err:
            raise _cannot_read(path, err) from err
        if entry.is_file():
            try:
                return np.load(entry, mmap_mode="r" if mmap else None)
            except (OSError, ValueError, EOFError):
                pass  # damaged entry (e.g. disk full when it was written): decode again and replace it
    wave, rate = _decode(path)
    if rate == sample_rate:
        return wave
    wave = _resample_array(wave.astype(np.float64), rate, sample_rate).astype(np.float32)
    if entry is not None:
        _store(entry, wave)
    return wave


def read_wav(
    path: Path,
    sample_rate: int = 16000,
    cache_dir: Path | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Tensor:
    """Read an audio file as a 1-D float32 tensor at ``sample_rate`` Hz, channels averaged to mono.

    Args:
        path: any format libsndfile reads (WAV, FLAC, ...). 16-bit PCM maps to [-1, 1) as x / 32768.
        sample_rate: target rate; files at another rate are resampled (module docstring). 16 kHz is the rate of every
            SEGAN reference (``docs/references.md``, "SEGAN: data and inference").
        cache_dir: decode cache for files that need resampling (module docstring); ``None`` disables it.
        start: first sample to return, counted at ``sample_rate``.
        stop: one past the last sample to return, at ``sample_rate`` (clipped to the file's length); ``None`` = end.
            With ``start``/``stop`` a file already at ``sample_rate`` is read only over that range, and a cached one
            is memory-mapped, so a training window costs a window's worth of I/O.

    Raises:
        AudioReadError: the file is missing, unreadable or not audio (``"cannot read audio <path>: ..."``), or the
            samples read contain NaN or infinity (the message names the file); a ``RuntimeError`` and a
            ``ValueError``.
    """
    _check_rate("sample_rate", sample_rate)
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"read_wav({path}): need 0 <= start <= stop, got start={start}, stop={stop}")
    if start > 0 or stop is not None:
        _, rate, _ = wav_info(path)
        if rate == sample_rate:
            return torch.from_numpy(_decode(path, start, stop)[0])
    wave = _load_resampled(Path(path), sample_rate, cache_dir, mmap=start > 0 or stop is not None)
    return torch.from_numpy(np.array(wave[start:stop], dtype=np.float32))


def write_wav(path: Path, wave: Tensor, sample_rate: int) -> None:
    """Write a 1-D (or 1 x T) waveform as 16-bit PCM mono WAV, clipping to [-1, 1] first.

    Parent folders are created. 16-bit because it is the corpus format (VoiceBank-DEMAND) and what every player reads.
    """
    _check_rate("sample_rate", sample_rate)
    x = wave.detach().cpu().float()
    if x.dim() == 2 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 1:
        raise ValueError(f"write_wav({path}): expected a 1-D or 1 x T waveform, got shape {tuple(wave.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"write_wav({path}): waveform contains NaN or infinite samples")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), x.clamp(-1.0, 1.0).numpy(), sample_rate, subtype="PCM_16", format="WAV")
