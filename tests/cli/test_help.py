"""``python -m lightning_gan --help`` lists every subcommand, ``export`` included, with a one-line description."""

import os
import re
import subprocess
import sys

from lightning_gan.cli import GANCLI
from lightning_gan.cli.help import SUBCOMMAND_HELP
from tests.conftest import ROOT


def test_help_lists_every_subcommand_on_one_line_each() -> None:
    env = {**os.environ, "COLUMNS": "80"}
    command = [sys.executable, "-m", "lightning_gan", "--help"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^    (\w+) +(.+)$", result.stdout, flags=re.M))
    assert listed == SUBCOMMAND_HELP
    assert set(listed) == {*GANCLI.subcommands(), "export"}
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Subcommands") :].split("\n## ", 1)[0]
    assert all(f"- `{name}`" in section for name in listed)
