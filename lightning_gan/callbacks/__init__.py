"""Lightning callbacks, one class per module, as Lightning lays out its own."""

from lightning_gan.callbacks.epoch_seeding import EpochSeeding
from lightning_gan.callbacks.explicit_optimizer_args import ExplicitOptimizerArgs
from lightning_gan.callbacks.graceful_stop import GracefulStop
from lightning_gan.callbacks.html_report import HtmlReport
from lightning_gan.callbacks.prediction_writer import PredictionWriter
from lightning_gan.callbacks.run_config import RunConfigCallback
from lightning_gan.callbacks.run_locations import RunLocations
from lightning_gan.callbacks.run_summary import RunSummary
from lightning_gan.callbacks.sample_logger import SampleLogger
from lightning_gan.callbacks.vbn_reference import VirtualBatchNormReference

__all__ = [
    "EpochSeeding",
    "ExplicitOptimizerArgs",
    "GracefulStop",
    "HtmlReport",
    "PredictionWriter",
    "RunConfigCallback",
    "RunLocations",
    "RunSummary",
    "SampleLogger",
    "VirtualBatchNormReference",
]
