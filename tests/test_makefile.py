"""The Makefile's two commands and their helpers, without installing anything: the Python check, the pinned torch
and the build-selecting variables, reuse of .venv and reinstall when pyproject.toml changes, the listed targets."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_help_lists_the_targets_people_expect() -> None:
    result = make("help")
    assert result.returncode == 0
    listed = re.findall(r"^  ([a-z-]+) ", result.stdout, flags=re.M)
    assert {"quickstart", "test", "lint", "format", "clean", "help"} <= set(listed)
    assert make().stdout == result.stdout  # `make` alone is `make help`


def test_minimum_python_is_the_projects() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    (minimum,) = re.findall(r"^MIN_PYTHON := (\S+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    assert requires == f">={minimum}"


def test_an_old_python_gets_one_clear_message_and_nothing_is_created(tmp_path: Path) -> None:
    old = tmp_path / "python3.8"  # answers the Makefile's two questions as a real Python 3.8.18 does
    old.write_text('#!/bin/sh\ncase "$2" in *sys.exit*) exit 1 ;; *version_info*) echo 3.8.18 ;; esac\n')
    old.chmod(0o755)
    venv = tmp_path / "venv"
    for target in ("quickstart", "test"):
        result = make(target, f"PYTHON={old}", f"VENV={venv}")
        assert result.returncode != 0
        (line,) = result.stderr.strip().splitlines()
        assert "needs Python >= 3.10" in line and "is 3.8.18" in line and f"make {target} PYTHON=" in line
    assert not venv.exists()
    result = make("test", "PYTHON=no-such-python", f"VENV={venv}")
    assert "is not a runnable Python" in result.stderr and not venv.exists()


def test_torch_is_pinned_for_the_cpu_and_a_variable_selects_another_build(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    default = make("-n", "install", f"VENV={venv}", f"PYTHON={sys.executable}").stdout
    assert '"torch==2.13.0"' in default and "--index-url" not in default
    url = "https://download.pytorch.org/whl/cu128"
    gpu = make("-n", "install", f"VENV={venv}", f"PYTHON={sys.executable}", f"TORCH_INDEX_URL={url}").stdout
    assert f'"torch==2.13.0" --index-url {url}' in gpu
    assert '"torch==2.12.0"' in make("-n", "install", f"VENV={venv}", "TORCH_SPEC=torch==2.12.0").stdout


def test_venv_is_reused_and_the_project_reinstalled_when_pyproject_changes(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".installed").touch()
    os.utime(tmp_path / "pyproject.toml", (1_000_000_000, 1_000_000_000))  # older than the stamp
    assert "pip install" not in make("-n", "test", cwd=tmp_path).stdout
    os.utime(tmp_path / "pyproject.toml")  # edited: newer than the stamp
    dry = make("-n", "test", cwd=tmp_path).stdout
    assert 'pip install --quiet -e ".[dev]"' in dry and "-m venv" in dry  # venv creation guarded by `test -x`
    assert dry.index("pip install") < dry.index("-m pytest")
