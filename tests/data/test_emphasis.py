"""Pre- and de-emphasis: the exact filters, and that they invert each other."""

import pytest
import torch

from lightning_gan.data.emphasis import DeEmphasis, de_emphasis, pre_emphasis


def test_pre_emphasis_is_the_first_order_difference() -> None:
    x = torch.tensor([1.0, 2.0, 4.0, -1.0])
    expected = torch.tensor([1.0, 2.0 - 0.95 * 1.0, 4.0 - 0.95 * 2.0, -1.0 - 0.95 * 4.0])
    torch.testing.assert_close(pre_emphasis(x, 0.95), expected)


@pytest.mark.parametrize("length", [1, 2, 1000, 48_000])
def test_de_emphasis_inverts_pre_emphasis(length: int) -> None:
    x = torch.randn(3, 1, length)
    torch.testing.assert_close(de_emphasis(pre_emphasis(x)), x, atol=1e-5, rtol=0)
    torch.testing.assert_close(pre_emphasis(de_emphasis(x)), x, atol=1e-5, rtol=0)


def test_de_emphasis_is_the_recursion_and_keeps_dtype() -> None:
    y = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(de_emphasis(y, 0.5), torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64))
    assert DeEmphasis(0.9)(torch.zeros(2, 1, 5)).dtype == torch.float32


def test_coefficient_zero_is_the_identity() -> None:
    x = torch.randn(10)
    assert torch.equal(pre_emphasis(x, 0.0), x) and torch.equal(de_emphasis(x, 0.0), x)
