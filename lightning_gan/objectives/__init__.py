"""What a GAN computes from a batch, and its parts.

An objective (:mod:`.base`) turns a batch into D's and G's losses and into what evaluation scores; the loop
(:class:`lightning_gan.gan.GAN`) only runs the optimisation. Its parts are strategies of their own: adversarial losses
(:mod:`.losses`), gradient penalties (:mod:`.penalties`), reconstruction losses (:mod:`.reconstruction`) and
differentiable augmentation (:mod:`.augment`), and the metrics a metric discriminator learns (:mod:`.target_metrics`).
"""

from lightning_gan.objectives.adversarial import RealVersusFake
from lightning_gan.objectives.augment import DiffAugment
from lightning_gan.objectives.base import Objective, Scored, Terms
from lightning_gan.objectives.cycle import CycleConsistency
from lightning_gan.objectives.losses import (
    AdversarialLoss,
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinGPLoss,
    WassersteinLoss,
)
from lightning_gan.objectives.metric_discriminator import MetricGANPlus, ReplayBuffer
from lightning_gan.objectives.paired import PairedTranslation
from lightning_gan.objectives.penalties import GradientPenalty, R1Penalty, R2Penalty
from lightning_gan.objectives.pool import ImagePool
from lightning_gan.objectives.reconstruction import (
    DeEmphasised,
    L1Loss,
    MSELoss,
    MultiResolutionSTFTLoss,
    ReconstructionLoss,
    WeightedSum,
)
from lightning_gan.objectives.synthesis import Synthesis
from lightning_gan.objectives.target_metrics import PESQ, STOI, TargetMetric, WeightedMetric

__all__ = [
    "PESQ",
    "STOI",
    "AdversarialLoss",
    "CycleConsistency",
    "DeEmphasised",
    "DiffAugment",
    "GradientPenalty",
    "HingeLoss",
    "ImagePool",
    "L1Loss",
    "LeastSquaresLoss",
    "MSELoss",
    "MetricGANPlus",
    "MinimaxLoss",
    "MultiResolutionSTFTLoss",
    "NonSaturatingLoss",
    "Objective",
    "PairedTranslation",
    "R1Penalty",
    "R2Penalty",
    "RealVersusFake",
    "ReconstructionLoss",
    "ReplayBuffer",
    "Scored",
    "Synthesis",
    "TargetMetric",
    "Terms",
    "WassersteinGPLoss",
    "WassersteinLoss",
    "WeightedMetric",
    "WeightedSum",
]
