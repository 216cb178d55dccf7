"""The Inception-v3 network of FID, with the weights read from a local file (nothing is downloaded).

FID is only comparable between papers when computed with one particular network: the TensorFlow Inception graph
``2015-12-05`` of the original FID code (bioinf-jku/TTUR), ported to PyTorch by mseitzer/pytorch-fid and
toshas/torch-fidelity (the extractor torchmetrics uses). Both ports publish the same file, SHA-256
:data:`WEIGHTS_SHA256`. ``torch-fidelity`` itself cannot be used here: importing it imports ``torchvision``.

This module rebuilds that network with the same parameter names, so the published state dict loads as is. The
port differs from torchvision's Inception-v3 in four places, all to match the TensorFlow graph: 1008 output
classes; average pools inside the A, C and first E blocks exclude the zero padding from the average; the second E
block max-pools its pooling branch; batch norm uses eps 0.001. Inputs are quantised to 8 bits, resized to
299 x 299 with TensorFlow 1's bilinear resize (``align_corners=False`` without half-pixel centres) and scaled to
[-1, 1] as ``(x - 128) / 128``, as in the graph. FID uses the 2048 pooled features; the Inception score uses the
softmax of the logits without the fc bias ("logits_unbiased", as torch-fidelity).

Get the weights once (docs/evaluation.md, "Inception FID"), then point ``weights`` (or ``LIGHTNING_GAN_FID_WEIGHTS``)
at it.
"""

import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
WEIGHTS_ENV = "LIGHTNING_GAN_FID_WEIGHTS"
INPUT_SIZE = 299


class MissingWeightsError(FileNotFoundError):
    """The FID Inception weights file is not where the config or the environment says."""


class WeightsHashError(ValueError):
    """The file given as the FID Inception weights is not the published file."""


class _Conv(nn.Module):
    """Convolution without bias, batch norm (eps 0.001), ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int | tuple[int, int], stride: int = 1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: Tensor) -> Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _BlockA(nn.Module):
    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(c_in, 64, 1)
        self.branch5x5_1 = _Conv(c_in, 48, 1)
        self.branch5x5_2 = _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _Conv(c_in, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, padding=1)
        self.branch_pool = _Conv(c_in, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool(x)),
            ],
            1,
        )


class _BlockB(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = _Conv(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = _Conv(c_in, 64, 1)
        self.branch3x3dbl_2 = _Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _Conv(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        double = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), double, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockC(nn.Module):
    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(c_in, 192, 1)
        self.branch7x7_1 = _Conv(c_in, c7, 1)
        self.branch7x7_2 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _Conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _Conv(c_in, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _Conv(c_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            double = layer(double)
        return torch.cat([self.branch1x1(x), single, double, self.branch_pool(_avg_pool(x))], 1)


class _BlockD(nn.Module):
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = _Conv(c_in, 192, 1)
        self.branch3x3_2 = _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _Conv(c_in, 192, 1)
        self.branch7x7x3_2 = _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        seven = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockE(nn.Module):
    def __init__(self, c_in: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = _Conv(c_in, 320, 1)
        self.branch3x3_1 = _Conv(c_in, 384, 1)
        self.branch3x3_2a = _Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _Conv(c_in, 448, 1)
        self.branch3x3dbl_2 = _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _Conv(c_in, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        single = self.branch3x3_1(x)
        double = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(single),
                self.branch3x3_2b(single),
                self.branch3x3dbl_3a(double),
                self.branch3x3dbl_3b(double),
                self.branch_pool(pooled),
            ],
            1,
        )


def resize_bilinear_tf1(x: Tensor, size: int) -> Tensor:
    """TensorFlow 1's ``resize_bilinear`` (``align_corners=False``, no half-pixel centres): output pixel ``i`` samples
    the input at ``i * in / out``, which differs from PyTorch's bilinear ``interpolate``."""

    def weights(n_in: int) -> tuple[Tensor, Tensor, Tensor]:
        position = torch.arange(size, dtype=x.dtype, device=x.device) * (n_in / size)
        low = position.floor().long().clamp(max=n_in - 1)
        return low, (low + 1).clamp(max=n_in - 1), position - low

    top, bottom, wy = weights(x.shape[-2])
    left, right, wx = weights(x.shape[-1])
    rows = x[..., top, :] * (1 - wy)[:, None] + x[..., bottom, :] * wy[:, None]
    return rows[..., left] * (1 - wx) + rows[..., right] * wx


class FIDInceptionV3(nn.Module):
    """Inception-v3 as in FID; ``forward`` maps images in [-1, 1] (1 or 3 channels, any size) to
    ``(N x 2048 pooled features, N x 1008 class probabilities)``. Parameter names match :data:`WEIGHTS_FILE`."""

    num_features = 2048

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _Conv(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = _Conv(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _Conv(80, 192, 3)
        self.Mixed_5b = _BlockA(192, 32)
        self.Mixed_5c = _BlockA(256, 64)
        self.Mixed_5d = _BlockA(288, 64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, 128)
        self.Mixed_6c = _BlockC(768, 160)
        self.Mixed_6d = _BlockC(768, 160)
        self.Mixed_6e = _BlockC(768, 192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FIDInceptionV3":
        return super().train(False)  # always in inference mode: batch norm uses the stored statistics

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        x = ((images.float().clamp(-1, 1) + 1) * 127.5).round()  # the 8-bit images FID is defined on
        x = (resize_bilinear_tf1(x, INPUT_SIZE) - 128) / 128
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)
        blocks: list[nn.Module] = [self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b]
        blocks += [self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c]
        for block in blocks:
            x = block(x)
        features = x.mean(dim=(2, 3))
        return features, F.softmax(features @ self.fc.weight.T, dim=1)

    def features_and_probabilities(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return self(images)


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_path(path: str | Path | None = None) -> Path:
    """The weights file: ``path``, else ``$LIGHTNING_GAN_FID_WEIGHTS``; raises :class:`MissingWeightsError`,
    naming the file and how to get it, when neither gives an existing file."""
    given = path if path is not None else os.environ.get(WEIGHTS_ENV)
    if given and Path(given).is_file():
        return Path(given)
    where = f"'{given}' does not exist" if given else f"no path was given (config key or ${WEIGHTS_ENV})"
    raise MissingWeightsError(
        f"Inception FID needs the weights file {WEIGHTS_FILE} and {where}. Download it once from {WEIGHTS_URL} "
        f"(SHA-256 {WEIGHTS_SHA256}), then set ${WEIGHTS_ENV}=/path/to/{WEIGHTS_FILE} or the config's "
        "`weights` key; or remove the Inception metric from the config."
    )


def load_fid_inception(path: str | Path | None = None, check_hash: bool = True) -> FIDInceptionV3:
    """The FID Inception network with the weights from :func:`weights_path`.

    Args:
        path: the weights file; ``None``: ``$LIGHTNING_GAN_FID_WEIGHTS``.
        check_hash: refuse a file whose SHA-256 is not :data:`WEIGHTS_SHA256` (numbers from other weights are not
            FID); turn off only to test the plumbing with locally made weights.
    """
    file = weights_path(path)
    if check_hash and (digest := sha256(file)) != WEIGHTS_SHA256:
        raise WeightsHashError(
            f"{file} has SHA-256 {digest}, not the published {WEIGHTS_SHA256} of {WEIGHTS_FILE} ({WEIGHTS_URL})."
        )
    network = FIDInceptionV3()
    state = torch.load(file, map_location="cpu", weights_only=True)
    missing, unexpected = network.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(
            f"{file} is not an FID Inception state dict: missing keys {missing[:5]}, unexpected keys {unexpected[:5]}."
        )
    return network
