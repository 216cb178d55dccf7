"""The composite measures (CSIG, CBAK, COVL), PESQ and segmental SNR against an independent port of composite.m.

Golden values: ``schmiph2/pysepm`` (commit 7ef88aff2c56201a2d0470aaeb58e77e47a914d2, itself checked against Loizou's
MATLAB toolkit) run on the bundled demo corpus's files; pysepm's segmental SNR on the eps-added signals, as
composite.m computes it.
"""

import numpy as np
import pytest
import soundfile
import torch
from torchmetrics import MetricCollection

from lightning_gan.metrics import CompositeInputError, CompositeMeasure, composite_measures
from lightning_gan.metrics.composite import composite_numpy
from tests.conftest import ROOT

DEMO = ROOT / "data" / "speech_demo"

GOLDEN = {
    ("p006_001", 16000): {
        "csig": 3.835428273073502, "cbak": 2.4475492896847046, "covl": 3.015450335584813,
        "pesq": 2.3812036514282227, "ssnr": 1.4723778068111664, "llr": 0.15232958259339358, "wss": 59.63226536101275,
    },
    ("p007_003", 16000): {
        "csig": 2.669744513078124, "cbak": 2.4892078577384655, "covl": 1.9142921174205838,
        "pesq": 1.2431057691574097, "ssnr": 8.409299911582698, "llr": 0.8039559226614171, "wss": 38.397513478355094,
    },
    ("p006_001", 8000): {  # every other sample of the 16 kHz files
        "csig": 4.418604450470643, "cbak": 2.938211502406278, "covl": 3.796378194320494,
        "pesq": 3.3049774169921875, "ssnr": 1.474256245071068, "llr": 0.18790090866997025, "wss": 53.99717767635428,
    },
}  # fmt: skip


def pair(name: str, fs: int = 16000) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy) float64 test file of the demo corpus, at 16 kHz or decimated by 2."""
    clean = soundfile.read(DEMO / "clean_testset_wav" / f"{name}.wav")[0]
    noisy = soundfile.read(DEMO / "noisy_testset_wav" / f"{name}.wav")[0]
    step = 16000 // fs
    return clean[::step].copy(), noisy[::step].copy()


@pytest.mark.parametrize(("name", "fs"), list(GOLDEN))
def test_golden_values_of_every_measure(name: str, fs: int) -> None:
    clean, noisy = pair(name, fs)
    got = composite_numpy(clean, noisy, fs)
    for key, expected in GOLDEN[name, fs].items():
        assert got[key] == pytest.approx(expected, rel=1e-9, abs=1e-12), key


def test_functional_api_takes_tensors_of_any_leading_shape() -> None:
    clean, noisy = (torch.from_numpy(x).float() for x in pair("p006_001"))
    one = composite_measures(noisy, clean, 16000)
    assert sorted(one) == ["cbak", "covl", "csig", "pesq", "ssnr"]
    assert all(v.shape == () and v.dtype == torch.float64 for v in one.values())
    assert one["csig"].item() == pytest.approx(GOLDEN["p006_001", 16000]["csig"], rel=1e-5)  # float32 input
    batch = composite_measures(torch.stack([noisy, clean])[:, None], torch.stack([clean, clean])[:, None], 16000)
    assert batch["pesq"].shape == (2, 1)
    assert batch["csig"][0, 0].item() == pytest.approx(one["csig"].item(), rel=1e-12)


def test_identical_signals_give_the_top_of_each_scale() -> None:
    clean = torch.from_numpy(pair("p007_003")[0])
    dithered = clean + 1e-4 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0), dtype=clean.dtype)
    got = composite_measures(dithered, dithered, 16000)
    assert got["csig"].item() == got["cbak"].item() == got["covl"].item() == 5.0
    assert got["ssnr"].item() == 35.0
    assert got["pesq"].item() == pytest.approx(4.644, abs=1e-3)  # P.862.2's ceiling


def test_digitally_silent_frames_count_as_minus_10_db_as_in_composite_m() -> None:
    """The file starts and ends with exact zeros: composite.m's eps makes those frames' SNR about -134 dB, limited to
    -10, even when the output equals the reference, so identical signals score below 35 dB there."""
    clean = torch.from_numpy(pair("p007_003")[0])
    length, hop = 480, 120
    starts = range(0, int(clean.numel() / hop - length / hop) * hop, hop)
    silent = sum(bool((clean[s : s + length] == 0).all()) for s in starts)
    assert silent > 0
    expected = (35.0 * (len(starts) - silent) - 10.0 * silent) / len(starts)
    # (frames with a few tiny samples under the window's tails fall below 35 dB too: hence not exact)
    assert composite_measures(clean, clean, 16000)["ssnr"].item() == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("gain", [0.25, 3.0])
def test_a_common_gain_changes_no_composite(gain: float) -> None:
    clean, noisy = (torch.from_numpy(x) for x in pair("p006_001"))
    base, scaled = composite_measures(noisy, clean, 16000), composite_measures(gain * noisy, gain * clean, 16000)
    for key in ("csig", "cbak", "covl", "ssnr"):
        assert scaled[key].item() == pytest.approx(base[key].item(), abs=1e-4), key


def test_silent_output_is_scored_low_and_finite() -> None:
    clean = torch.from_numpy(pair("p006_001")[0])
    got = composite_measures(torch.zeros_like(clean), clean, 16000)
    assert all(torch.isfinite(v) for v in got.values())
    assert got["csig"].item() == 1.0 and got["covl"].item() == 1.0
    assert got["ssnr"].item() == pytest.approx(0.0, abs=1e-6)  # the error is the signal itself in every frame


@pytest.mark.parametrize(
    ("preds", "target", "fs", "match"),
    [
        (torch.ones(16000), torch.ones(15999), 16000, r"same shape.*\(16000,\) and \(15999,\)"),
        (torch.randn(16000), torch.randn(16000), 22050, "fs must be 8000 or 16000 Hz.*22050"),
        (torch.randn(16000), torch.zeros(16000), 16000, "target .* is constant"),
        (torch.randn(16000), torch.full((16000,), 0.5), 16000, "target .* is constant"),
        (torch.tensor([float("nan")] * 16000), torch.randn(16000), 16000, "preds has NaN or inf samples"),
        (torch.randn(16000), torch.randn(16000).index_fill(0, torch.tensor([3]), float("inf")), 16000, "target has"),
        (torch.randn(599), torch.randn(599), 16000, "599 samples are too short.*at least 600"),
    ],
)
def test_bad_input_is_a_named_error(preds: torch.Tensor, target: torch.Tensor, fs: int, match: str) -> None:
    with pytest.raises(CompositeInputError, match=match):
        composite_measures(preds, target, fs)


def test_metric_classes_average_over_utterances_and_share_the_work() -> None:
    metrics = MetricCollection({m: CompositeMeasure(m, fs=16000) for m in ("csig", "cbak", "covl", "pesq", "ssnr")})
    names = ("p006_001", "p007_003")
    for name in names:
        clean, noisy = (torch.from_numpy(x).float()[None, None] for x in pair(name))
        metrics.update(noisy, clean)
    got = metrics.compute()
    for key in got:
        expected = np.mean([GOLDEN[n, 16000][key] for n in names])
        assert got[key].item() == pytest.approx(expected, rel=1e-5), key


def test_metric_rejects_an_unknown_measure_and_rate() -> None:
    with pytest.raises(ValueError, match="measure must be one of"):
        CompositeMeasure("stoi")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fs must be 8000 or 16000"):
        CompositeMeasure("csig", fs=44100)


def test_a_collection_keeps_csig_and_covl_apart_after_an_utterance_that_clips_both() -> None:
    """Silence clips CSIG and COVL to 1.0 on the first utterance; torchmetrics' compute groups must not merge them."""
    metrics = MetricCollection({m: CompositeMeasure(m, fs=16000) for m in ("csig", "cbak", "covl", "pesq", "ssnr")})
    clean = torch.from_numpy(pair("p006_001")[0]).float()
    metrics.update(torch.zeros_like(clean)[None, None], clean[None, None])  # csig = covl = 1.0
    clean, noisy = (torch.from_numpy(x).float()[None, None] for x in pair("p007_003"))
    metrics.update(noisy, clean)
    got = metrics.compute()
    for key in ("csig", "covl"):
        assert got[key].item() == pytest.approx((1.0 + GOLDEN["p007_003", 16000][key]) / 2, rel=1e-5), key
