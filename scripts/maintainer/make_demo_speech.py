"""Generate the small bundled noisy/clean speech corpus in ``data/speech_demo`` (VoiceBank-DEMAND layout).

    python scripts/maintainer/make_demo_speech.py --out data/speech_demo

Needs the ``espeak-ng`` program (Debian/Ubuntu: ``apt-get install espeak-ng``) to synthesise the clean speech; it is
only needed to regenerate the corpus, CI uses the committed WAVs. The corpus is deterministic for a given seed and
espeak-ng version (1.51 made the committed one).

What it makes, mirroring the real corpus at toy scale (VoiceBank-DEMAND, DOI 10.7488/ds/2117):

* Clean speech: short English sentences written for this corpus, one espeak-ng voice per "speaker" (voice variant,
  pitch and rate differ), with per-utterance jitter of pitch and rate; leading and trailing silence trimmed to
  0.1 s; resampled from espeak's 22.05 kHz to 16 kHz; normalised to -25 dBFS RMS.
* Speakers p001-p005 form the training set (8 utterances each), p006-p007 the test set (5 each), so a speaker
  hold-out (e.g. ``val_speakers: [p005]``) works as on VoiceBank.
* Noisy = clean + noise scaled to an SNR over the whole utterance. Training noises: white, pink, babble (four other
  utterances summed) and mains hum, at {0, 5, 10, 15} dB. Test noises: brown, babble and hum+pink, at
  {2.5, 7.5, 12.5} dB (brown and hum+pink are unseen in training, as the test noises of VoiceBank-DEMAND are).
* 16 kHz, mono, 16-bit PCM; a pair that would clip is scaled down as a whole (the SNR is kept).

It also writes ``README.md`` with the noisy input's own scores on the test set (SI-SDR, and PESQ/STOI when the
``pesq``/``pystoi`` packages are installed): the baseline an enhancement model has to beat.
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import torch

from lightning_gan.data.wav import resample, write_wav

SAMPLE_RATE = 16000
ESPEAK_RATE = 22050
TRAIN_SPEAKERS = {  # id: (espeak voice, base pitch 0-99, base words per minute)
    "p001": ("en-us+m3", 40, 180),
    "p002": ("en+f2", 58, 185),
    "p003": ("en-us+f4", 62, 175),
    "p004": ("en+m1", 35, 190),
    "p005": ("en-us+klatt", 50, 182),
}
TEST_SPEAKERS = {
    "p006": ("en+f3", 66, 180),
    "p007": ("en+m4", 44, 186),
}
TRAIN_PER_SPEAKER, TEST_PER_SPEAKER = 8, 5
TRAIN_NOISES, TRAIN_SNRS = ("white", "pink", "babble", "hum"), (0.0, 5.0, 10.0, 15.0)
TEST_NOISES, TEST_SNRS = ("brown", "babble", "hum_pink"), (2.5, 7.5, 12.5)
CLEAN_RMS_DBFS = -25.0
MARGIN_S = 0.1

# Written for this corpus (no third-party text). Read in order: 40 in training, 10 in test.
SENTENCES = (
    "The kettle sang on the old stove.",
    "Please close the gate behind you.",
    "A cold wind came down the valley.",
    "We found the keys under the mat.",
    "The train was late again today.",
    "She painted the fence bright green.",
    "Turn left after the second bridge.",
    "The dog slept through the storm.",
    "Bring a coat, it might rain later.",
    "The market opens at seven.",
    "He forgot his hat on the bus.",
    "Our garden needs more water.",
    "The lamp flickered and went out.",
    "Call me when you get home.",
    "Five boats sailed past the pier.",
    "The soup is too hot to eat.",
    "They walked along the quiet shore.",
    "My brother fixed the broken chair.",
    "The library is closed on Sundays.",
    "A small bird landed on the roof.",
    "Put the books back on the shelf.",
    "The river rose after the rain.",
    "Nobody heard the phone ringing.",
    "We shared bread and cheese for lunch.",
    "The clock in the hall is slow.",
    "Wait here until the light turns green.",
    "The children laughed at the clown.",
    "She keeps her notes in a blue folder.",
    "The bakery smells of fresh bread.",
    "Leave the window open tonight.",
    "A red car stopped at the corner.",
    "The paint is still wet on the door.",
    "He ran to catch the last train.",
    "Our neighbours moved in last week.",
    "The pen rolled under the desk.",
    "Snow covered the hills by morning.",
    "Keep the receipt for the shoes.",
    "The cat chased a leaf across the yard.",
    "We heard music from the next room.",
    "The bus driver waved at us.",
    "Fold the towels and stack them neatly.",
    "The tea has gone cold already.",
    "A storm is coming from the west.",
    "She read the letter twice.",
    "The bridge was built in one year.",
    "Water the plants before you leave.",
    "The stars were bright last night.",
    "He painted a ship on the wall.",
    "The road was wet and shiny.",
    "Let us meet at the station at noon.",
)


def synthesise(text: str, voice: str, pitch: int, wpm: int, tmp: Path) -> np.ndarray:
    """One utterance from espeak-ng at 16 kHz, silence trimmed to ``MARGIN_S`` on each side, -25 dBFS RMS."""
    out = tmp / "utt.wav"
    cmd = ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(wpm), "-w", str(out), text]
    subprocess.run(cmd, check=True, capture_output=True)
    x, rate = soundfile.read(str(out), dtype="float64")
    if rate != ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz audio, expected {ESPEAK_RATE}")
    x = resample(torch.from_numpy(x), rate, SAMPLE_RATE).numpy()
    active = np.flatnonzero(np.abs(x) > 0.02 * np.abs(x).max())
    margin = int(MARGIN_S * SAMPLE_RATE)
    x = x[max(active[0] - margin, 0) : active[-1] + margin]
    return x * (10 ** (CLEAN_RMS_DBFS / 20) / np.sqrt(np.mean(x**2)))


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power spectrum 1/f^exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    f[0] = f[1]  # no infinite DC gain
    x = np.fft.irfft(spec / f ** (exponent / 2), n)
    x -= x.mean()
    return x / np.sqrt(np.mean(x**2))


def hum(n: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum: 50 Hz and harmonics with decaying, random amplitudes and phases, slowly modulated; unit RMS."""
    t = np.arange(n) / SAMPLE_RATE
    x = sum(
        rng.uniform(0.3, 1.0) / k * np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) for k in range(1, 20)
    )
    x = x * (1 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t))
    return x / np.sqrt(np.mean(x**2))


def babble(n: int, pool: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Four other utterances, each looped to length with a random offset, summed; unit RMS."""
    x = np.zeros(n)
    for i in rng.choice(len(pool), size=4, replace=False):
        u = np.tile(pool[i], n // len(pool[i]) + 2)
        off = rng.integers(len(pool[i]))
        x += u[off : off + n] / np.sqrt(np.mean(pool[i] ** 2))
    return x / np.sqrt(np.mean(x**2))


def make_noise(kind: str, n: int, pool: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    if kind == "white":
        return coloured_noise(n, 0.0, rng)
    if kind == "pink":
        return coloured_noise(n, 1.0, rng)
    if kind == "brown":
        return coloured_noise(n, 2.0, rng)
    if kind == "babble":
        return babble(n, pool, rng)
    if kind == "hum":
        return hum(n, rng)
    if kind == "hum_pink":
        x = hum(n, rng) + coloured_noise(n, 1.0, rng)
        return x / np.sqrt(np.mean(x**2))
    raise ValueError(f"unknown noise kind {kind!r}")


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """``clean + noise`` at ``snr_db`` (power over the whole utterance); both scaled down together if it would clip."""
    noise = noise * np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    noisy = clean + noise
    peak = max(np.abs(noisy).max(), np.abs(clean).max())
    scale = min(1.0, 0.95 / peak)
    return clean * scale, noisy * scale


def baseline_scores(root: Path) -> dict[str, float]:
    """Mean SI-SDR (and PESQ wb / STOI when installed) of noisy against clean over the test set, as stored on disk."""
    from torchmetrics.functional.audio import scale_invariant_signal_distortion_ratio

    scores: dict[str, list[float]] = {"SI-SDR (dB)": []}
    try:
        from pesq import pesq
        from pystoi import stoi
    except ImportError:
        pesq = stoi = None
    for clean_path in sorted((root / "clean_testset_wav").glob("*.wav")):
        clean, _ = soundfile.read(str(clean_path), dtype="float64")
        noisy, _ = soundfile.read(str(root / "noisy_testset_wav" / clean_path.name), dtype="float64")
        sisdr = scale_invariant_signal_distortion_ratio(torch.from_numpy(noisy), torch.from_numpy(clean))
        scores["SI-SDR (dB)"].append(float(sisdr))
        if pesq is not None:
            scores.setdefault("PESQ (wb)", []).append(float(pesq(SAMPLE_RATE, clean, noisy, "wb")))
            scores.setdefault("STOI", []).append(float(stoi(clean, noisy, SAMPLE_RATE, extended=False)))
    return {k: float(np.mean(v)) for k, v in scores.items()}


README = """# speech_demo: a tiny synthetic noisy/clean speech corpus

A toy stand-in for VoiceBank-DEMAND (Valentini et al.) in the same layout, small enough to commit and to train a tiny
SEGAN on a CPU in CI and in the quick-start. It is **not** a benchmark: real results need the real corpus
(`scripts/datasets/prepare_voicebank.py`).

## How it was made

    python scripts/maintainer/make_demo_speech.py --out data/speech_demo --seed {seed}

with espeak-ng {espeak_version}. Clean speech is English sentences written for this corpus, synthesised by espeak-ng
with one voice per speaker; noisy = clean + generated noise at a fixed SNR (see the script's docstring for every
detail). 16 kHz, mono, 16-bit PCM WAV.

| split | speakers | utterances | noises | SNR (dB) |
|---|---|---|---|---|
| train (`*_trainset_wav`) | {train_speakers} | {n_train} | white, pink, babble, hum | 0, 5, 10, 15 |
| test (`*_testset_wav`) | {test_speakers} | {n_test} | brown, babble, hum + pink | 2.5, 7.5, 12.5 |

Hold out one training speaker for validation, e.g. `val_speakers: [p005]`.
Durations: {min_dur:.2f}-{max_dur:.2f} s per utterance, {total_dur:.0f} s in all; {size_mb:.1f} MB on disk.

## Baseline to beat

The noisy input's own scores against the clean reference on the test set (mean over {n_test} files; SI-SDR from
torchmetrics `scale_invariant_signal_distortion_ratio`{pesq_note}):

{scores}

## Licence

All audio is our own generated data: the sentences were written for this corpus, the voices are espeak-ng's built-in
formant voices (espeak-ng is GPL-3.0 software; audio it outputs is not covered by that licence), and the noises are
generated by the script. Distributed under the project's licence (MIT).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/speech_demo"), help="corpus folder to (re)create")
    parser.add_argument("--seed", type=int, default=0, help="seed of pitch/rate jitter, noises and mixing")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("make_demo_speech.py needs the espeak-ng program: apt-get install espeak-ng", file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    out: Path = args.out
    for name in ("clean_trainset_wav", "noisy_trainset_wav", "clean_testset_wav", "noisy_testset_wav"):
        if (out / name).exists():
            shutil.rmtree(out / name)

    splits = (("train", TRAIN_SPEAKERS, TRAIN_PER_SPEAKER), ("test", TEST_SPEAKERS, TEST_PER_SPEAKER))
    clean: dict[str, list[tuple[str, np.ndarray]]] = {"train": [], "test": []}
    sentences = iter(SENTENCES)
    with tempfile.TemporaryDirectory() as tmp:
        for split, speakers, per_speaker in splits:
            for spk, (voice, pitch, wpm) in speakers.items():
                for k in range(1, per_speaker + 1):
                    p = int(np.clip(pitch + rng.integers(-6, 7), 0, 99))
                    s = int(wpm + rng.integers(-10, 11))
                    clean[split].append((f"{spk}_{k:03d}", synthesise(next(sentences), voice, p, s, Path(tmp))))

    durations = []
    for split, _, _ in splits:
        noises, snrs = (TRAIN_NOISES, TRAIN_SNRS) if split == "train" else (TEST_NOISES, TEST_SNRS)
        for i, (name, x) in enumerate(clean[split]):
            # babble from other speakers' utterances, of either split
            pool = [u for s in clean.values() for n, u in s if n.split("_")[0] != name.split("_")[0]]
            kind, snr = noises[i % len(noises)], snrs[(i // len(noises)) % len(snrs)]
            c, y = mix(x, make_noise(kind, len(x), pool, rng), snr)
            write_wav(out / f"clean_{split}set_wav" / f"{name}.wav", torch.from_numpy(c), SAMPLE_RATE)
            write_wav(out / f"noisy_{split}set_wav" / f"{name}.wav", torch.from_numpy(y), SAMPLE_RATE)
            durations.append(len(x) / SAMPLE_RATE)
            print(f"{split} {name}: {len(x) / SAMPLE_RATE:.2f} s, {kind} at {snr:g} dB")

    scores = baseline_scores(out)
    version = re.search(
        r"text-to-speech:\s*(\S+)", subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    )
    size = sum(p.stat().st_size for p in out.rglob("*.wav"))
    (out / "README.md").write_text(
        README.format(
            seed=args.seed,
            espeak_version=version.group(1) if version else "(unknown version)",
            train_speakers=", ".join(TRAIN_SPEAKERS),
            test_speakers=", ".join(TEST_SPEAKERS),
            n_train=len(clean["train"]),
            n_test=len(clean["test"]),
            min_dur=min(durations),
            max_dur=max(durations),
            total_dur=sum(durations),
            size_mb=size / 1e6,
            pesq_note="; PESQ wide-band from `pesq`, STOI from `pystoi`" if "STOI" in scores else "",
            scores="\n".join(f"- {k}: {v:.2f}" for k, v in scores.items()),
        )
    )
    print(f"wrote {out} ({size / 1e6:.1f} MB); noisy test baseline: {scores}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
