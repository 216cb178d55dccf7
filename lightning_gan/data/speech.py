"""Paired noisy/clean speech in the VoiceBank-DEMAND layout (Valentini et al.), as used by SEGAN.

Layout under ``root`` (VoiceBank-DEMAND, DOI 10.7488/ds/2117; santi-pdp/segan c88a08d ``prepare_data.sh``)::

    clean_trainset_wav/p226_001.wav   noisy_trainset_wav/p226_001.wav
    clean_testset_wav/p232_001.wav    noisy_testset_wav/p232_001.wav

The 2017 DataShare release's ``clean_trainset_28spk_wav`` / ``noisy_trainset_28spk_wav`` names, and a ``_16k``
suffix on any of the folders, are accepted too. Clean and noisy files are paired by identical file name (never by list
position: santi-pdp/segan_pytorch 0522387 ``se_dataset.py`` pairs by unsorted glob order); the speaker is the
part of the name before the first underscore. Audio at any rate is resampled to ``sample_rate``
(:mod:`lightning_gan.data.wav`).

Decisions, each a place where the references differ or fall short:

* **Pre-emphasis per utterance, then slicing.** A training window is a slice of the pre-emphasised utterance, so its
  first sample is ``x[s] - c * x[s - 1]`` with the real previous sample, exactly what the generator sees when the
  whole utterance is pre-emphasised and windowed at test time. TF restarts the filter on every slice, which differs
  only in that first sample (santi-pdp/segan c88a08d ``data_loader.py``).
* **Every sample is trained on.** The references drop the tail shorter than a window (santi-pdp/segan c88a08d
  ``make_tfrecords.py``); with 16384-sample windows, 8192 hop and utterances of a few seconds that discards a
  sizeable part of the corpus. By default (``cover_tail=True``) one last
  window aligned to the end of the utterance is added instead; ``cover_tail=False`` reproduces the references. A file
  shorter than one window is zero-padded to one window (after its end), never dropped.
* **Validation by speaker.** The paper has no validation set; ``val_speakers`` (default p226 and p287, as several
  repos do) are held out of the training set. An empty ``val_speakers`` validates on the test set instead, which is
  what one reports anyway when there is no separate validation set. ``"auto"`` holds out the last 10 % of the
  training speakers in sorted order (at least one), so a config runs on any corpus in this layout; the chosen
  speakers are logged at setup.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from lightning import LightningDataModule
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from typing_extensions import override

from lightning_gan.data.emphasis import pre_emphasis as apply_pre_emphasis
from lightning_gan.data.file_errors import check_full_batch
from lightning_gan.data.predict_folder import ScanResult, scan_audio
from lightning_gan.data.speech_augment import SpeechAugment
from lightning_gan.data.wav import check_finite, default_cache_dir, read_wav, resampled_length, wav_info

#: Accepted folder names for each (kind, split), in order of preference when several exist.
FOLDER_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    (kind, split): tuple(
        f"{kind}_{split}set{spk}_wav{suffix}"
        for spk in (("", "_28spk") if split == "train" else ("",))
        for suffix in ("", "_16k")
    )
    for kind in ("clean", "noisy")
    for split in ("train", "test")
}


def find_folder(root: Path, kind: str, split: str) -> Path:
    """The ``kind`` (clean/noisy) folder of ``split`` (train/test) under ``root``.

    Raises:
        FileNotFoundError: none of the accepted names exists; the message lists them.
    """
    names = FOLDER_NAMES[(kind, split)]
    for name in names:
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(
        f"no {kind} {split} folder under {root}: expected one of {', '.join(names)} "
        "(VoiceBank-DEMAND layout; scripts/datasets/prepare_voicebank.py creates it)"
    )


def list_wavs(folder: Path) -> dict[str, Path]:
    """``{file name: path}`` of the ``.wav`` files directly in ``folder`` (extension case-insensitive)."""
    return {p.name: p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".wav" and p.is_file()}


def pair_files(clean_dir: Path, noisy_dir: Path) -> list[tuple[str, Path, Path]]:
    """``(name, clean, noisy)`` for every file name present in both folders, sorted by name.

    Raises:
        ValueError: a folder is empty, or some names exist on one side only (the first few of each side are listed).
    """
    clean, noisy = list_wavs(clean_dir), list_wavs(noisy_dir)
    for folder, files in ((clean_dir, clean), (noisy_dir, noisy)):
        if not files:
            raise ValueError(f"no .wav files in {folder}")
    only_clean, only_noisy = sorted(clean.keys() - noisy.keys()), sorted(noisy.keys() - clean.keys())
    if only_clean or only_noisy:
        raise ValueError(
            f"clean and noisy files must have identical names: {len(only_clean)} only in {clean_dir} "
            f"(first: {only_clean[:5]}), {len(only_noisy)} only in {noisy_dir} (first: {only_noisy[:5]})"
        )
    return [(Path(name).stem, clean[name], noisy[name]) for name in sorted(clean)]


def speaker_of(name: str) -> str:
    """VoiceBank speaker id of an utterance name: ``"p226_001"`` -> ``"p226"``."""
    return name.split("_", 1)[0]


@dataclass(frozen=True)
class Utterance:
    """One clean/noisy pair; ``length`` in samples at the data module's sample rate."""

    name: str
    clean: Path
    noisy: Path
    length: int


def index_pairs(pairs: Sequence[tuple[str, Path, Path]], sample_rate: int) -> list[Utterance]:
    """Read every pair's headers, check that the pair lines up, and check float files for NaN and infinity.

    The finiteness check reads each float file whole, once, here (integer PCM files cannot hold NaN and are not
    read: :func:`~lightning_gan.data.wav.check_finite`). Checking only the windows a batch reads would find a NaN
    when, and if, a random window covers it.

    Raises:
        AudioReadError: a file is unreadable or not audio, or holds NaN or infinite samples (named, with the count
            and the first position).
        ValueError: a file is empty, or clean and noisy lengths differ at ``sample_rate`` (the first few are listed).
    """
    utterances, mismatched = [], []
    for name, clean, noisy in pairs:
        lengths = []
        for path in (clean, noisy):
            frames, rate, _ = wav_info(path)
            if frames == 0:
                raise ValueError(f"audio file {path} has no samples")
            check_finite(path)
            lengths.append(resampled_length(frames, rate, sample_rate))
        if lengths[0] != lengths[1]:
            mismatched.append(f"{name} (clean {lengths[0]}, noisy {lengths[1]})")
        utterances.append(Utterance(name, clean, noisy, lengths[0]))
    if mismatched:
        raise ValueError(
            f"{len(mismatched)} clean/noisy pairs differ in length at {sample_rate} Hz, so they cannot be aligned "
            f"sample by sample: {', '.join(mismatched[:5])}"
        )
    return utterances


def window_starts(length: int, window: int, hop: int, cover_tail: bool = True) -> list[int]:
    """Start samples of the training windows of a ``length``-sample utterance.

    Windows start every ``hop`` samples while they fit; with ``cover_tail`` one more window ends exactly at the end of
    the utterance when the regular ones leave a tail. An utterance shorter than ``window`` has a single window at 0
    (zero-padded when read).
    """
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, hop))
    if cover_tail and starts[-1] + window < length:
        starts.append(length - window)
    return starts


def collate_speech(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors along a new batch dimension; gather everything else (names, rates, lengths) into lists."""
    return {
        key: torch.stack([it[key] for it in items]) if isinstance(items[0][key], Tensor) else [it[key] for it in items]
        for key in items[0]
    }


class SpeechWindows(Dataset):
    """Fixed-length training windows over utterances: ``{"condition": noisy 1 x W, "real": clean 1 x W, "name"}``.

    The name is ``"<utterance>@<start sample>"``. Windows are slices of the zero-padded, pre-emphasised utterance
    (module docstring); only the window plus one sample of context is read from disk. With ``augment``
    (:class:`~lightning_gan.data.speech_augment.SpeechAugment`) the start is drawn anew at every read and the noisy
    window may carry another window's noise; the name then reads ``"<utterance>@<start>+<noise utterance>@<start>"``.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        window: int,
        hop: int,
        sample_rate: int,
        pre_emphasis: float,
        cover_tail: bool = True,
        cache_dir: Path | None = None,
        augment: SpeechAugment | None = None,
    ) -> None:
        self.utterances = list(utterances)
        self.window, self.sample_rate, self.coef, self.cache_dir = window, sample_rate, pre_emphasis, cache_dir
        self.augment = augment
        pairs = [
            (u, s) for u, utt in enumerate(self.utterances) for s in window_starts(utt.length, window, hop, cover_tail)
        ]
        # Two flat arrays rather than a list of tuples: compact to pickle into DataLoader workers.
        self.utt_index = np.array([u for u, _ in pairs], dtype=np.int64)
        self.starts = np.array([s for _, s in pairs], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.starts)

    def _read(self, path: Path, start: int) -> Tensor:
        context = 1 if start > 0 else 0
        x = read_wav(path, self.sample_rate, self.cache_dir, start=start - context, stop=start + self.window)
        x = torch.nn.functional.pad(x, (0, self.window + context - x.numel()))
        return apply_pre_emphasis(x, self.coef)[context:].unsqueeze(0)

    def _locate(self, i: int) -> tuple[Utterance, int]:
        assert self.augment is not None
        utt = self.utterances[int(self.utt_index[i])]
        return utt, self.augment.start(int(self.starts[i]), utt.length, self.window)

    def grid_item(self, i: int) -> dict[str, Any]:
        """Window ``i`` at its grid position with its own noise, whatever ``augment`` says (fixed reference batches)."""
        utt, start = self.utterances[int(self.utt_index[i])], int(self.starts[i])
        return {
            "condition": self._read(utt.noisy, start),
            "real": self._read(utt.clean, start),
            "name": f"{utt.name}@{start}",
        }

    def __getitem__(self, i: int) -> dict[str, Any]:
        if self.augment is None:
            return self.grid_item(i)
        utt, start = self._locate(i)
        clean = self._read(utt.clean, start)
        j = self.augment.partner(i, len(self))
        source, source_start = (utt, start) if j == i else self._locate(j)
        source_clean = clean if j == i else self._read(source.clean, source_start)
        noise = self._read(source.noisy, source_start) - source_clean
        return {
            "condition": self.augment.mix(clean, noise),
            "real": clean,
            "name": f"{utt.name}@{start}+{source.name}@{source_start}",
        }


class SpeechUtterances(Dataset):
    """Whole pre-emphasised utterances, for validation and test: ``{"condition": 1 x T, "real": 1 x T, "name"}``."""

    def __init__(
        self, utterances: Sequence[Utterance], sample_rate: int, pre_emphasis: float, cache_dir: Path | None = None
    ) -> None:
        self.utterances = list(utterances)
        self.sample_rate, self.coef, self.cache_dir = sample_rate, pre_emphasis, cache_dir

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, i: int) -> dict[str, Any]:
        utt = self.utterances[i]
        noisy, clean = (read_wav(p, self.sample_rate, self.cache_dir) for p in (utt.noisy, utt.clean))
        return {
            "condition": apply_pre_emphasis(noisy, self.coef).unsqueeze(0),
            "real": apply_pre_emphasis(clean, self.coef).unsqueeze(0),
            "name": utt.name,
        }


class SpeechFiles(Dataset):
    """Any WAV files, for prediction: ``{"condition": 1 x T, "name", "sample_rate", "frames", "length": T}``.

    ``length`` is the number of samples at the model's rate, so the enhanced output can be trimmed to it; with the
    file's own ``sample_rate`` and ``frames`` (its length at that rate) it can be written back exactly as long.
    """

    def __init__(
        self, files: Sequence[Path], sample_rate: int, pre_emphasis: float, cache_dir: Path | None = None
    ) -> None:
        self.files = list(files)
        self.sample_rate, self.coef, self.cache_dir = sample_rate, pre_emphasis, cache_dir
        infos = [wav_info(p) for p in self.files]  # checks every header at setup
        self.frames = [info[0] for info in infos]
        self.rates = [info[1] for info in infos]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict[str, Any]:
        path = self.files[i]
        x = read_wav(path, self.sample_rate, self.cache_dir)
        return {
            "condition": apply_pre_emphasis(x, self.coef).unsqueeze(0),
            "name": path.stem,
            "sample_rate": self.rates[i],
            "frames": self.frames[i],
            "length": x.numel(),
        }


class NoisyCleanSpeechDataModule(LightningDataModule):
    """Noisy (``condition``) / clean (``real``) speech pairs for SEGAN, in the VoiceBank-DEMAND layout.

    Training batches are ``batch_size`` windows, ``{"condition": N x 1 x window, "real": N x 1 x window, "name"}``;
    validation and test batches are one whole utterance each (``N = 1``, any length: the GAN module windows it and
    de-emphasises the output); predict batches are one file of ``predict_dir`` each, with ``"sample_rate"`` (the
    file's own rate) and ``"length"`` (samples at ``sample_rate``). All audio is mono float32, pre-emphasised.

    Args:
        root: corpus folder with ``{clean,noisy}_{train,test}set_wav`` (see the module docstring for accepted names).
        sample_rate: model rate in Hz; other rates are resampled. 16 kHz as in the paper and every reference.
        window: training window in samples; 16384 (~1.024 s at 16 kHz), the SEGAN input size (arXiv 1703.09452).
        hop: distance between training windows; 8192 = 50 % overlap, as all three references slice.
        pre_emphasis: coefficient c of ``y[n] = x[n] - c x[n-1]`` applied to clean and noisy; 0.95 as in SEGAN v1.1
            (santi-pdp/segan issue #9); 0 disables it.
        val_speakers: speakers held out of the training set for validation; p226 and p287 as several VoiceBank repos
            do (the SEGAN paper, arXiv 1703.09452, has none). Empty: no hold-out, validate on the test set. Each
            must occur in the training set. ``"auto"``: the last ``max(1, round(0.1 n))`` of the n training speakers
            in sorted order (logged).
        batch_size: training windows per batch; 100 per GPU as the TF scripts (santi-pdp/segan c88a08d
            ``train_segan.sh``). Last partial batch is
            dropped so every batch has the same size (virtual batch norm mixes a batch with its reference); a
            ``batch_size`` above the number of training windows stops at setup (ConfigError).
        num_workers: DataLoader worker processes.
        pin_memory: pin host memory for faster copies to a GPU (ignored without CUDA).
        cache_dir: decode cache for files that need resampling (:mod:`lightning_gan.data.wav`). ``"auto"`` uses
            :func:`lightning_gan.data.wav.default_cache_dir` (``~/.cache/lightning_gan/wav``); ``None`` disables it.
        predict_dir: folder of audio files (WAV, FLAC, OGG; any rate, any channel count) to enhance with
            ``predict``; every file is checked before anything is written (:mod:`lightning_gan.data.predict_folder`).
        skip_bad_inputs: skip the predict folder's bad files with a warning each instead of failing
            (``predict --skip_bad_inputs true`` sets it).
        cover_tail: add one window aligned to the end of each utterance so no audio is left out of training (module
            docstring); ``False`` drops the tail as the references do.
        window_augment: draw training windows at random starts and pair speech with other windows' noise
            (:mod:`lightning_gan.data.speech_augment`); ``None`` (default): the fixed grid of windows, as the
            references train. (Not ``augment``: that is the GAN module's augmentation of D's inputs.)
    """

    def __init__(
        self,
        root: str,
        sample_rate: int = 16000,
        window: int = 16384,
        hop: int = 8192,
        pre_emphasis: float = 0.95,
        val_speakers: tuple[str, ...] | Literal["auto"] = ("p226", "p287"),
        batch_size: int = 100,
        num_workers: int = 2,
        pin_memory: bool = True,
        cache_dir: str | None = "auto",
        predict_dir: str | None = None,
        cover_tail: bool = True,
        skip_bad_inputs: bool = False,
        window_augment: SpeechAugment | None = None,
    ) -> None:
        super().__init__()
        for name, value, low in (
            ("sample_rate", sample_rate, 1),
            ("window", window, 1),
            ("hop", hop, 1),
            ("batch_size", batch_size, 1),
            ("num_workers", num_workers, 0),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if hop > window:
            raise ValueError(f"hop ({hop}) must not exceed window ({window}): samples between windows would be skipped")
        if not 0.0 <= pre_emphasis < 1.0:
            raise ValueError(f"pre_emphasis must be in [0, 1), got {pre_emphasis}")
        if isinstance(val_speakers, str) and val_speakers != "auto":
            raise ValueError(f"val_speakers must be a list of speaker ids or 'auto', got the string {val_speakers!r}")
        self.save_hyperparameters()  # the preprocessing travels in the checkpoint (santi-pdp/segan issues #45, #12)
        self.root = Path(root).expanduser()
        self.sample_rate, self.window, self.hop, self.pre_emphasis = sample_rate, window, hop, pre_emphasis
        self.val_speakers: tuple[str, ...] | Literal["auto"] = "auto" if val_speakers == "auto" else tuple(val_speakers)
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.cache_dir = (
            None if cache_dir is None else default_cache_dir() if cache_dir == "auto" else Path(cache_dir).expanduser()
        )
        self.predict_dir = None if predict_dir is None else Path(predict_dir).expanduser()
        self.cover_tail, self.window_augment = cover_tail, window_augment
        self.skip_bad_inputs = skip_bad_inputs
        self.predict_scan: ScanResult | None = None
        self._utterances: dict[str, list[Utterance]] = {}
        self.train_set: SpeechWindows | None = None
        self.val_set: SpeechUtterances | None = None
        self.test_set: SpeechUtterances | None = None
        self.predict_set: SpeechFiles | None = None

    @property
    def condition_channels(self) -> int:
        """Channels of ``condition`` (noisy speech). SEGAN's D sees condition and sample concatenated: 2 channels."""
        return 1

    @property
    def real_channels(self) -> int:
        """Channels of ``real`` (clean speech)."""
        return 1

    def _split(self, split: str) -> list[Utterance]:
        if split not in self._utterances:
            if not self.root.is_dir():
                raise FileNotFoundError(f"speech corpus root {self.root} does not exist or is not a folder")
            pairs = pair_files(find_folder(self.root, "clean", split), find_folder(self.root, "noisy", split))
            self._utterances[split] = index_pairs(pairs, self.sample_rate)
        return self._utterances[split]

    def _train_val(self) -> tuple[list[Utterance], list[Utterance]]:
        train = self._split("train")
        if not self.val_speakers:
            return train, self._split("test")
        speakers = sorted({speaker_of(u.name) for u in train})
        if self.val_speakers == "auto":
            if len(speakers) < 2:
                raise ValueError(
                    f"val_speakers 'auto' needs at least 2 training speakers in {self.root}, found {speakers}; "
                    "set val_speakers to [] to validate on the test set"
                )
            self.val_speakers = tuple(speakers[-max(1, round(0.1 * len(speakers))) :])
            rank_zero_info(
                f"val_speakers auto: holding out {list(self.val_speakers)} of the {len(speakers)} training speakers "
                "for validation"
            )
        missing = [s for s in self.val_speakers if s not in speakers]
        if missing:
            raise ValueError(
                f"val_speakers {missing} do not occur in the training set of {self.root} "
                f"(its speakers: {speakers[:20]}{' ...' if len(speakers) > 20 else ''}); "
                "set val_speakers to some of them, or to [] to validate on the test set"
            )
        held = set(self.val_speakers)
        kept = [u for u in train if speaker_of(u.name) not in held]
        if not kept:
            raise ValueError(f"val_speakers {list(self.val_speakers)} hold out every training speaker of {self.root}")
        return kept, [u for u in train if speaker_of(u.name) in held]

    @override
    def setup(self, stage: str | None = None) -> None:
        """Index the files the stage needs (headers only) and build its datasets; bad input fails here, named."""
        needs_train = stage in ("fit", None) and self.train_set is None
        if needs_train or (stage in ("fit", "validate", None) and self.val_set is None):
            train, val = self._train_val()
            if self.val_set is None:
                self.val_set = SpeechUtterances(val, self.sample_rate, self.pre_emphasis, self.cache_dir)
            if needs_train:
                self._build_train(train)
        if stage in ("test", None) and self.test_set is None:
            self.test_set = SpeechUtterances(self._split("test"), self.sample_rate, self.pre_emphasis, self.cache_dir)
        if stage == "predict" and self.predict_set is None:
            if self.predict_dir is None:
                raise ValueError("predict needs predict_dir: the folder of audio files to enhance")
            self.predict_scan = scan_audio(self.predict_dir, self.skip_bad_inputs)
            self.predict_set = SpeechFiles(self.predict_scan.files, self.sample_rate, self.pre_emphasis, self.cache_dir)

    def _build_train(self, train: list[Utterance] | None = None) -> SpeechWindows:
        if self.train_set is None:
            if train is None:
                train, _ = self._train_val()
            self.train_set = SpeechWindows(
                train,
                self.window,
                self.hop,
                self.sample_rate,
                self.pre_emphasis,
                self.cover_tail,
                self.cache_dir,
                self.window_augment,
            )
            check_full_batch(
                self.batch_size, len(self.train_set), f"windows of {self.window} samples", f"the corpus {self.root}"
            )
        return self.train_set

    def reference_batch(self, size: int, seed: int = 0) -> dict[str, Any]:
        """A fixed batch of ``size`` training windows for SEGAN's virtual batch norm reference (``docs/references.md``,
        "SEGAN: networks and parameter counts").

        Windows at their grid positions, never augmented. Drawn uniformly with a ``torch.Generator`` seeded with
        ``seed``, so every DDP rank and every resumed run gets the same batch: without replacement when the training
        set has at least ``size`` windows (deNsuh draws with replacement, which can repeat a window), with replacement
        otherwise. Same format as a training batch.
        """
        if size < 1:
            raise ValueError(f"reference batch size must be >= 1, got {size}")
        dataset = self._build_train()
        gen = torch.Generator().manual_seed(seed)
        n = len(dataset)
        idx = torch.randperm(n, generator=gen)[:size] if size <= n else torch.randint(n, (size,), generator=gen)
        return collate_speech([dataset.grid_item(int(i)) for i in idx])

    def _loader(self, dataset: Dataset | None, stage: str, train: bool = False) -> DataLoader:
        if dataset is None:
            raise RuntimeError(f"call setup({stage!r}) before asking for its dataloader")
        return DataLoader(
            dataset,
            batch_size=self.batch_size if train else 1,
            shuffle=train,
            drop_last=train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
            persistent_workers=train and self.num_workers > 0,
            collate_fn=collate_speech,
        )

    @override
    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, "fit", train=True)

    @override
    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, "validate")

    @override
    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, "test")

    @override
    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.predict_set, "predict")
