"""``python -m lightning_gan`` runs :func:`lightning_gan.cli.console` (:func:`lightning_gan.cli.main`, with errors
of ours as one message)."""

from lightning_gan.cli import console

if __name__ == "__main__":
    console()
