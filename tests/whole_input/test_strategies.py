"""Whole-input inference strategies: exact reconstruction, no seams, original sizes."""

import math

import pytest
import torch

from lightning_gan.whole_input.strategies import Direct, OverlapAdd, PadToMultiple, ResizeTo

WINDOW, HOP = 256, 128


def identity(x: torch.Tensor) -> torch.Tensor:
    return x


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("length", [1, 100, WINDOW - 1, WINDOW, WINDOW + 1, int(10.5 * WINDOW), 3 * HOP + 17])
@pytest.mark.parametrize("hop", [HOP, 96, WINDOW])
def test_overlap_add_identity_is_exact(length: int, hop: int) -> None:
    x = torch.randn(2, 1, length) * 3
    calls = []

    def generate(windows: torch.Tensor) -> torch.Tensor:
        assert windows.shape[1:] == (1, WINDOW)
        calls.append(windows.shape[0])
        return windows

    y = OverlapAdd(WINDOW, hop, batch_size=5)(generate, x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert (y - x).abs().max() < 1e-6
    assert max(calls) <= 5


def test_overlap_add_covers_edges_like_the_middle() -> None:
    """Every real sample is covered by window / hop windows, the first and last included."""
    counts = []

    def generate(windows: torch.Tensor) -> torch.Tensor:
        counts.append(windows.shape[0])
        return torch.ones_like(windows)

    x = torch.zeros(1, 1, 1000)
    OverlapAdd(WINDOW, HOP)(generate, x)
    # front pad 128 + 1000 + >= 128 back -> ceil((1000 + 256 - 256) / 128) + 1 = 9 windows.
    assert sum(counts) == 9


def test_overlap_add_cross_fades_per_window_offsets() -> None:
    """generate = x + random constant per window: the output moves smoothly from one constant to the next."""

    def offset(windows: torch.Tensor) -> torch.Tensor:
        return windows + (torch.rand(windows.shape[0], 1, 1) * 2 - 1)

    x = torch.zeros(1, 1, 20 * WINDOW)
    faded = OverlapAdd(WINDOW, HOP)(offset, x)
    # Largest step of a sine-squared cross-fade between constants 2 apart: 2 * pi / window (~0.025).
    assert faded.diff().abs().max() <= 2 * math.pi / WINDOW
    # Without overlap (the reference's concatenation) the same generator leaves seams.
    seams = OverlapAdd(WINDOW, WINDOW)(offset, x)
    assert seams.diff().abs().max() > 0.5


def test_overlap_add_mini_batches_match_one_batch() -> None:
    x = torch.randn(3, 2, 2000)

    def generate(windows: torch.Tensor) -> torch.Tensor:  # content-dependent, batch-independent, 2 -> 1 channels
        return torch.tanh(windows.cumsum(-1)[:, :1] * 0.1) + windows[:, 1:] ** 2

    small = OverlapAdd(WINDOW, HOP, batch_size=1)(generate, x)
    large = OverlapAdd(WINDOW, HOP, batch_size=1000)(generate, x)
    assert small.shape == (3, 1, 2000)
    torch.testing.assert_close(small, large, rtol=0, atol=0)


def test_overlap_add_bad_arguments() -> None:
    with pytest.raises(ValueError, match="hop"):
        OverlapAdd(256, 300)
    with pytest.raises(ValueError, match="batch_size"):
        OverlapAdd(256, 128, batch_size=0)
    with pytest.raises(ValueError, match="N x C x T"):
        OverlapAdd(256, 128)(identity, torch.zeros(1, 100))
    with pytest.raises(ValueError, match="generate must map"):
        OverlapAdd(256, 128)(lambda w: w[..., :-1], torch.zeros(1, 1, 100))


@pytest.mark.parametrize("size", [(37, 300), (256, 256), (1, 1), (300, 513)])
def test_pad_to_multiple_identity_and_shape(size: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *size) * 2 - 1
    seen = []

    def generate(padded: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(padded.shape[-2:]))
        return padded

    y = PadToMultiple(256)(generate, x)
    assert all(s % 256 == 0 for s in seen[0])
    assert torch.equal(y, x)
    assert torch.equal(Direct()(identity, x), x)


def test_pad_to_multiple_changes_channels_and_falls_back_to_replicate() -> None:
    x = torch.rand(1, 1, 37, 3) * 2 - 1  # width 3 needs 253 columns: more than reflect can give
    y = PadToMultiple(256)(lambda p: p.repeat(1, 3, 1, 1), x)
    assert y.shape == (1, 3, 37, 3)
    torch.testing.assert_close(y, x.repeat(1, 3, 1, 1), rtol=0, atol=0)
    edges = []
    PadToMultiple(256)(lambda p: edges.append(p[..., 0, 0].item()) or p, x)
    assert edges == [x[0, 0, 0, 0].item()]  # replicate: the corner of the padded image is the image's corner


@pytest.mark.parametrize("size", [(37, 300), (300, 37), (256, 256)])
def test_resize_to_returns_original_size(size: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *size) * 2 - 1
    seen = []

    def generate(resized: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(resized.shape[-2:]))
        return resized

    y = ResizeTo(256)(generate, x)
    assert seen == [(256, 256)]
    assert y.shape == x.shape
    assert y.abs().max() <= 1.0
    if size == (256, 256):
        assert torch.equal(y, x)


def test_bad_image_input() -> None:
    with pytest.raises(ValueError, match="N x C x H x W"):
        PadToMultiple()(identity, torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="N x C x H x W"):
        ResizeTo()(identity, torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="mode"):
        PadToMultiple(mode="wrap")  # type: ignore[arg-type]
