"""No behaviour change: every shipped config, at tiny size, logs and learns what it did when the golden values in
``tests/golden/`` were recorded (``python -m tests.golden.record``).

On the machine and torch build that recorded them the comparison is exact: every logged value, and the bytes of
every state tensor after one batch and after a short fit. Elsewhere (another CPU's kernels round differently) the
values and each tensor's sum and norm must agree to 1e-4.
"""

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.experiments import NAMES as EXPERIMENTS
from tests.golden.record import GOLDEN, run

# State-dict keys that a refactor moved on purpose: old key -> new key.
RENAMED: dict[str, str] = {}


def _compare(expected: dict[str, Any], actual: dict[str, Any], exact: bool, where: str) -> None:
    assert actual["logged"].keys() == expected["logged"].keys(), where
    for key, value in expected["logged"].items():
        if exact:
            assert actual["logged"][key] == value, f"{where} {key}"
        else:
            assert actual["logged"][key] == pytest.approx(value, rel=1e-4, abs=1e-6), f"{where} {key}"
    state = {RENAMED.get(k, k): v for k, v in expected["state"].items()}
    assert actual["state"].keys() == state.keys(), where
    for key, want in state.items():
        got = actual["state"][key]
        assert (got["shape"], got["dtype"]) == (want["shape"], want["dtype"]), f"{where} {key}"
        if exact:
            assert got["sha256"] == want["sha256"], f"{where} {key}"
        else:
            assert got["sum"] == pytest.approx(want["sum"], rel=1e-4, abs=1e-5), f"{where} {key}"
            assert got["norm"] == pytest.approx(want["norm"], rel=1e-4, abs=1e-5), f"{where} {key}"


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_config_reproduces_its_golden_step_and_fit(name: str, tmp_path: Path) -> None:
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    actual = json.loads(json.dumps(run(name, tmp_path)))  # the same float round trip as the recorded file
    exact = (expected["torch"], expected["cpu"]) == (torch.__version__, torch.backends.cpu.get_cpu_capability())
    _compare(expected["first_batch"], actual["first_batch"], exact, f"{name}, first batch:")
    _compare(expected["fit"], actual["fit"], exact, f"{name}, fit:")
