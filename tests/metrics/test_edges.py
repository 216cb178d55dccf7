"""EdgeF1 on constructed images: 1 when the output's edges are the input's, 0 for a blank output, the pixel
tolerance respected, the detector's defaults equal to the data set script's, and a named error for inputs that are
not edge maps."""

import inspect

import numpy as np
import pytest
import torch

from lightning_gan.metrics.edges import CannySettings, EdgeF1, EdgeInputError
from tests.scripts.test_pix2pix_scripts import _load

pytest.importorskip("skimage")


def _scene(seed: int, size: int = 64) -> torch.Tensor:
    """A 3 x size x size image in [-1, 1] of a few flat rectangles (sharp, well separated boundaries)."""
    rng = np.random.default_rng(seed)
    image = np.full((3, size, size), -0.2)
    for _ in range(3):
        top, left = rng.integers(4, size // 2, 2)
        h, w = rng.integers(size // 5, size // 2, 2)
        image[:, top : top + h, left : left + w] = rng.uniform(-1, 1, (3, 1, 1))
    return torch.from_numpy(image).float()


def _edge_input(image: torch.Tensor) -> torch.Tensor:
    """The detector's map of ``image`` drawn as the data set draws it: black (-1) lines on white (1), 3 channels."""
    grey = ((image.clamp(-1, 1) + 1) * 127.5).round() / 255.0
    grey = (grey * torch.tensor([0.2125, 0.7154, 0.0721])[:, None, None]).sum(0)
    edges = torch.from_numpy(CannySettings().detect(grey.double().numpy()))
    return torch.where(edges, -1.0, 1.0).expand(3, -1, -1).clone()


def _f1(outputs: torch.Tensor, inputs: torch.Tensor, **kwargs) -> float:
    metric = EdgeF1(**kwargs)
    metric.update(outputs, outputs, condition=inputs)
    return metric.compute().item()


@pytest.fixture
def scenes() -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.stack([_scene(s) for s in range(3)])
    return images, torch.stack([_edge_input(i) for i in images])


def test_output_whose_edges_are_the_input_scores_one(scenes) -> None:
    images, inputs = scenes
    assert _f1(images, inputs) == pytest.approx(1.0)


def test_blank_output_scores_zero(scenes) -> None:
    images, inputs = scenes
    assert _f1(torch.zeros_like(images), inputs) == 0.0
    other = torch.stack([_scene(s) for s in (10, 11, 12)])  # other scenes: few lines where the input's are
    assert _f1(other, inputs) < 0.5


def test_the_tolerance_is_respected(scenes) -> None:
    images, inputs = scenes
    shifted = torch.roll(images, shifts=2, dims=-1)  # every vertical line 2 pixels to the right
    assert _f1(shifted, inputs, tolerance=2.0) > 0.95
    assert _f1(shifted, inputs, tolerance=1.0) < 0.7
    far = torch.roll(images, shifts=(5, 5), dims=(-2, -1))
    assert _f1(far, inputs, tolerance=2.0) < 0.3


def test_against_another_input_gives_the_chance_level(scenes) -> None:
    images, inputs = scenes
    assert _f1(images, inputs, against="another_input") < 0.5  # each output against another scene's lines
    cells = torch.arange(images.shape[-1]) // 12  # a checkerboard, the same for every input: edges near any line
    texture = (((cells[:, None] + cells[None, :]) % 2) * 1.6 - 0.8).expand_as(images)
    own, other = _f1(texture, inputs), _f1(texture, inputs, against="another_input")
    assert own > 0.2  # a texture that ignores the input still scores ...
    assert abs(own - other) < 0.05  # ... but nothing over the chance level
    # At batch size 1 each image is scored against the previous batch's input; the first one is skipped.
    metric = EdgeF1(against="another_input")
    for i in range(len(images)):
        metric.update(images[i : i + 1], images[i : i + 1], condition=inputs[i : i + 1])
    assert metric.input_edges.item() == int((inputs[:2, 0] < 0).sum())


def test_counts_accumulate_over_batches_and_reset(scenes) -> None:
    images, inputs = scenes
    metric = EdgeF1()
    metric.update(images[:1], images[:1], condition=inputs[:1])
    metric.update(torch.zeros_like(images[1:]), images[1:], condition=inputs[1:])
    mixed = metric.compute().item()
    assert 0.0 < mixed < 1.0  # precision 1 (only image 0 has output edges), recall about a third
    metric.reset()
    metric.update(images, images, condition=inputs)
    assert metric.compute().item() == pytest.approx(1.0)


def test_default_detector_is_the_data_sets() -> None:
    module = _load("datasets/make_edges_dataset")
    script = {k: v.default for k, v in inspect.signature(module.edge_map).parameters.items() if k != "photo"}
    ours = CannySettings()
    assert script == {"sigma": ours.sigma, "low": ours.low, "high": ours.high, "min_size": ours.min_size}
    # ... and draws the same map on a photograph-like image.
    image = _scene(4, 96)
    photo = ((image.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
    theirs = module.edge_map(photo) == 0
    np.testing.assert_array_equal(_edge_input(image)[0].numpy() < 0, theirs)


@pytest.mark.parametrize("kind", ["photo", "grey", "white"])
def test_inputs_that_are_not_edge_maps_are_refused_with_the_metrics_name(kind: str) -> None:
    inputs = {
        "photo": torch.stack([_scene(s) for s in range(2)]),
        "grey": torch.zeros(2, 3, 64, 64),
        "white": torch.ones(2, 3, 64, 64),
    }[kind]
    with pytest.raises(EdgeInputError, match=r"EdgeF1 .* needs inputs that are edge maps"):
        _f1(torch.zeros(2, 3, 64, 64), inputs)


def test_update_needs_the_condition() -> None:
    with pytest.raises(ValueError, match="needs the input edge maps"):
        EdgeF1().update(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))
