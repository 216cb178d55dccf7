"""``python -m lightning_gan`` runs :func:`lightning_gan.cli.main`."""

from lightning_gan.cli import main

if __name__ == "__main__":
    main()
