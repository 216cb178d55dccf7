"""MetricGAN+'s target metrics against direct pesq/pystoi calls; silence; parallel scoring; bad settings."""

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from pesq import pesq
from pystoi import stoi

from lightning_gan.errors import ConfigError
from lightning_gan.objectives import PESQ, STOI, WeightedMetric
from lightning_gan.objectives.target_metrics import target_metric

DEMO = Path(__file__).resolve().parents[2] / "data" / "speech_demo"
LENGTH = 24000  # 1.5 s at 16 kHz: enough for PESQ, short enough to be quick


def _pairs(n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` (noisy, clean) utterances of the bundled test set, cropped to LENGTH: N x 1 x T float32."""
    files = sorted((DEMO / "clean_testset_wav").glob("*.wav"))[:n]
    clean = [sf.read(f, dtype="float32")[0][:LENGTH] for f in files]
    noisy = [sf.read(DEMO / "noisy_testset_wav" / f.name, dtype="float32")[0][:LENGTH] for f in files]
    return torch.tensor(np.stack(noisy))[:, None], torch.tensor(np.stack(clean))[:, None]


def test_pesq_is_the_recipes_normalised_wideband_pesq() -> None:
    noisy, clean = _pairs()
    got = PESQ(workers=0)(noisy, clean, 16000)
    for i in range(2):
        direct = pesq(16000, clean[i, 0].double().numpy(), noisy[i, 0].double().numpy(), "wb")
        assert got[i].item() == pytest.approx((direct + 0.5) / 5, abs=1e-6)
    # The clean reference against itself: PESQ-WB's ceiling 4.64, normalised above 1.
    assert PESQ(workers=0)(clean, clean, 16000).tolist() == pytest.approx([(4.643888 + 0.5) / 5] * 2, abs=1e-4)


def test_stoi_and_weighted_against_direct_calls() -> None:
    noisy, clean = _pairs()
    s = STOI(workers=0)(noisy, clean, 16000)
    p = PESQ(workers=0)(noisy, clean, 16000)
    for i in range(2):
        direct = stoi(clean[i, 0].double().numpy(), noisy[i, 0].double().numpy(), 16000, extended=False)
        assert s[i].item() == pytest.approx(direct, abs=1e-6)
    w = WeightedMetric([PESQ(), STOI()], [1.0, 3.0], workers=0)(noisy, clean, 16000)
    assert torch.allclose(w, (p + 3 * s) / 4, atol=1e-6)


def test_parallel_scoring_equals_serial() -> None:
    noisy, clean = _pairs(3)
    metric = PESQ(workers=2)
    try:
        assert torch.equal(metric(noisy, clean, 16000), PESQ(workers=0)(noisy, clean, 16000))
    finally:
        metric.close()


def test_silence_is_unscored_not_a_crash() -> None:
    """PESQ's "no utterances detected": NaN for that utterance only (the objective leaves it out of D's terms)."""
    noisy, clean = _pairs()
    clean[1] = 0.0
    noisy[1] = 1e-4 * torch.randn(LENGTH)
    scores = PESQ(workers=0)(noisy, clean, 16000)
    assert math.isfinite(scores[0].item()) and math.isnan(scores[1].item())
    assert math.isnan(STOI(workers=0)(noisy, clean, 16000)[1].item())
    assert math.isnan(WeightedMetric([PESQ(), STOI()], [1.0, 1.0], workers=0)(noisy, clean, 16000)[1].item())


def test_bad_settings_are_one_config_error_each() -> None:
    with pytest.raises(ConfigError, match="8000 or 16000"):
        PESQ().check_sample_rate(22050)
    STOI().check_sample_rate(22050)  # pystoi resamples any rate
    with pytest.raises(ConfigError, match="8000 or 16000"):
        WeightedMetric([STOI(), PESQ()], [1.0, 1.0]).check_sample_rate(44100)
    with pytest.raises(ConfigError, match="unknown metric 'pesqq'"):
        target_metric("pesqq")
    with pytest.raises(ConfigError, match="one weight per metric"):
        WeightedMetric([PESQ()], [1.0, 2.0])
    with pytest.raises(ConfigError, match="non-negative"):
        WeightedMetric([PESQ(), STOI()], [0.0, 0.0])
    assert isinstance(target_metric("stoi"), STOI)
