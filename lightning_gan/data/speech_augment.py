"""Training-window augmentation for noisy/clean speech pairs: new windows and new speech/noise pairings every epoch.

A VoiceBank-size corpus is thousands of utterances; a small corpus (the bundled demo has 40 training utterances)
gives a fixed grid of a few hundred windows, each with its one noise, and SEGAN's discriminator learns them by heart
(measured in docs/experiments/segan_recipe.md, "Second round"). Two augmentations of DEMUCS (Défossez et al. 2020,
"Real Time Speech Enhancement in the Waveform Domain", arXiv 2006.12847, section 3.2: *Shift* and *Remix*) give the
generator new inputs without new recordings:

* ``shift``: each training window starts at a uniformly random sample of its utterance instead of its grid position.
* ``remix``: the window's noise, ``noisy - clean`` (exact, because the corpus is additive: VoiceBank-DEMAND mixes
  clean speech and DEMAND noise), is replaced by the noise of another, random, training window; ``noise_gain_db``
  then scales it by a random gain, uniform in decibels, so the SNRs spread around the corpus' own.

Pre-emphasis is linear, so the noise of pre-emphasised windows is the pre-emphasised noise and the pairing holds in
either domain. Randomness comes from torch's global generator, which the CLI seeds every epoch
(:class:`lightning_gan.callbacks.epoch_seeding.EpochSeeding`) and DataLoader workers derive their seeds from, so a
seeded run draws
the same windows every time, and a resumed run the same as an uninterrupted one (``tests/training/test_resume.py``).
Validation and test utterances are never augmented.
"""

from __future__ import annotations

import torch
from torch import Tensor


class SpeechAugment:
    """How :class:`~lightning_gan.data.speech.SpeechWindows` draws a training window (module docstring).

    Args:
        shift: draw each window's start uniformly over its utterance (DEMUCS *Shift*).
        remix: pair the clean window with the noise of another random training window (DEMUCS *Remix*).
        noise_gain_db: scale the noise by a gain uniform in ``[-noise_gain_db, +noise_gain_db]`` dB (0: unchanged).
    """

    def __init__(self, shift: bool = True, remix: bool = True, noise_gain_db: float = 0.0) -> None:
        if not noise_gain_db >= 0.0:
            raise ValueError(f"noise_gain_db must be >= 0 dB, got {noise_gain_db!r}")
        self.shift, self.remix, self.noise_gain_db = shift, remix, float(noise_gain_db)

    def start(self, grid_start: int, length: int, window: int) -> int:
        """The start sample of a window whose grid position is ``grid_start`` in a ``length``-sample utterance."""
        if not self.shift or length <= window:
            return grid_start
        return int(torch.randint(length - window + 1, ()).item())

    def partner(self, index: int, count: int) -> int:
        """The window whose noise window ``index`` of ``count`` receives (itself without ``remix``)."""
        return int(torch.randint(count, ()).item()) if self.remix else index

    def mix(self, clean: Tensor, noise: Tensor) -> Tensor:
        """The augmented noisy window: ``clean + gain * noise``."""
        if self.noise_gain_db == 0.0:
            return clean + noise
        gain_db = (torch.rand(()) * 2.0 - 1.0) * self.noise_gain_db
        return clean + noise * 10.0 ** (gain_db / 20.0)

    def __repr__(self) -> str:
        return f"SpeechAugment(shift={self.shift}, remix={self.remix}, noise_gain_db={self.noise_gain_db})"
