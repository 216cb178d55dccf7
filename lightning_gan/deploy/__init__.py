"""Use after training: the inference API (:mod:`.api`), export to TorchScript / ONNX (:mod:`.export`), a model's
description (:mod:`.description`) and loading a trained GAN (:mod:`.loading`)."""

from lightning_gan.deploy.api import Generator, load_generator
from lightning_gan.deploy.description import ModelInfo, describe
from lightning_gan.deploy.loading import load_gan

__all__ = ["Generator", "ModelInfo", "describe", "load_gan", "load_generator"]
