"""``scripts/maintainer/segan_spectrograms.py``: its middle panel is the spectrogram of what ``predict`` writes for
the noisy file, on the scale shared with the noisy and clean panels; mismatched files are refused by name."""

import importlib.util
from pathlib import Path

import pytest
import torch
from PIL import Image

from lightning_gan.callbacks.html_report import log_spectrogram, spectrogram_image
from lightning_gan.data.wav import read_wav
from lightning_gan.deploy.api import load_generator
from tests.conftest import ROOT
from tests.deploy.test_export import SEGAN, fit_one_batch, speech_corpus

SCRIPT = ROOT / "scripts" / "maintainer" / "segan_spectrograms.py"
DEMO = ROOT / "data" / "speech_demo"
NOISY, CLEAN = DEMO / "noisy_testset_wav" / "p006_001.wav", DEMO / "clean_testset_wav" / "p006_001.wav"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("segan_spectrograms", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("segan_spectrograms")
    return fit_one_batch([*SEGAN, "--data.init_args.root", str(speech_corpus(tmp / "corpus"))], tmp / "run")


def test_the_middle_panel_is_the_enhanced_file_on_the_shared_scale(script, checkpoint: Path, tmp_path: Path):
    out = tmp_path / "spec.png"
    assert script.main(["--ckpt", str(checkpoint), "--noisy", str(NOISY), "--clean", str(CLEAN), "--out", str(out),
                        "--stretch", "1", "--seed", "3"]) == 0  # fmt: skip
    generator = load_generator(checkpoint, device="cpu")
    rate = generator.info.sample_rate
    waves = [read_wav(NOISY, rate), generator.enhance(NOISY, seed=3), read_wav(CLEAN, rate)]
    spectra = [log_spectrogram(w) for w in waves]
    top = max(float(s.max()) for s in spectra)
    panels = [spectrogram_image(s, top) for s in spectra]
    picture = Image.open(out).convert("RGB")
    height = script.LABEL_HEIGHT + panels[0].height
    assert picture.size == (panels[0].width, 3 * height)
    for i, panel in enumerate(panels):
        got = picture.crop((0, i * height + script.LABEL_HEIGHT, panel.width, (i + 1) * height))
        assert torch.equal(torch.tensor(list(got.getdata())), torch.tensor(list(panel.getdata()))), i
    assert list(panels[1].getdata()) != list(panels[0].getdata())  # the model changed the signal


def test_files_of_different_lengths_are_refused_by_name(script, checkpoint: Path, tmp_path: Path, capsys):
    other = DEMO / "clean_testset_wav" / "p006_002.wav"
    with pytest.raises(SystemExit):
        script.main(["--ckpt", str(checkpoint), "--noisy", str(NOISY), "--clean", str(other), "--out",
                     str(tmp_path / "x.png")])  # fmt: skip
    assert "p006_002.wav" in capsys.readouterr().err
