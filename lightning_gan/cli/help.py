"""The subcommands ``python -m lightning_gan --help`` lists, each with a one-line description.

Lightning's own descriptions are the first lines of ``Trainer``'s docstrings, cut mid-sentence in the listing, and
``export`` (handled by :mod:`lightning_gan.deploy.export`, before LightningCLI parses anything) would not appear at all.
"""

from typing import Any

from lightning.pytorch.cli import LightningArgumentParser

# At most 56 characters each: one line in an 80-column terminal.
SUBCOMMAND_HELP: dict[str, str] = {
    "fit": "Train (and validate each epoch if there is a val set).",
    "validate": "Score a checkpoint on the validation set.",
    "test": "Score a checkpoint on the test set; an HTML report.",
    "predict": "Write the generator's output for each input.",
    "export": "Write the generator as ONNX or TorchScript.",
}
DESCRIPTION = "GAN training on PyTorch Lightning: pix2pix, CycleGAN, SEGAN and DCGAN, configured by YAML."


def add_subcommands(cli: Any, parser: LightningArgumentParser, **kwargs: Any) -> None:
    """Lightning's subcommand parsers with :data:`SUBCOMMAND_HELP` as descriptions, plus ``export``'s entry.

    ``cli`` is a :class:`lightning_gan._compat.PrivateCLIHooks`. ``export`` is listed only:
    :func:`lightning_gan.cli.main` hands ``export ...`` to its own parser first.
    """
    subcommands = parser.add_subcommands()
    for subcommand in cli.subcommands():
        description = SUBCOMMAND_HELP[subcommand]
        subparser = cli.prepare_subcommand_parser(
            subcommand, **{"description": description, **kwargs.get(subcommand, {})}
        )
        subcommands.add_subcommand(subcommand, subparser, help=description)
    export = LightningArgumentParser(description=SUBCOMMAND_HELP["export"], prog="lightning_gan export")
    subcommands.add_subcommand("export", export, help=SUBCOMMAND_HELP["export"])


__all__ = ["DESCRIPTION", "SUBCOMMAND_HELP", "add_subcommands"]
