"""Edge consistency of a translation from an edge map: does the output keep the input's lines?

A translation from an edge map (pix2pix's edges2shoes / edges2handbags: Isola et al. 2017, "Image-to-Image
Translation with Conditional Adversarial Networks", arXiv 1611.07004, section 4.1; the development set of
``scripts/datasets/make_edges_dataset.py``) should put the photograph's boundaries where the input draws lines.
A per-pixel error against the true photograph does not ask this (the blurry
average of plausible photos scores well on PSNR and has no edges at all), and a realism measure (SWD,
:mod:`lightning_gan.metrics.swd`) does not either (a real photo of another scene is realistic). :class:`EdgeF1`
measures it directly: it runs the edge detector that drew the input maps on the output and compares the two maps.

Definition, per evaluation (micro-averaged: the counts are summed over all images before the ratios):

* ``E_out`` = the detector's edges of the output, ``E_in`` = the input's edge pixels (dark lines on white);
* precision ``P = |{p in E_out : dist(p, E_in) <= tolerance}| / |E_out|`` (an output edge near an input line);
* recall ``R = |{q in E_in : dist(q, E_out) <= tolerance}| / |E_in|`` (an input line that the output draws);
* ``F1 = 2 P R / (P + R)``, 0 when the output has no edges (``P`` undefined) or nothing matches.

``dist`` is the Euclidean pixel distance (``scipy.ndimage.distance_transform_edt``). Matching is by distance, not
the one-to-one assignment of the BSDS benchmark (Martin et al. 2004, "Learning to Detect Natural Image Boundaries
Using Local Brightness, Color, and Texture Cues", IEEE TPAMI), so a doubled line counts twice; with thinned
1-pixel maps the difference is small, and the measure needs no assignment solver.

The detector defaults to the settings that drew the development set's maps (``make_edges_dataset.edge_map``):
Canny (``skimage.feature.canny``) of the grey image with sigma 2 and hysteresis thresholds at the 0.75 and 0.9
quantiles of the gradient magnitude, edge pieces under 12 pixels dropped (8-connected), then thinned to 1 pixel.
With quantile thresholds every non-flat image gets edges; a flat one (a constant output) gets none, so F1 = 0.

Needs scikit-image (``pip install 'lightning_gan[datasets]'``); CPU work per image (a few milliseconds at 256 px),
done in ``update``. DDP: the four counts are summed across ranks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.ndimage
import torch
from torch import Tensor
from torchmetrics import Metric


class EdgeInputError(ValueError):
    """The inputs given to :class:`EdgeF1` are not edge maps (dark lines on a white background)."""


@dataclass(frozen=True)
class CannySettings:
    """The edge detector: ``skimage.feature.canny`` of the grey image, small pieces dropped, thinned.

    The defaults are ``scripts/datasets/make_edges_dataset.py``'s ``edge_map`` (a test keeps them equal).

    Attributes:
        sigma: Gaussian smoothing of Canny.
        low: low hysteresis threshold (a quantile of the gradient magnitude when ``use_quantiles``).
        high: high hysteresis threshold (likewise).
        use_quantiles: read ``low`` and ``high`` as quantiles, so every image gets a similar edge density.
        min_size: 8-connected edge pieces with fewer pixels are dropped.
        thin: thin the edges to 1 pixel (Canny's non-maximum suppression leaves a few 2-pixel corners).
    """

    sigma: float = 2.0
    low: float = 0.75
    high: float = 0.9
    use_quantiles: bool = True
    min_size: int = 12
    thin: bool = True

    def detect(self, grey: np.ndarray) -> np.ndarray:
        """Boolean edge map of a grey ``H x W`` image in [0, 1]."""
        from skimage import feature, morphology

        edges = feature.canny(
            grey, sigma=self.sigma, low_threshold=self.low, high_threshold=self.high, use_quantiles=self.use_quantiles
        )
        if self.min_size > 1:
            labels, count = scipy.ndimage.label(edges, structure=np.ones((3, 3), dtype=bool))
            if count:
                sizes = np.bincount(labels.ravel())
                keep = sizes >= self.min_size
                keep[0] = False
                edges = keep[labels]
        if self.thin:
            edges = morphology.thin(edges)
        return np.asarray(edges, dtype=bool)


def _require_skimage() -> None:
    try:
        import skimage  # noqa: F401
    except ImportError as error:  # pragma: no cover - the test environment has it
        raise ImportError(
            "EdgeF1 runs the Canny detector of scikit-image, which is not installed: "
            "pip install 'lightning_gan[datasets]'."
        ) from error


def _grey(images: Tensor) -> np.ndarray:
    """``N x C x H x W`` in [-1, 1] -> ``N x H x W`` grey in [0, 1] on the 8-bit grid (as a saved output would be;
    ITU-R 601 luma for RGB, as ``skimage.color.rgb2gray`` weighs it)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round() / 255.0
    if x.shape[1] == 3:
        weights = torch.tensor([0.2125, 0.7154, 0.0721], dtype=x.dtype, device=x.device)
        x = (x * weights[:, None, None]).sum(dim=1)
    else:
        x = x.mean(dim=1)
    return x.cpu().double().numpy()


def matched(edges: np.ndarray, reference: np.ndarray, tolerance: float) -> int:
    """How many pixels of ``edges`` lie within ``tolerance`` (Euclidean) of a pixel of ``reference``."""
    if not reference.any():
        return 0
    distance = scipy.ndimage.distance_transform_edt(~reference)
    return int((edges & (distance <= tolerance)).sum())


class EdgeF1(Metric):
    """Edge-F1 of the detector's edges of the output against the input edge map, with a pixel tolerance (the
    definition and the detector are in the module docstring). Higher is better, in [0, 1].

    Fed by the GAN module as ``update(output, target, condition=input)``; the target is not used. Inputs are edge
    maps with dark lines (below ``input_threshold`` in [-1, 1]) on white.

    Args:
        tolerance: an edge pixel counts as matched within this Euclidean distance in pixels (2 by default, at the
            data's resolution: 256 px for the development set).
        detector: the edge detector run on the outputs; default the development set's (:class:`CannySettings`).
        input_threshold: input pixels darker than this (mean over channels, in [-1, 1]) are edge pixels.
        against: ``"input"``: each output against its own input (the measure); ``"another_input"``: against the
            input of another image of the evaluation (the previous one), the chance level. A generator that ignores
            its input scores the same on both (a dense texture has edges near any line), so the gap between the
            two is what following the input's lines earns.

    Raises:
        EdgeInputError: in ``update``, on inputs that are not edge maps: fewer than 0.05 % dark pixels, more than half,
            or more than 10 % of pixels neither near-black nor near-white. Validation's sanity check runs
            ``update`` before training, so a wrong data set stops a fit there.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = True
    output_matched: Tensor
    output_edges: Tensor
    input_matched: Tensor
    input_edges: Tensor

    def __init__(
        self,
        tolerance: float = 2.0,
        detector: CannySettings | None = None,
        input_threshold: float = 0.0,
        against: Literal["input", "another_input"] = "input",
    ) -> None:
        super().__init__()
        _require_skimage()
        if tolerance < 0:
            raise ValueError(f"Expected `tolerance` >= 0, got {tolerance!r}.")
        if against not in ("input", "another_input"):
            raise ValueError(f"Expected `against` 'input' or 'another_input', got {against!r}.")
        self.tolerance, self.against = tolerance, against
        self._previous: np.ndarray | None = None  # the last input map seen, for `another_input` at batch size 1
        self.detector = detector if detector is not None else CannySettings()
        self.input_threshold = input_threshold
        for name in ("output_matched", "output_edges", "input_matched", "input_edges"):
            self.add_state(name, default=torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    @property
    def scores_single_items(self) -> bool:
        """Whether one image alone has a score (per-item tables such as ``test``'s HTML report): not for the
        chance level, which compares each output with another image's input."""
        return self.against == "input"

    def input_edge_map(self, condition: Tensor) -> np.ndarray:
        """The input's edge pixels, ``N x H x W`` booleans; raises :class:`EdgeInputError` on non-edge-map inputs."""
        x = condition.detach().float().mean(dim=1)
        dark = (x < self.input_threshold).float().mean().item()
        grey = ((x > -0.5) & (x < 0.5)).float().mean().item()
        if not 5e-4 <= dark <= 0.5 or grey > 0.1:
            raise EdgeInputError(
                f"EdgeF1 (edge consistency) needs inputs that are edge maps, dark lines on a white background, such "
                f"as scripts/datasets/make_edges_dataset.py draws; these inputs have {100 * dark:.2f} % dark pixels "
                f"and {100 * grey:.1f} % mid-grey ones. Remove the metric from model.metrics for this data set."
            )
        return (x < self.input_threshold).cpu().numpy()

    def update(self, preds: Tensor, target: Tensor, condition: Tensor | None = None) -> None:
        """Score outputs ``preds`` (``N x C x H x W`` in [-1, 1]) against the edge maps ``condition`` (the same
        ``N x H x W``); ``target`` is accepted for the ``(output, target)`` calling convention and ignored."""
        if condition is None:
            raise ValueError("EdgeF1 needs the input edge maps: call update(output, target, condition=input).")
        if condition.shape[0] != preds.shape[0] or condition.shape[-2:] != preds.shape[-2:]:
            raise ValueError(
                f"EdgeF1 expects outputs and inputs of the same N, H and W, got {tuple(preds.shape)} and "
                f"{tuple(condition.shape)}."
            )
        reference = self.input_edge_map(condition)
        if self.against == "another_input":
            shifted = np.roll(reference, 1, axis=0)  # image i against the input of image i - 1
            if len(reference) == 1:
                if self._previous is None or self._previous.shape != reference.shape[1:]:
                    self._previous = reference[-1]
                    return  # the first image of a batch-1 evaluation has no other input yet
                shifted = self._previous[None]
            self._previous = reference[-1]
            reference = shifted
        counts = np.zeros(4, dtype=np.int64)
        for grey, ref in zip(_grey(preds), reference, strict=True):
            out = self.detector.detect(grey)
            counts += (
                matched(out, ref, self.tolerance),
                int(out.sum()),
                matched(ref, out, self.tolerance),
                int(ref.sum()),
            )
        self.output_matched += int(counts[0])
        self.output_edges += int(counts[1])
        self.input_matched += int(counts[2])
        self.input_edges += int(counts[3])

    def compute(self) -> Tensor:
        """``2 P R / (P + R)`` over everything scored since the last reset; 0 without output edges or matches."""
        precision = self.output_matched.double() / self.output_edges.clamp_min(1).double()
        recall = self.input_matched.double() / self.input_edges.clamp_min(1).double()
        total = precision + recall
        f1 = torch.where(total > 0, 2 * precision * recall / total.clamp_min(1e-12), torch.zeros_like(total))
        return f1.float()

    def extra_repr(self) -> str:
        return f"tolerance={self.tolerance}, detector={self.detector}, against={self.against!r}"


__all__ = ["CannySettings", "EdgeF1", "EdgeInputError", "matched"]
