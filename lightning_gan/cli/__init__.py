"""The command line: ``python -m lightning_gan {fit,validate,test,predict,export} --config configs/<x>.yaml``."""

from lightning_gan.cli.app import GANCLI, console, main

__all__ = ["GANCLI", "console", "main"]
