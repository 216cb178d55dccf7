"""Training engineering kept out of the loop's research code: precision, speed switches, the DDP strategy,
learning-rate schedules and run folders."""

from lightning_gan.training.ddp import SeparateDDPStrategy
from lightning_gan.training.schedulers import LinearDecay, TimedLinearDecay
from lightning_gan.training.speed import Speed

__all__ = ["LinearDecay", "SeparateDDPStrategy", "Speed", "TimedLinearDecay"]
