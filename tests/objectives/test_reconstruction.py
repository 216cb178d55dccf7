"""Reconstruction-loss strategies: values against NumPy, zero at identity, finite gradients at silence."""

import numpy as np
import pytest
import torch

from lightning_gan.data.emphasis import de_emphasis, de_emphasis_differentiable, pre_emphasis
from lightning_gan.objectives.reconstruction import DeEmphasised, L1Loss, MSELoss, MultiResolutionSTFTLoss, WeightedSum

GEN = torch.Generator().manual_seed(0)
REAL = torch.randn(2, 1, 3000, generator=GEN)
FAKE = REAL + 0.3 * torch.randn(2, 1, 3000, generator=GEN)


def numpy_stft_loss(fake: np.ndarray, real: np.ndarray, n_fft: int, hop: int, win: int, floor: float) -> float:
    """One resolution of the Parallel WaveGAN loss from first principles: centred reflect-padded frames, a periodic
    Hann window zero-padded to n_fft in the middle, |rfft|."""

    def mag(x: np.ndarray) -> np.ndarray:
        x = np.pad(x, (n_fft // 2, n_fft // 2), mode="reflect")
        window = np.zeros(n_fft)
        left = (n_fft - win) // 2
        window[left : left + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
        frames = np.stack([x[s : s + n_fft] * window for s in range(0, x.size - n_fft + 1, hop)])
        return np.sqrt(np.maximum(np.abs(np.fft.rfft(frames, axis=1)) ** 2, floor))

    mag_fake = np.concatenate([mag(x) for x in fake])
    mag_real = np.concatenate([mag(x) for x in real])
    sc = np.linalg.norm(mag_fake - mag_real) / np.linalg.norm(mag_real)
    return float(sc + np.abs(np.log(mag_fake) - np.log(mag_real)).mean())


def test_l1_is_the_mean_absolute_error() -> None:
    assert L1Loss()(FAKE, REAL).item() == pytest.approx((FAKE - REAL).abs().mean().item(), rel=1e-6)
    assert L1Loss.log_name == "L1"


def test_mse_is_the_mean_squared_error_and_its_minimiser_is_the_mean() -> None:
    assert MSELoss()(FAKE, REAL).item() == pytest.approx(((FAKE - REAL) ** 2).mean().item(), rel=1e-6)
    assert MSELoss.log_name == "L2"
    targets = torch.tensor([0.0, 0.0, 3.0])  # mean 1, median 0
    guess = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.SGD([guess], lr=0.1)
    for _ in range(200):
        optimiser.zero_grad()
        MSELoss()(guess.expand(3), targets).backward()
        optimiser.step()
    assert guess.item() == pytest.approx(1.0, abs=1e-4)


def test_stft_loss_matches_numpy_and_averages_the_resolutions() -> None:
    resolutions = [(512, 50, 240), (256, 64, 256)]
    loss = MultiResolutionSTFTLoss(*zip(*resolutions, strict=True))
    f, r = FAKE.reshape(2, -1).double().numpy(), REAL.reshape(2, -1).double().numpy()
    expected = np.mean([numpy_stft_loss(f, r, *res, floor=1e-7) for res in resolutions])
    assert loss(FAKE, REAL).item() == pytest.approx(expected, rel=1e-4)


def test_stft_loss_defaults_are_parallel_wavegans() -> None:
    assert MultiResolutionSTFTLoss().resolutions == [(1024, 120, 600), (2048, 240, 1200), (512, 50, 240)]


def test_stft_loss_is_zero_for_identical_signals_and_positive_otherwise() -> None:
    loss = MultiResolutionSTFTLoss()
    assert loss(REAL, REAL).item() == 0.0
    assert loss(FAKE, REAL).item() > 0.1


@pytest.mark.parametrize("real", [torch.zeros(1, 1, 4096), torch.randn(1, 1, 4096, generator=GEN)])
def test_stft_loss_gradient_is_finite_at_silence(real: torch.Tensor) -> None:
    fake = torch.zeros(1, 1, 4096, requires_grad=True)
    value = MultiResolutionSTFTLoss()(fake, real)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(fake.grad).all()


def test_stft_loss_names_a_too_short_input_and_bad_resolutions() -> None:
    with pytest.raises(ValueError, match="1000 samples are too short for fft_size 2048"):
        MultiResolutionSTFTLoss()(torch.zeros(1, 1, 1000), torch.zeros(1, 1, 1000))
    with pytest.raises(ValueError, match="one entry per resolution"):
        MultiResolutionSTFTLoss(fft_sizes=(512,), hop_sizes=(50, 60), win_lengths=(240,))
    with pytest.raises(ValueError, match="win_length <= fft_size"):
        MultiResolutionSTFTLoss(fft_sizes=(256,), hop_sizes=(50,), win_lengths=(300,))


def test_weighted_sum_adds_its_weighted_terms() -> None:
    stft = MultiResolutionSTFTLoss()
    both = WeightedSum([L1Loss(), stft], [100.0, 2.0])
    expected = 100.0 * L1Loss()(FAKE, REAL) + 2.0 * stft(FAKE, REAL)
    assert both(FAKE, REAL).item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="one weight per loss"):
        WeightedSum([L1Loss()], [1.0, 2.0])


def test_the_differentiable_de_emphasis_matches_the_exact_recursion() -> None:
    y = torch.from_numpy(np.random.default_rng(3).standard_normal((2, 1, 5000))).float()
    assert torch.allclose(de_emphasis_differentiable(y, 0.95), de_emphasis(y, 0.95), atol=1e-5)
    assert torch.equal(de_emphasis_differentiable(y, 0.0), y)


def test_de_emphasised_loss_scores_the_heard_signals_and_passes_gradients() -> None:
    loss = DeEmphasised(L1Loss(), coef=0.9)
    fake, real = pre_emphasis(FAKE, 0.9).requires_grad_(), pre_emphasis(REAL, 0.9)
    value = loss(fake, real)
    # G's pre-emphasised output is undone first: the loss is the L1 of what a listener hears.
    assert value.item() == pytest.approx(L1Loss()(FAKE, REAL).item(), rel=1e-4)
    assert value.item() != pytest.approx(L1Loss()(fake, real).item(), rel=1e-2)
    value.backward()
    assert fake.grad is not None and torch.isfinite(fake.grad).all()
    assert loss.log_name == "L1_heard"
