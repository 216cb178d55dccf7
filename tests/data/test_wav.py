"""WAV reading/writing, resampling quality and the decode cache (lightning_gan.data.wav)."""

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from lightning_gan.data import wav
from lightning_gan.data.wav import cache_path, read_wav, resample, resampled_length, wav_info, write_wav


def tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 0.5) -> torch.Tensor:
    t = torch.arange(int(rate * seconds), dtype=torch.float64) / rate
    return amp * torch.sin(2 * torch.pi * freq * t)


def steady_amplitude(x: torch.Tensor) -> float:
    """Peak amplitude of a sine from its RMS, away from the edges where the filter starts and stops."""
    mid = x[len(x) // 8 : -len(x) // 8]
    return float(mid.pow(2).mean().sqrt() * np.sqrt(2))


def test_resample_48k_to_16k_keeps_1khz_tone_frequency_and_amplitude() -> None:
    y = resample(tone(1000, 48000), 48000, 16000)
    assert y.shape == (16000,) and y.dtype == torch.float64
    spectrum = torch.fft.rfft(y).abs()  # 1 Hz per bin for 16000 samples at 16 kHz
    assert int(spectrum.argmax()) == 1000
    assert steady_amplitude(y) == pytest.approx(0.5, rel=0.01)


def test_resample_keeps_7khz_and_removes_10khz_before_it_aliases() -> None:
    kept = resample(tone(7000, 48000), 48000, 16000)
    assert steady_amplitude(kept) == pytest.approx(0.5, rel=0.01)
    # 10 kHz is above the new Nyquist (8 kHz): without anti-aliasing it would fold to 6 kHz at full amplitude.
    aliased = resample(tone(10000, 48000), 48000, 16000)
    attenuation_db = 20 * np.log10(steady_amplitude(aliased) / 0.5)
    assert attenuation_db < -40


def test_resample_upsampling_and_odd_ratio_lengths() -> None:
    y = resample(tone(1000, 8000), 8000, 16000)
    assert y.shape == (16000,)
    assert steady_amplitude(y) == pytest.approx(0.5, rel=0.01)
    x = torch.zeros(2, 44101)  # leading dims are kept, length is ceil(n * 160 / 441)
    assert resample(x, 44100, 16000).shape == (2, 16001) == (2, resampled_length(44101, 44100, 16000))
    assert resample(x, 16000, 16000) is x
    with pytest.raises(ValueError, match="orig_sr"):
        resample(x, 0, 16000)


def test_read_wav_resamples_any_rate_to_target(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    soundfile.write(path, tone(1000, 48000).numpy(), 48000, subtype="PCM_16")
    x = read_wav(path, 16000)
    assert x.dtype == torch.float32 and x.shape == (16000,)
    assert wav_info(path) == (48000, 48000, 1)
    assert steady_amplitude(x.double()) == pytest.approx(0.5, rel=0.01)


def test_stereo_is_averaged_to_mono(tmp_path: Path) -> None:
    left, right = tone(440, 16000, 0.1).numpy(), np.full(1600, 0.25)
    soundfile.write(tmp_path / "s.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    x = read_wav(tmp_path / "s.wav")
    assert x.shape == (1600,)
    np.testing.assert_allclose(x.numpy(), (left + right) / 2, atol=1e-6)


def test_16bit_round_trip_and_clipping(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4000, generator=gen) * 1.98 - 0.99
    write_wav(tmp_path / "sub" / "r.wav", x.unsqueeze(0), 16000)  # 1 x T accepted, parents created
    info = soundfile.info(tmp_path / "sub" / "r.wav")
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    y = read_wav(tmp_path / "sub" / "r.wav")
    assert float((y - x).abs().max()) <= 1 / 32768  # half a 16-bit step of rounding, plus the x / 32768 scale
    write_wav(tmp_path / "c.wav", torch.tensor([2.0, -3.0, 0.5]), 16000)
    np.testing.assert_allclose(read_wav(tmp_path / "c.wav").numpy(), [32767 / 32768, -1.0, 0.5])


def test_write_wav_rejects_multichannel_and_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1-D"):
        write_wav(tmp_path / "x.wav", torch.zeros(2, 10), 16000)
    with pytest.raises(ValueError, match="NaN"):
        write_wav(tmp_path / "x.wav", torch.tensor([0.0, float("nan")]), 16000)


def test_corrupt_file_error_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00not really a wave file")
    with pytest.raises(RuntimeError, match=r"cannot read audio .*broken\.wav"):
        read_wav(bad)
    with pytest.raises(RuntimeError, match=r"broken\.wav"):
        wav_info(bad)
    with pytest.raises(RuntimeError, match=r"missing\.wav"):
        read_wav(tmp_path / "missing.wav")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_samples_error_names_file(tmp_path: Path, value: float) -> None:
    path = tmp_path / "nonfinite.wav"
    soundfile.write(path, np.array([0.0, 0.1, value, 0.2], dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(ValueError, match=r"nonfinite\.wav.*NaN or infinite"):
        read_wav(path)


def test_start_stop_reads_a_slice_at_target_rate(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    soundfile.write(tmp_path / "a16.wav", (torch.rand(3000, generator=gen) - 0.5).numpy(), 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "a48.wav", (torch.rand(9000, generator=gen) - 0.5).numpy(), 48000, subtype="FLOAT")
    for name, cache in (("a16.wav", None), ("a48.wav", None), ("a48.wav", tmp_path / "cache")):
        full = read_wav(tmp_path / name, 16000, cache)
        assert full.shape == (3000,)
        torch.testing.assert_close(read_wav(tmp_path / name, 16000, cache, start=1000, stop=2024), full[1000:2024])
        torch.testing.assert_close(read_wav(tmp_path / name, 16000, cache, start=2900, stop=4000), full[2900:])


def test_cache_hit_skips_decoding_and_changed_file_invalidates(tmp_path: Path, monkeypatch) -> None:
    path, cache = tmp_path / "a.wav", tmp_path / "cache"
    soundfile.write(path, tone(1000, 48000, 0.1).numpy(), 48000, subtype="PCM_16")
    first = read_wav(path, 16000, cache)
    entries = list(cache.iterdir())
    assert [p.name for p in entries] == [cache_path(path, 16000, cache).name]  # one entry, no temp file left

    real_read = soundfile.read

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(wav.soundfile, "read", no_decoding)
    torch.testing.assert_close(read_wav(path, 16000, cache), first)
    torch.testing.assert_close(read_wav(path, 16000, cache, start=100, stop=900), first[100:900])

    # Rewrite with other content (and a later mtime, in case the clock's resolution is coarse): a new entry is read.
    monkeypatch.setattr(wav.soundfile, "read", real_read)
    soundfile.write(path, tone(2000, 48000, 0.2).numpy(), 48000, subtype="PCM_16")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    second = read_wav(path, 16000, cache)
    assert second.shape == (3200,)
    assert len(list(cache.iterdir())) == 2


def test_damaged_cache_entry_is_decoded_again(tmp_path: Path) -> None:
    path, cache = tmp_path / "a.wav", tmp_path / "cache"
    soundfile.write(path, tone(1000, 48000, 0.05).numpy(), 48000, subtype="PCM_16")
    first = read_wav(path, 16000, cache)
    cache_path(path, 16000, cache).write_bytes(b"truncated")
    torch.testing.assert_close(read_wav(path, 16000, cache), first)


def test_files_at_target_rate_are_not_cached_and_unwritable_cache_only_warns(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "a16.wav", np.zeros(100), 16000)
    read_wav(tmp_path / "a16.wav", 16000, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()
    soundfile.write(tmp_path / "a48.wav", np.zeros(300), 48000)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    with pytest.warns(RuntimeWarning, match="cache disabled"):
        x = read_wav(tmp_path / "a48.wav", 16000, blocker / "cache")
    assert x.shape == (100,)
