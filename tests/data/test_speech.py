"""NoisyCleanSpeechDataModule, the bundled demo corpus and the speech data scripts."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import soundfile
import torch

from lightning_gan.data.emphasis import pre_emphasis
from lightning_gan.data.speech import NoisyCleanSpeechDataModule, pair_files, window_starts
from lightning_gan.data.wav import read_wav
from lightning_gan.errors import InputError

REPO = Path(__file__).resolve().parents[2]
W, HOP = 1024, 512


def write(path: Path, x: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, x, rate, subtype=subtype)


def make_corpus(root: Path, train: dict[str, int], test: dict[str, int], train_dir: str = "trainset_wav") -> Path:
    """Random clean speech stand-ins and noisy = clean + noise, ``{name: length}`` per split, 16 kHz 16-bit."""
    rng = np.random.default_rng(0)
    for split, files in ((train_dir, train), ("testset_wav", test)):
        for name, n in files.items():
            clean = rng.uniform(-0.5, 0.5, n)
            write(root / f"clean_{split}" / f"{name}.wav", clean)
            write(root / f"noisy_{split}" / f"{name}.wav", clean + rng.uniform(-0.2, 0.2, n))
    return root


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    train = {"p001_001": 3000, "p001_002": 2048, "p002_001": 700, "p002_002": 1500, "p003_001": 2600}
    return make_corpus(tmp_path / "vb", train, {"p009_001": 1800, "p009_002": 900})


def module(root: Path, **kwargs) -> NoisyCleanSpeechDataModule:
    args = {"window": W, "hop": HOP, "val_speakers": ("p002",), "batch_size": 2, "num_workers": 0, "cache_dir": None}
    return NoisyCleanSpeechDataModule(str(root), **{**args, **kwargs})


def load_script(name: str) -> ModuleType:
    folder = "datasets" if name == "prepare_voicebank" else "maintainer"
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / folder / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_pairing_by_name_whatever_the_listing_order(tmp_path: Path) -> None:
    for name in ("p2_b.wav", "p1_a.wav", "p1_c.WAV"):
        write(tmp_path / "clean" / name, np.zeros(10))
    for name in ("p1_c.WAV", "p2_b.wav", "p1_a.wav"):
        write(tmp_path / "noisy" / name, np.zeros(10))
    (tmp_path / "noisy" / "notes.txt").write_text("ignored")
    pairs = pair_files(tmp_path / "clean", tmp_path / "noisy")
    assert [(n, c.name, y.name) for n, c, y in pairs] == [
        ("p1_a", "p1_a.wav", "p1_a.wav"),
        ("p1_c", "p1_c.WAV", "p1_c.WAV"),
        ("p2_b", "p2_b.wav", "p2_b.wav"),
    ]


def test_window_starts_half_overlap_and_tail() -> None:
    assert window_starts(3000, W, HOP, cover_tail=False) == [0, 512, 1024, 1536]
    assert window_starts(3000, W, HOP) == [0, 512, 1024, 1536, 1976]  # last window ends at the last sample
    assert window_starts(2048, W, HOP) == [0, 512, 1024]  # no tail, nothing added
    assert window_starts(W, W, HOP) == [0]
    assert window_starts(700, W, HOP) == [0]  # shorter than a window: one padded window, never dropped


def test_training_windows_are_slices_of_the_pre_emphasised_utterance(corpus: Path) -> None:
    dm = module(corpus, pre_emphasis=0.9)
    dm.setup("fit")
    ds = dm.train_set
    # p001_001 (5) + p001_002 (3) + p003_001 (5: 0, 512, 1024, 1536 and 1576 at the end); p002 is held out
    assert len(ds) == 5 + 3 + 5
    names = [ds[i]["name"] for i in range(len(ds))]
    assert names[:5] == ["p001_001@0", "p001_001@512", "p001_001@1024", "p001_001@1536", "p001_001@1976"]
    noisy = read_wav(corpus / "noisy_trainset_wav" / "p001_001.wav")
    clean = read_wav(corpus / "clean_trainset_wav" / "p001_001.wav")
    for i, start in ((0, 0), (1, HOP), (4, 1976)):  # the second window starts at hop: 50 % overlap
        item = ds[i]
        assert item["condition"].shape == item["real"].shape == (1, W)
        torch.testing.assert_close(item["condition"][0], pre_emphasis(noisy, 0.9)[start : start + W])
        torch.testing.assert_close(item["real"][0], pre_emphasis(clean, 0.9)[start : start + W])
    torch.testing.assert_close(ds[1]["condition"][0, :HOP], ds[0]["condition"][0, HOP:])


def test_short_file_is_zero_padded_to_one_window(tmp_path: Path) -> None:
    root = make_corpus(tmp_path, {"p001_001": 700, "p002_001": 2000}, {"p009_001": 100})
    dm = module(root, batch_size=1)
    dm.setup("fit")
    item = dm.train_set[0]
    assert item["name"] == "p001_001@0" and item["condition"].shape == (1, W)
    raw = torch.nn.functional.pad(read_wav(root / "noisy_trainset_wav" / "p001_001.wav"), (0, W - 700))
    torch.testing.assert_close(item["condition"][0], pre_emphasis(raw, 0.95))
    assert torch.all(item["condition"][0, 701:] == 0) and torch.all(item["real"][0, 701:] == 0)


def test_pre_emphasis_zero_gives_the_raw_audio(corpus: Path) -> None:
    dm = module(corpus, pre_emphasis=0.0)
    dm.setup("test")
    item = dm.test_set[0]
    torch.testing.assert_close(item["real"][0], read_wav(corpus / "clean_testset_wav" / "p009_001.wav"))


def test_speaker_hold_out_and_whole_utterance_validation(corpus: Path) -> None:
    dm = module(corpus)
    dm.setup("fit")
    train_names = [dm.train_set[i]["name"] for i in range(len(dm.train_set))]
    assert not [n for n in train_names if n.startswith("p002_")]
    assert {n.split("_")[0] for n in train_names} == {"p001", "p003"}
    batches = list(dm.val_dataloader())
    assert [b["name"] for b in batches] == [["p002_001"], ["p002_002"]]
    assert [b["condition"].shape for b in batches] == [(1, 1, 700), (1, 1, 1500)]
    clean = read_wav(corpus / "clean_trainset_wav" / "p002_002.wav")
    torch.testing.assert_close(batches[1]["real"][0, 0], pre_emphasis(clean, 0.95))


def test_train_and_test_batches(corpus: Path) -> None:
    dm = module(corpus, batch_size=5)
    dm.setup("fit")
    dm.setup("test")
    batches = list(dm.train_dataloader())
    assert len(batches) == 2  # 13 windows, the incomplete third batch is dropped
    assert batches[0]["condition"].shape == batches[0]["real"].shape == (5, 1, W)
    assert batches[0]["condition"].dtype == torch.float32 and len(batches[0]["name"]) == 5
    test = list(dm.test_dataloader())
    assert [b["name"] for b in test] == [["p009_001"], ["p009_002"]]
    assert test[0]["condition"].shape == test[0]["real"].shape == (1, 1, 1800)
    assert dm.condition_channels == dm.real_channels == 1


def test_empty_val_speakers_validates_on_the_test_set(corpus: Path) -> None:
    dm = module(corpus, val_speakers=())
    dm.setup("fit")
    assert len(dm.train_set) == 5 + 3 + 1 + 2 + 5  # p002_002 (1500): 0 and 476
    assert [b["name"][0] for b in dm.val_dataloader()] == ["p009_001", "p009_002"]


def test_validate_then_fit_builds_the_training_set(corpus: Path) -> None:
    dm = module(corpus)
    dm.setup("validate")
    assert dm.train_set is None and len(dm.val_set) == 2
    dm.setup("fit")
    assert len(dm.train_set) == 13


def test_predict_resamples_and_reports_original_rate_and_length(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    t = np.arange(4800) / 48000
    write(folder / "talk.wav", np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 48000)  # 0.1 s stereo
    write(folder / "other.wav", np.zeros(1000), 16000)
    dm = module(corpus, predict_dir=str(folder))
    dm.setup("predict")
    batches = list(dm.predict_dataloader())
    assert [b["name"] for b in batches] == [["other"], ["talk"]]
    talk = batches[1]
    assert talk["sample_rate"] == [48000] and talk["length"] == [1600]
    assert talk["condition"].shape == (1, 1, 1600)
    assert set(talk) == {"condition", "name", "sample_rate", "frames", "length"}
    assert batches[0]["sample_rate"] == [16000] and batches[0]["length"] == [1000]


def test_predict_needs_a_folder_of_wavs(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="predict_dir"):
        module(corpus).setup("predict")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        module(corpus, predict_dir=str(tmp_path / "nowhere")).setup("predict")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no audio files"):
        module(corpus, predict_dir=str(tmp_path / "empty")).setup("predict")


def test_reference_batch_is_deterministic(corpus: Path) -> None:
    dm = module(corpus)
    a, b, c = dm.reference_batch(4, seed=3), dm.reference_batch(4, seed=3), dm.reference_batch(4, seed=4)
    assert a["condition"].shape == a["real"].shape == (4, 1, W)
    assert a["name"] == b["name"] and len(set(a["name"])) == 4  # no repeats while there are enough windows
    torch.testing.assert_close(a["condition"], b["condition"])
    assert a["name"] != c["name"]
    assert not [n for n in a["name"] if n.startswith("p002_")]  # drawn from the training windows only
    assert dm.reference_batch(20)["real"].shape == (20, 1, W)  # more than 13 windows: drawn with replacement


def test_48khz_corpus_is_resampled_through_the_cache(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for kind in ("clean", "noisy"):
        for split, name in (
            ("trainset_28spk_wav", "p001_001"),
            ("trainset_28spk_wav", "p002_001"),
            ("testset_wav", "p009_001"),
        ):
            write(tmp_path / f"{kind}_{split}" / f"{name}.wav", rng.uniform(-0.5, 0.5, 6000), 48000)
    dm = module(tmp_path, cache_dir=str(tmp_path / "cache"), batch_size=1)
    dm.setup("fit")
    assert dm.train_set.utterances[0].length == 2000  # 6000 samples at 48 kHz
    assert len(dm.train_set) == 3 and dm.train_set[2]["condition"].shape == (1, W)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2  # clean + noisy of the utterance read so far


def test_missing_folders_are_named(tmp_path: Path, corpus: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        module(tmp_path / "nowhere").setup("fit")
    with pytest.raises(FileNotFoundError, match=r"expected one of clean_trainset_wav, .*clean_trainset_28spk_wav"):
        module(tmp_path).setup("fit")
    (corpus / "noisy_testset_wav").rename(corpus / "noisy_test")
    with pytest.raises(FileNotFoundError, match=r"no noisy test folder .*noisy_testset_wav"):
        module(corpus).setup("test")


def test_unmatched_names_are_listed(corpus: Path) -> None:
    (corpus / "noisy_trainset_wav" / "p001_001.wav").rename(corpus / "noisy_trainset_wav" / "p001_01.wav")
    with pytest.raises(ValueError, match=r"1 only in .*clean_trainset_wav \(first: \['p001_001.wav'\]\).*p001_01.wav"):
        module(corpus).setup("fit")


def test_unknown_val_speaker_and_too_large_batch_are_rejected(corpus: Path) -> None:
    with pytest.raises(ValueError, match=r"val_speakers \['p226'\] do not occur.*p001"):
        module(corpus, val_speakers=("p226",)).setup("fit")
    with pytest.raises(ValueError, match="hold out every training speaker"):
        module(corpus, val_speakers=("p001", "p002", "p003")).setup("fit")
    with pytest.raises(
        ValueError,
        match=r"batch_size=14 is more than the 13 training windows of 1024 samples in the corpus .*vb: .*at most 13",
    ):
        module(corpus, batch_size=14).setup("fit")
    with pytest.raises(ValueError, match="hop"):
        module(corpus, hop=2 * W)
    with pytest.raises(ValueError, match="list of speaker ids or 'auto'"):
        module(corpus, val_speakers="p002")


def test_corrupt_empty_and_misaligned_files_fail_at_setup(corpus: Path) -> None:
    bad = corpus / "noisy_trainset_wav" / "p003_001.wav"
    bad.write_bytes(b"garbage, not audio")
    with pytest.raises(RuntimeError, match=r"cannot read audio .*noisy_trainset_wav/p003_001\.wav"):
        module(corpus).setup("fit")
    write(bad, np.zeros(0))
    with pytest.raises(ValueError, match=r"p003_001\.wav has no samples"):
        module(corpus).setup("fit")
    write(bad, np.zeros(2599))
    with pytest.raises(ValueError, match=r"p003_001 \(clean 2600, noisy 2599\)"):
        module(corpus).setup("fit")


def test_a_nan_anywhere_in_a_float_file_stops_setup_once_per_file(corpus: Path, monkeypatch) -> None:
    """Issue 25: a NaN was found only when a random window covered it (a 2-batch run exited 0). The index reads each
    float file whole, once, and integer PCM files not at all (they cannot hold NaN)."""
    nan = np.full(3000, 0.1, dtype=np.float32)
    nan[2500], nan[2700] = np.nan, np.inf  # in the tail: past the first window
    write(corpus / "noisy_trainset_wav" / "p001_001.wav", nan, subtype="FLOAT")
    reads: list[str] = []
    blocks = soundfile.blocks
    monkeypatch.setattr(soundfile, "blocks", lambda path, **kw: reads.append(Path(path).name) or blocks(path, **kw))
    with pytest.raises(InputError) as caught:
        module(corpus).setup("fit")
    assert str(caught.value) == (
        f"audio file {corpus / 'noisy_trainset_wav' / 'p001_001.wav'} contains 2 NaN or infinite samples, the first "
        "at sample 2500 (0.156 s); expected finite samples. Fix the file or remove it from the corpus"
    )
    assert reads == ["p001_001.wav"]  # read once; the 16-bit files only by header


def test_a_file_made_nan_after_setup_is_named_in_one_line_from_a_worker(corpus: Path) -> None:
    dm = module(corpus, num_workers=1, batch_size=13)
    dm.setup("fit")
    nan = np.full(3000, 0.1, dtype=np.float32)
    nan[2500] = np.nan
    write(corpus / "noisy_trainset_wav" / "p001_001.wav", nan, subtype="FLOAT")  # rewritten during the run
    with pytest.raises(InputError) as caught:
        next(iter(dm.train_dataloader()))
    message = str(caught.value)
    assert message.startswith(f"audio file {corpus / 'noisy_trainset_wav' / 'p001_001.wav'} contains 1 NaN")
    assert "\n" not in message and "Traceback" not in message  # the worker's traceback is left out


def test_bundled_demo_corpus_parses() -> None:
    dm = NoisyCleanSpeechDataModule(
        str(REPO / "data" / "speech_demo"), val_speakers=("p005",), batch_size=8, num_workers=0, cache_dir=None
    )
    dm.setup("fit")
    dm.setup("test")
    train_utts = dm.train_set.utterances
    assert len(train_utts) == 32 and {u.name[:4] for u in train_utts} == {"p001", "p002", "p003", "p004"}
    assert len(dm.val_set) == 8 and len(dm.test_set) == 10
    assert all(16000 < u.length < 48000 for u in train_utts)  # 1-3 s at 16 kHz
    item = dm.train_set[0]
    assert item["condition"].shape == (1, 16384) and item["condition"].abs().max() <= 2.0
    assert not torch.equal(item["condition"], item["real"])


def test_prepare_voicebank_on_a_tiny_fake_corpus(tmp_path: Path, capsys) -> None:
    src, out = tmp_path / "download", tmp_path / "vb16k"
    rng = np.random.default_rng(2)
    t = np.arange(4800) / 48000
    for kind in ("clean", "noisy"):
        # 2017 names for the training set, unzipped one folder down as the zips do
        write(src / "zips" / f"{kind}_trainset_28spk_wav" / "p226_001.wav", 0.5 * np.sin(2 * np.pi * 500 * t), 48000)
        write(src / "zips" / f"{kind}_trainset_28spk_wav" / "p287_001.wav", rng.uniform(-0.3, 0.3, 4800), 48000)
        write(src / f"{kind}_testset_wav" / "p232_001.wav", np.stack([rng.uniform(-0.3, 0.3, 9600)] * 2, 1), 48000)
    assert load_script("prepare_voicebank").main(["--src", str(src), "--out", str(out)]) == 0
    info = soundfile.info(out / "clean_trainset_wav" / "p226_001.wav")
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 1600)
    assert soundfile.info(out / "noisy_testset_wav" / "p232_001.wav").frames == 3200
    assert sorted(p.name for p in out.iterdir()) == [
        "clean_testset_wav",
        "clean_trainset_wav",
        "noisy_testset_wav",
        "noisy_trainset_wav",
    ]
    assert not list(out.rglob("*.part"))
    dm = module(out, val_speakers=("p287",), batch_size=1)
    dm.setup("fit")
    assert [u.name for u in dm.train_set.utterances] == ["p226_001"]
    capsys.readouterr()
    assert load_script("prepare_voicebank").main(["--src", str(tmp_path / "none"), "--out", str(out)]) == 1
    assert "10.7488/ds/2117" in capsys.readouterr().err


def test_demo_mixing_hits_the_snr() -> None:
    demo = load_script("make_demo_speech")
    rng = np.random.default_rng(0)
    clean = 0.05 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    for kind in ("white", "pink", "brown", "hum", "hum_pink"):
        noise = demo.make_noise(kind, 16000, [], rng)
        assert np.sqrt(np.mean(noise**2)) == pytest.approx(1.0)
        c, y = demo.mix(clean, noise, 7.5)
        assert 10 * np.log10(np.sum(c**2) / np.sum((y - c) ** 2)) == pytest.approx(7.5)


def test_auto_val_speakers_hold_out_the_last_tenth_of_the_training_speakers(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dm = module(corpus, val_speakers="auto")
    with caplog.at_level("INFO"):
        dm.setup("fit")
    assert dm.val_speakers == ("p003",)  # max(1, round(0.1 * 3)) of p001-p003, the last in sorted order
    assert [u.name for u in dm.val_set.utterances] == ["p003_001"]
    assert {n.split("@")[0] for n in (dm.train_set[i]["name"] for i in range(len(dm.train_set)))} == {
        "p001_001", "p001_002", "p002_001", "p002_002",
    }  # fmt: skip
    assert "val_speakers auto: holding out ['p003'] of the 3 training speakers" in caplog.text
    one = make_corpus(tmp_path / "one", {"p001_001": 3000}, {"p009_001": 1800})
    with pytest.raises(ValueError, match=r"'auto' needs at least 2 training speakers .*\['p001'\]"):
        module(one, val_speakers="auto").setup("fit")


def test_auto_val_speakers_scale_with_the_corpus(tmp_path: Path) -> None:
    many = make_corpus(tmp_path / "many", {f"p{i:03d}_001": 1100 for i in range(1, 29)}, {"p100_001": 1100})
    dm = module(many, val_speakers="auto", batch_size=1)
    dm.setup("fit")
    assert dm.val_speakers == ("p026", "p027", "p028")  # round(2.8) of 28, as VoiceBank's training speakers


def _noise(corpus: Path, name: str, coef: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    clean = pre_emphasis(read_wav(corpus / "clean_trainset_wav" / f"{name}.wav"), coef)
    noisy = pre_emphasis(read_wav(corpus / "noisy_trainset_wav" / f"{name}.wav"), coef)
    return clean, noisy - clean


def test_augmented_windows_pair_a_clean_slice_with_another_slice_s_noise(corpus: Path) -> None:
    from lightning_gan.data.speech_augment import SpeechAugment

    dm = module(corpus, window_augment=SpeechAugment(shift=True, remix=True, noise_gain_db=6.0))
    dm.setup("fit")
    ds = dm.train_set
    torch.manual_seed(0)
    items = [ds[i % len(ds)] for i in range(40)]
    starts, partners, gains = set(), set(), []
    for item in items:
        (utt, start), (src, src_start) = (
            (part.split("@")[0], int(part.split("@")[1])) for part in item["name"].split("+")
        )
        clean, _ = _noise(corpus, utt)
        _, noise = _noise(corpus, src)
        torch.testing.assert_close(item["real"][0], clean[start : start + W])  # clean: an exact slice, any start
        window_noise = noise[src_start : src_start + W]
        mixed = item["condition"][0] - item["real"][0]
        gain = float(mixed @ window_noise / (window_noise @ window_noise))
        torch.testing.assert_close(mixed, gain * window_noise, atol=1e-5, rtol=1e-4)  # noise: a scaled slice
        gains.append(20 * np.log10(gain))
        starts.add(start)
        partners.add(src != utt)
    assert len(starts) > 20  # off the 512-sample grid: random starts
    assert partners == {True, False}  # other utterances' noise, sometimes its own
    assert -6.0 - 1e-3 <= min(gains) < -1.0 and 1.0 < max(gains) <= 6.0 + 1e-3
    torch.manual_seed(0)
    again = [ds[i % len(ds)] for i in range(40)]
    assert [a["name"] for a in again] == [a["name"] for a in items]  # the global seed decides every draw
    torch.testing.assert_close(again[7]["condition"], items[7]["condition"])


def test_augmentation_leaves_validation_and_the_reference_batch_alone(corpus: Path) -> None:
    from lightning_gan.data.speech_augment import SpeechAugment

    plain, augmented = module(corpus), module(corpus, window_augment=SpeechAugment(noise_gain_db=3.0))
    for dm in (plain, augmented):
        dm.setup("fit")
    torch.manual_seed(1)
    a = augmented.reference_batch(4, seed=3)
    b = plain.reference_batch(4, seed=3)
    assert a["name"] == b["name"]
    torch.testing.assert_close(a["condition"], b["condition"])
    torch.testing.assert_close(augmented.val_set[0]["condition"], plain.val_set[0]["condition"])
    assert plain.train_set[1]["name"] == "p001_001@512"  # no augment: the grid, as before
    with pytest.raises(ValueError, match="noise_gain_db must be >= 0 dB, got -1"):
        SpeechAugment(noise_gain_db=-1)
