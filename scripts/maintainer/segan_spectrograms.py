"""Write noisy, enhanced and clean spectrograms of one utterance for a SEGAN checkpoint, one above the other.

The enhanced signal is what ``predict`` writes for the noisy file (:meth:`lightning_gan.deploy.api.Generator.enhance`);
the three spectrograms share one dB scale (the loudest of the three at the top, 80 dB below it black), as in the
HTML report (:mod:`lightning_gan.callbacks.html_report`).

Usage::

    python scripts/maintainer/segan_spectrograms.py --ckpt <run>/checkpoints/best-*.ckpt \\
        --noisy data/speech_demo/noisy_testset_wav/p006_001.wav \\
        --clean data/speech_demo/clean_testset_wav/p006_001.wav \\
        --out docs/images/segan_demo_spectrograms.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from lightning_gan.callbacks.html_report import comparable_spectrograms
from lightning_gan.data.wav import read_wav
from lightning_gan.deploy.api import load_generator

LABEL_HEIGHT = 16  # pixels of white above each spectrogram for its name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, required=True, help="the checkpoint")
    parser.add_argument("--noisy", type=Path, required=True, help="the noisy utterance (any rate: it is resampled)")
    parser.add_argument("--clean", type=Path, required=True, help="its clean reference")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--seed", type=int, default=0, help="seed for G's noise z (default 0)")
    parser.add_argument("--stretch", type=int, default=2, help="pixels per STFT frame (default 2)")
    args = parser.parse_args(argv)
    generator = load_generator(args.ckpt, device="cpu")
    rate = generator.info.sample_rate
    if rate is None:
        parser.error(f"{args.ckpt} does not record a sample rate: is it a SEGAN checkpoint?")
    noisy, clean = read_wav(args.noisy, rate), read_wav(args.clean, rate)
    if noisy.numel() != clean.numel():
        parser.error(f"{args.noisy} has {noisy.numel()} samples at {rate} Hz but {args.clean} has {clean.numel()}")
    # enhance() reads a file exactly as read_wav does, so the waveform already read is passed, not the path again.
    waves = {"noisy": noisy, "enhanced": generator.enhance(noisy, seed=args.seed), "clean": clean}
    pictures = comparable_spectrograms(waves)
    panels = [p.resize((p.width * args.stretch, p.height), Image.Resampling.NEAREST) for p in pictures.values()]
    width, height = panels[0].size
    out = Image.new("RGB", (width, len(panels) * (LABEL_HEIGHT + height)), "white")
    draw = ImageDraw.Draw(out)
    for i, (name, panel) in enumerate(zip(pictures, panels, strict=True)):
        y = i * (LABEL_HEIGHT + height)
        draw.text((2, y + 2), f"{name} (0-{rate // 2000} kHz, 80 dB range)", fill="black")
        out.paste(panel, (0, y + LABEL_HEIGHT))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out.save(args.out)
    frames = width // args.stretch
    print(f"wrote {args.out}: noisy | enhanced | clean spectrograms of {args.noisy.name}, {frames} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
