"""The registry of shipped experiments: each name, the config files composed to run it, and its tiny overrides.

An experiment is one or more ``--config`` files given in order (a later file replaces the keys it names), e.g.
``pix2pix_facades`` = ``configs/pix2pix/base.yaml`` + ``configs/pix2pix/facades.yaml``. The tiny overrides make one
real epoch take seconds on a CPU (same code path, tiny sizes). ``tests/cli/test_app.py``, ``tests/golden/record.py`` and
``tests/test_golden.py`` take the experiments from here; ``tests/test_config_overlays.py`` checks that every
experiment config under ``configs/`` is in it.
"""

from dataclasses import dataclass
from pathlib import Path

from tests.conftest import CONFIGS

PIX2PIX_ON_DEMO = [  # the 256-px recipes on the bundled 64-px demo pairs, tiny widths
    "--data.init_args.root", "data/pix2pix_demo",
    "--data.init_args.load_size", "72", "--data.init_args.crop_size", "64",
    "--model.generator.init_args.num_downs", "6", "--model.generator.init_args.ngf", "4",
    "--model.discriminator.init_args.ndf", "4",
    "--data.init_args.num_workers", "0",
]  # fmt: skip
SEGAN_SMALL = [  # 4 layers of <= 32 maps on 2048-sample windows (a multiple of 2**4; the STFT loss needs > 1024)
    "--model.generator.init_args.channels", "[8, 16, 16, 32]",
    "--model.discriminator.init_args.channels", "[8, 16, 16, 32]",
    "--data.init_args.window", "2048", "--data.init_args.hop", "1024",
    "--data.init_args.batch_size", "8", "--data.init_args.num_workers", "0",
]  # fmt: skip
CYCLEGAN_ON_DEMO = [  # the 256-px recipes on the bundled unpaired 64-px demo, tiny widths
    "--data.init_args.root", "data/cyclegan_demo",
    "--data.init_args.load_size", "72", "--data.init_args.crop_size", "64",
    "--model.generator.init_args.ngf", "4", "--model.generator.init_args.n_blocks", "1",
    "--model.discriminator.init_args.ndf", "4",
    "--data.init_args.num_workers", "0",
]  # fmt: skip
METRICGAN_SMALL = [  # a 2 x 8 BLSTM and a D of 4 maps on 0.5 s windows; PESQ in the test process
    "--model.generator.init_args.hidden_size", "8", "--model.generator.init_args.linear_size", "8",
    "--model.discriminator.init_args.base_channels", "4",
    "--model.objective.init_args.target_metric.init_args.workers", "0",
    "--data.init_args.window", "8192", "--data.init_args.hop", "4096",
    "--data.init_args.batch_size", "2", "--data.init_args.num_workers", "0",
]  # fmt: skip
# The demo's inputs are no edge maps: pix2pix_cpu's metrics without its EdgeF1, which refuse them.
CPU_ON_DEMO = CONFIGS.parent / "tests" / "configs" / "pix2pix_cpu_on_demo.yaml"
DCGAN_DIGITS_SMALL = ["--model.generator.init_args.ngf", "8", "--model.discriminator.init_args.ndf", "8"]


@dataclass(frozen=True)
class Experiment:
    name: str
    configs: tuple[Path, ...]  # composed in this order
    tiny: tuple[str, ...] = ()  # command-line overrides for a tiny CPU run

    def config_args(self) -> list[str]:
        """``--config FILE`` for each of the experiment's files, in order."""
        return [arg for config in self.configs for arg in ("--config", str(config))]


def _one_file(name: str, tiny: list[str]) -> Experiment:
    return Experiment(name, (CONFIGS / f"{name}.yaml",), tuple(tiny))


def _cyclegan_dataset(dataset: str) -> Experiment:
    """The reference recipe (configs/cyclegan/base.yaml) with one dataset's overlay."""
    configs = (CONFIGS / "cyclegan" / "base.yaml", CONFIGS / "cyclegan" / f"{dataset}.yaml")
    return Experiment(f"cyclegan_{dataset}", configs, tuple(CYCLEGAN_ON_DEMO))


def _pix2pix_dataset(dataset: str) -> Experiment:
    """The reference recipe (configs/pix2pix/base.yaml) with one dataset's overlay."""
    configs = (CONFIGS / "pix2pix" / "base.yaml", CONFIGS / "pix2pix" / f"{dataset}.yaml")
    return Experiment(f"pix2pix_{dataset}", configs, tuple(PIX2PIX_ON_DEMO))


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        _one_file("dcgan_digits", DCGAN_DIGITS_SMALL),
        _one_file("dcgan_digits_cond", DCGAN_DIGITS_SMALL),
        _one_file("dcgan_folder", [
            "--data.init_args.root", "data/pix2pix_demo/train", "--data.init_args.image_size", "16",
            "--data.init_args.batch_size", "4", "--data.init_args.num_workers", "0",
            "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
        ]),
        _one_file("pix2pix_demo", [
            "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
            "--data.init_args.num_workers", "0",
        ]),
        _one_file("pix2pix_cpu", [*PIX2PIX_ON_DEMO, "--config", str(CPU_ON_DEMO)]),
        *(_pix2pix_dataset(dataset) for dataset in ("facades", "edges2shoes", "maps", "cityscapes")),
        _one_file("cyclegan_demo", CYCLEGAN_ON_DEMO),
        *(_cyclegan_dataset(dataset) for dataset in ("horse2zebra", "monet2photo")),
        _one_file("segan_demo", SEGAN_SMALL),
        _one_file("metricgan_demo", METRICGAN_SMALL),
        _one_file("metricgan_voicebank", [
            "--data.init_args.root", "data/speech_demo", "--data.init_args.val_speakers", "[p005]", *METRICGAN_SMALL,
        ]),
        _one_file("segan_voicebank", [
            "--data.init_args.root", "data/speech_demo", "--data.init_args.val_speakers", "[p005]", *SEGAN_SMALL,
        ]),
    ]
}  # fmt: skip
NAMES = sorted(EXPERIMENTS)
