"""Prepare VoiceBank-DEMAND (Valentini et al.) for ``NoisyCleanSpeechDataModule``: 16 kHz, mono, 16-bit copies.

    python scripts/datasets/prepare_voicebank.py --src ~/Downloads/voicebank --out data/voicebank

``--src`` holds the unzipped DataShare folders (directly, or one folder level down), at 48 kHz:

    clean_trainset_28spk_wav/  noisy_trainset_28spk_wav/  clean_testset_wav/  noisy_testset_wav/

(the 2016 release's ``clean_trainset_wav`` / ``noisy_trainset_wav`` work too). ``--out`` receives
``{clean,noisy}_{train,test}set_wav/pNNN_MMM.wav`` resampled with the anti-aliasing filter of
:mod:`lightning_gan.data.wav`: 11,572 training and 824 test pairs, ~2.3 GB at 48 kHz in, ~0.8 GB out. Files already in
``--out`` are skipped, so an interrupted run can be resumed. The data module can read the 48 kHz folders directly
(resampling into its decode cache on the first epoch); converting once keeps the corpus small and every epoch cheap.
"""

import argparse
import sys
from pathlib import Path

from lightning_gan.data.wav import read_wav, write_wav

DOWNLOAD = """\
Download the corpus (CC BY 4.0) from the University of Edinburgh DataShare, DOI 10.7488/ds/2117
(https://doi.org/10.7488/ds/2117), and unzip into one folder:
  clean_trainset_28spk_wav.zip, noisy_trainset_28spk_wav.zip, clean_testset_wav.zip, noisy_testset_wav.zip
(the 56-speaker training sets in the same release are not the SEGAN setup)."""

#: output folder -> accepted source folder names, in order of preference
SOURCES: dict[str, tuple[str, ...]] = {
    "clean_trainset_wav": ("clean_trainset_28spk_wav", "clean_trainset_wav"),
    "noisy_trainset_wav": ("noisy_trainset_28spk_wav", "noisy_trainset_wav"),
    "clean_testset_wav": ("clean_testset_wav",),
    "noisy_testset_wav": ("noisy_testset_wav",),
}
EXPECTED_COUNTS = {"train": 11572, "test": 824}


def find_source(src: Path, names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` under ``src`` or one level down (zips often unpack into a folder of their own)."""
    for name in names:
        for candidate in (src / name, *sorted(src.glob(f"*/{name}"))):
            if candidate.is_dir():
                return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=DOWNLOAD, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--src", type=Path, required=True, help="folder with the unzipped DataShare folders")
    parser.add_argument("--out", type=Path, required=True, help="corpus root to write (the data module's root)")
    parser.add_argument("--sample-rate", type=int, default=16000, help="output rate in Hz (16000 as in SEGAN)")
    parser.add_argument("--overwrite", action="store_true", help="rewrite files that already exist in --out")
    args = parser.parse_args(argv)

    folders = {out: find_source(args.src, names) for out, names in SOURCES.items()}
    missing = [" or ".join(SOURCES[out]) for out, folder in folders.items() if folder is None]
    if missing:
        print(f"error: not found under {args.src}: {'; '.join(missing)}\n\n{DOWNLOAD}", file=sys.stderr)
        return 1

    for out_name, folder in ((o, f) for o, f in folders.items() if f is not None):
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav")
        written = 0
        for i, path in enumerate(files, 1):
            target = args.out / out_name / f"{path.stem}.wav"
            if args.overwrite or not target.exists():
                # write to a temporary name first so an interrupted run never leaves a truncated file behind
                tmp = target.with_name(f".{target.name}.part")  # not *.wav: never paired
                write_wav(tmp, read_wav(path, args.sample_rate), args.sample_rate)
                tmp.replace(target)
                written += 1
            if i % 1000 == 0:
                print(f"  {out_name}: {i}/{len(files)}")
        split = "train" if "train" in out_name else "test"
        note = "" if len(files) == EXPECTED_COUNTS[split] else f" (the paper's set has {EXPECTED_COUNTS[split]})"
        print(f"{folder} -> {args.out / out_name}: {len(files)} files{note}, {written} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
