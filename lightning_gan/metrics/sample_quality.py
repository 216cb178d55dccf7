"""Sample quality of a generator: FID, KID and two diversity numbers in a fixed feature space.

:class:`SampleQuality` is a torchmetrics ``Metric`` that the GAN module (``GAN(sample_quality=...)``) feeds during
``validate``, ``test`` and the validation of ``fit``:

- real images: every validation (or test) batch's ``real`` images;
- generated images: an unconditional G draws ``num_samples`` images from FIXED noise at the end of the epoch (chunk
  ``k`` of ``batch_size`` noise vectors comes from a generator seeded with ``(seed, k)``, so every evaluation scores
  the same ``z`` and curves move only because G moved; the global RNG that drives training is not touched). Under
  DDP rank ``r`` draws the chunks ``k = r mod world_size`` and the features are gathered, so the scored set is the
  same as on one device. A conditional G (pix2pix) is scored on its outputs for the validation inputs, against the
  targets.

Logged names carry the protocol, ``<stage>/<metric>_<feature space>_<number of generated samples>``:
``fid_digits_1k`` (squared Frechet distance, :mod:`lightning_gan.metrics.frechet`), ``kid_digits_1k`` (KID mean
over ``kid_subsets`` subsets), ``is_digits_1k`` (Inception-Score style ``exp E[KL(p(y|x) || p(y))]`` over all
samples, one split), ``class_entropy_digits_1k`` (entropy in nats of the histogram of predicted classes: ``ln 10 =
2.30`` when every digit is drawn equally often, 0 for a collapsed G); and ``reals_digits``, the number of real
images scored. Feature spaces: :class:`DigitsFeatures` (shipped) and :class:`InceptionFeatures` (the standard FID
network, weights from a local file). Numbers from different feature spaces or sample counts are not comparable.
"""

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from lightning_gan.metrics.digits import load_digits_classifier
from lightning_gan.metrics.frechet import frechet_distance, kernel_distance
from lightning_gan.metrics.inception import load_fid_inception


class FeatureSpace(ABC):
    """Where samples are compared: a network mapping images in [-1, 1] to ``(N x D features, N x K class
    probabilities)`` through its ``features_and_probabilities`` method, loaded on demand."""

    name: str

    @abstractmethod
    def load(self) -> nn.Module:
        """The network; raises a clear error when it cannot be loaded (called at setup)."""


class DigitsFeatures(FeatureSpace):
    """The digits classifier shipped with the package (:mod:`lightning_gan.metrics.digits`): 64 features, 10 classes.

    Args:
        weights: another state dict of the same classifier; ``None``: the shipped one.
    """

    name = "digits"

    def __init__(self, weights: str | None = None) -> None:
        self.weights = weights

    def load(self) -> nn.Module:
        return load_digits_classifier(self.weights)


class InceptionFeatures(FeatureSpace):
    """The FID Inception-v3 (:mod:`lightning_gan.metrics.inception`): 2048 features, 1008 classes.

    Args:
        weights: path of ``pt_inception-2015-12-05-6726825d.pth``; ``None``: ``$LIGHTNING_GAN_FID_WEIGHTS``.
        check_hash: refuse a file that is not the published one (only the plumbing tests turn this off).
    """

    name = "inception"

    def __init__(self, weights: str | None = None, check_hash: bool = True) -> None:
        self.weights = weights
        self.check_hash = check_hash

    def load(self) -> nn.Module:
        return load_fid_inception(self.weights, check_hash=self.check_hash)


def count_label(n: int) -> str:
    """1000 -> '1k', 50000 -> '50k', 359 -> '359'."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


class SampleQuality(Metric):
    """FID, KID, an Inception-Score-style number and the class-histogram entropy of G's samples vs real images.

    Args:
        features: the feature space (:class:`DigitsFeatures`, :class:`InceptionFeatures`).
        num_samples: images an unconditional G draws per evaluation (the number in the metric names).
        batch_size: images per generator call and per feature-network call.
        seed: seeds the fixed noise and KID's subsets.
        kid_subsets: subsets KID averages over.
        kid_subset_size: images per KID subset, capped at the smaller set's size.
    """

    full_state_update = False
    real_features: list[Tensor]
    fake_features: list[Tensor]
    fake_probabilities: list[Tensor]
    _network: Any  # the feature network (an nn.Module with `features_and_probabilities`), or None until setup()

    def __init__(
        self,
        features: FeatureSpace,
        num_samples: int = 1000,
        batch_size: int = 250,
        seed: int = 0,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
    ) -> None:
        super().__init__()
        if num_samples < 2 or batch_size < 1:
            raise ValueError(f"Expected `num_samples` >= 2 and `batch_size` >= 1, got {num_samples}, {batch_size}.")
        self.features = features
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        for name in ("real_features", "fake_features", "fake_probabilities"):
            self.add_state(name, default=[], dist_reduce_fx="cat")
        # Not a registered submodule: its weights stay out of the GAN's checkpoints and parameter counts.
        self.__dict__["_network"] = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_network"] = None  # reloaded by setup(); never pickled into a checkpoint's hyper-parameters
        return state

    def setup(self) -> None:
        """Load the feature network (at the model's setup, so missing weights stop the run before training)."""
        if self._network is None:
            self.__dict__["_network"] = self.features.load().eval().requires_grad_(False)

    def _embed(self, images: Tensor) -> tuple[Tensor, Tensor]:
        self.setup()
        network = self._network
        assert network is not None
        parameter = next(network.parameters())
        if parameter.device != images.device:
            network.to(images.device)
        with torch.autocast(images.device.type, enabled=False):  # fp32 features under mixed precision too
            outputs = [network.features_and_probabilities(chunk) for chunk in images.float().split(self.batch_size)]
        return torch.cat([f for f, _ in outputs]).float(), torch.cat([p for _, p in outputs]).float()

    @torch.no_grad()
    def update(self, images: Tensor, real: bool) -> None:
        """Add a batch of real or generated images in [-1, 1] (N x C x H x W)."""
        features, probabilities = self._embed(images)
        if real:
            self.real_features.append(features)
        else:
            self.fake_features.append(features)
            self.fake_probabilities.append(probabilities)

    @torch.no_grad()
    def add_generated(self, generator: nn.Module, postprocess: nn.Module, rank: int = 0, world_size: int = 1) -> None:
        """Draw this rank's share of the ``num_samples`` fixed-noise samples from an unconditional ``generator``."""
        latent_shape = getattr(generator, "latent_shape", None)
        if latent_shape is None or latent_shape(1, None) is None:
            raise ValueError(
                f"{type(generator).__name__} takes no noise (`latent_shape`), so SampleQuality cannot draw samples "
                "from it; a conditional generator is scored on the validation inputs instead."
            )
        device = next(generator.parameters()).device
        for chunk, start in enumerate(range(0, self.num_samples, self.batch_size)):
            if chunk % world_size != rank:
                continue
            noise = torch.Generator().manual_seed(self.seed * 1_000_003 + chunk)
            z = torch.randn(latent_shape(min(self.batch_size, self.num_samples - start), None), generator=noise)
            self.update(postprocess(generator(z.to(device))), real=False)

    def compute(self) -> dict[str, Tensor]:
        real, fake = dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features)
        if len(real) < 2 or len(fake) < 2:
            raise ValueError(f"SampleQuality needs >= 2 real and generated images, got {len(real)} and {len(fake)}.")
        probabilities = dim_zero_cat(self.fake_probabilities).double()
        marginal = probabilities.mean(dim=0)
        kl = (probabilities * (probabilities.clamp_min(1e-30).log() - marginal.clamp_min(1e-30).log())).sum(dim=1)
        histogram = torch.bincount(probabilities.argmax(dim=1), minlength=probabilities.shape[1]).double()
        histogram = histogram / histogram.sum()
        entropy = -(histogram[histogram > 0] * histogram[histogram > 0].log()).sum()
        kid, _ = kernel_distance(fake, real, self.kid_subsets, self.kid_subset_size, self.seed)
        suffix = f"{self.features.name}_{count_label(len(fake))}"
        values = {
            f"fid_{suffix}": frechet_distance(fake, real),
            f"kid_{suffix}": kid,
            f"is_{suffix}": kl.mean().exp(),
            f"class_entropy_{suffix}": entropy,
            f"reals_{self.features.name}": torch.tensor(float(len(real)), dtype=torch.float64),
        }
        return {k: v.float() for k, v in values.items()}
