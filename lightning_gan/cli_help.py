"""The subcommands ``python -m lightning_gan --help`` lists, each with a one-line description.

Lightning's own descriptions are the first lines of ``Trainer``'s docstrings, cut mid-sentence in the listing, and
``export`` (handled by :mod:`lightning_gan.export`, before LightningCLI parses anything) would not appear at all.
"""

from typing import Any

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

# At most 56 characters each: one line in an 80-column terminal.
SUBCOMMAND_HELP: dict[str, str] = {
    "fit": "Train (and validate each epoch if there is a val set).",
    "validate": "Score a checkpoint on the validation set.",
    "test": "Score a checkpoint on the test set; an HTML report.",
    "predict": "Write the generator's output for each input.",
    "export": "Write the generator as ONNX or TorchScript.",
}
DESCRIPTION = "GAN training on PyTorch Lightning: pix2pix, SEGAN and DCGAN, configured by YAML."


def add_subcommands(cli: LightningCLI, parser: LightningArgumentParser, **kwargs: Any) -> None:
    """``LightningCLI._add_subcommands`` with :data:`SUBCOMMAND_HELP` as descriptions, plus ``export``'s entry.

    ``export`` is listed only: :func:`lightning_gan.cli.main` hands ``export ...`` to its own parser first.
    """
    cli._subcommand_parsers = {}
    subcommands = parser.add_subcommands()
    for subcommand in cli.subcommands():
        description = SUBCOMMAND_HELP[subcommand]
        subparser_kwargs = {"description": description, **kwargs.get(subcommand, {})}
        subparser = cli._prepare_subcommand_parser(cli.trainer_class, subcommand, **subparser_kwargs)
        cli._subcommand_parsers[subcommand] = subparser
        subcommands.add_subcommand(subcommand, subparser, help=description)
    export = LightningArgumentParser(description=SUBCOMMAND_HELP["export"], prog="lightning_gan export")
    subcommands.add_subcommand("export", export, help=SUBCOMMAND_HELP["export"])


__all__ = ["DESCRIPTION", "SUBCOMMAND_HELP", "add_subcommands"]
