"""Per-epoch seeding is a callback: loading a checkpoint for inference leaves the caller's random state and
environment alone, and the seeding state of checkpoints written before the callback existed still resumes exactly."""

import os
import random

import numpy as np
import torch

from lightning_gan.callbacks.epoch_seeding import EpochSeeding, epoch_seed
from lightning_gan.deploy.api import load_generator
from lightning_gan.gan import GAN
from tests.deploy.test_export import DCGAN, fit_one_batch


def _global_state() -> tuple:
    return random.getstate(), np.random.get_state(), torch.get_rng_state(), dict(os.environ)


def _assert_same_global_state(before: tuple, after: tuple) -> None:
    """Python's and NumPy's states, then torch's (when given: 4 entries), then the environment."""
    assert before[0] == after[0], "random.getstate() changed"
    for a, b in zip(before[1], after[1], strict=True):
        assert np.array_equal(a, b), "np.random.get_state() changed"
    if len(before) == 4:
        assert torch.equal(before[2], after[2]), "torch.get_rng_state() changed"
    assert before[-1] == after[-1], "os.environ changed"


def test_loading_and_sampling_leave_the_callers_random_state_and_environment_alone(tmp_path) -> None:
    checkpoint = fit_one_batch(DCGAN, tmp_path / "dcgan")
    state = torch.load(checkpoint, weights_only=False)
    assert state["callbacks"]["EpochSeeding"]["base_seed"] is not None  # the seeding state is in the checkpoint
    path = checkpoint
    random.seed(11), np.random.seed(12), torch.manual_seed(13)
    os.environ.pop("PL_GLOBAL_SEED", None)
    before = _global_state()
    generator = load_generator(path, device="cpu")
    generator.sample(3, seed=5)
    _assert_same_global_state(before, _global_state())
    # Lightning's own loader builds the networks, whose initial weights come from torch's RNG, but reseeds
    # nothing: Python's and NumPy's states and the environment stay as they were.
    GAN.load_from_checkpoint(path, map_location="cpu")
    after = _global_state()
    _assert_same_global_state(before[:2] + before[3:], after[:2] + after[3:])


def test_each_rank_and_epoch_gets_its_own_seed_and_the_state_round_trips() -> None:
    seeds = {epoch_seed(42, rank, epoch) for rank in range(4) for epoch in range(100)}
    assert len(seeds) == 400
    seeding = EpochSeeding()
    first = seeding.seed(rank=1, epoch=3)
    noise = torch.randn(4)
    restored = EpochSeeding()
    restored.load_state_dict(seeding.state_dict())
    assert restored.seed(rank=1, epoch=3) == first
    assert torch.equal(torch.randn(4), noise)
