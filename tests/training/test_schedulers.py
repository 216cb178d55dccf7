"""TimedLinearDecay: pix2pix's linear policy on a wall-clock budget, and its clock across a resume."""

import pytest
import torch

from lightning_gan.training.schedulers import TimedLinearDecay


def _scheduler(**kwargs) -> TimedLinearDecay:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2e-4)
    return TimedLinearDecay(optimizer, **kwargs)


def test_constant_for_the_fraction_then_linear_to_zero_at_the_budget() -> None:
    scheduler = _scheduler(total_seconds=600, constant_fraction=0.5)
    assert [scheduler.factor(t) for t in (0, 300, 450, 600, 700)] == [1.0, 1.0, 0.5, 0.0, 0.0]


def test_the_clock_counts_time_between_steps_and_survives_a_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("lightning_gan.training.schedulers.time.monotonic", lambda: now[0])
    scheduler = _scheduler(total_seconds=10, constant_fraction=0.0)
    for _ in range(4):  # the constructor's step starts the clock at t = 100; steps at 102, 104, 106, 108
        now[0] += 2.0
        scheduler.step()
    assert scheduler.elapsed == pytest.approx(8.0)
    assert scheduler.get_last_lr() == [pytest.approx(2e-4 * 0.2)]
    state = scheduler.state_dict()
    assert "_last_time" not in state
    resumed = _scheduler(total_seconds=10, constant_fraction=0.0)
    resumed.load_state_dict(state)
    now[0] += 1000.0  # the gap while the run was stopped does not count
    resumed.step()
    now[0] += 1.0
    resumed.step()
    assert resumed.elapsed == pytest.approx(9.0)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="total_seconds"):
        _scheduler(total_seconds=0)
    with pytest.raises(ValueError, match="constant_fraction"):
        _scheduler(total_seconds=1, constant_fraction=1.5)
