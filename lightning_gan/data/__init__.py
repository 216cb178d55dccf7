"""Data modules, one per kind of data, and the signal processing they share with evaluation. They know nothing of
the networks: a batch is a dict (``real``, optional ``condition``, ``label``, file metadata)."""

from lightning_gan.data.digits import DigitsDataModule
from lightning_gan.data.emphasis import DeEmphasis
from lightning_gan.data.images import ImageFolderDataModule
from lightning_gan.data.paired_images import PairedImageDataModule
from lightning_gan.data.speech import NoisyCleanSpeechDataModule
from lightning_gan.data.speech_augment import SpeechAugment
from lightning_gan.data.unaligned import UnpairedImageDataModule

__all__ = [
    "DeEmphasis",
    "DigitsDataModule",
    "ImageFolderDataModule",
    "NoisyCleanSpeechDataModule",
    "PairedImageDataModule",
    "SpeechAugment",
    "UnpairedImageDataModule",
]
