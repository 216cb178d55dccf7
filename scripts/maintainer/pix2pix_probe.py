"""Does a pix2pix generator use its input? Probes of a checkpoint on aligned A|B pairs, under several ways of running G.

For each way of running G (raw or EMA weights; eval mode, or batch norm on the batch's own statistics as in
training, with dropout on or off) it prints, on ``--count`` pairs at the training scale:

* ``spread``: the standard deviation across inputs of the output at each pixel, averaged over pixels, divided by the
  same for the true photographs (1: the outputs differ between inputs as much as photographs do; 0: one output for
  every input);
* ``swap``: mean |G(x_i) - G(x_j)| over pairs of different inputs, divided by the same for the photographs (how
  much the output changes when the input changes);
* ``grad``: mean |d sum(G(x) * r) / dx| over the input's pixels for a fixed random ``r`` (how much the output moves
  per unit change of the input), in eval-mode networks;
* ``skip``: share of the final layer's pre-activation that comes from the outermost skip (the input's own
  first-layer features) rather than from the deeper decoder (measured by running that layer on each part alone);
* ``edge_f1`` / ``chance``: :class:`~lightning_gan.metrics.EdgeF1` against the 256-px input / against another
  image's input (a generator that ignores its input scores the same on both), and ``swd``:
  :class:`~lightning_gan.metrics.SlicedWassersteinDistance` against the 256-px photographs, outputs brought back to
  256 px as ``predict`` does.

It then prints, per layer, the norm of the EMA generator's weights over the raw generator's (an average of weights
that keep turning shrinks), and for every batch-norm layer of the EMA generator the ratio of its running variance to
the variance the layer sees on the probe's inputs (far from 1: eval mode normalises with statistics that do not fit).

Usage::

    python scripts/maintainer/pix2pix_probe.py --ckpt <run>/checkpoints/last.ckpt \\
        --images datasets/edges2wallpapers/val --count 16
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lightning_gan.checkpoints.reading import read_checkpoint
from lightning_gan.data.image_folder import list_images, load_image
from lightning_gan.metrics import EdgeF1, SlicedWassersteinDistance
from lightning_gan.nets import UnetGenerator


def _tensor(image) -> Tensor:  # type: ignore[no-untyped-def]
    return torch.from_numpy(__import__("numpy").asarray(image, dtype="float32")).permute(2, 0, 1) / 127.5 - 1.0


def load_pairs(folder: Path, count: int) -> tuple[Tensor, Tensor]:
    """The first ``count`` aligned A|B files of ``folder`` (every k-th, spread over the folder), as [-1, 1]."""
    files = list_images(folder)
    files = files[:: max(1, len(files) // count)][:count]
    a, b = [], []
    for path in files:
        both = load_image(path, 3)
        half = both.width // 2
        a.append(_tensor(both.crop((0, 0, half, both.height))))
        b.append(_tensor(both.crop((half, 0, both.width, both.height))))
    return torch.stack(a), torch.stack(b)


def resize(x: Tensor, size: int) -> Tensor:
    shrink = size < x.shape[-1]
    return F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=shrink).clamp(-1, 1)


def networks(ckpt: Path) -> dict[str, UnetGenerator]:
    checkpoint = read_checkpoint(ckpt)
    args = checkpoint["hyper_parameters"]["generator"]["init_args"]
    state = checkpoint["state_dict"]
    out = {}
    for name, prefix in (("raw", "generator."), ("ema", "generator_ema.module.")):
        g = UnetGenerator(
            **{
                k: v
                for k, v in args.items()
                if k in ("in_channels", "out_channels", "num_downs", "ngf", "norm", "dropout")
            }
        )
        weights = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        if weights:
            g.load_state_dict(weights)
            out[name] = g
    return out


def set_mode(g: nn.Module, batch_stats: bool, dropout: bool) -> nn.Module:
    g = copy.deepcopy(g).eval()
    for m in g.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and batch_stats:
            m.train()
            m.momentum = 0.0  # use the batch's statistics, leave the running ones as they are
        if isinstance(m, nn.Dropout) and dropout:
            m.train()
    return g


def recompute_bn(g: nn.Module, inputs: Tensor) -> nn.Module:
    """A copy of ``g`` whose batch-norm running statistics are recomputed from scratch on ``inputs`` one image at
    a time, as training feeds them (``torch.optim.swa_utils.update_bn``'s cumulative average), then in eval mode."""
    g = copy.deepcopy(g)
    for m in g.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches below
    g.train()
    with torch.no_grad():
        for i in range(len(inputs)):
            g(inputs[i : i + 1])
    return g.eval()


def skip_share(g: UnetGenerator, x: Tensor) -> float:
    """Share of the last layer's pre-activation from the outermost skip, by running it on each half alone."""
    skips = []
    h = x
    for encoder in g.encoders:
        h = encoder(h)
        skips.append(h)
    y = skips.pop()
    for i in range(g.num_downs - 1, 0, -1):
        y = torch.cat([skips[i - 1], g.decoders[i](y)], dim=1)
    relu, conv = g.decoders[0][0], g.decoders[0][1]
    half = y.shape[1] // 2
    z = relu(y.clone())
    skip_part, deep_part = z.clone(), z.clone()
    skip_part[:, half:] = 0
    deep_part[:, :half] = 0
    a = (conv(skip_part) - conv.bias[None, :, None, None]).abs().mean().item()
    b = (conv(deep_part) - conv.bias[None, :, None, None]).abs().mean().item()
    return a / (a + b)


def bn_ratios(g: UnetGenerator, x: Tensor) -> list[tuple[str, float, float]]:
    """(layer, running var / batch var, |running mean - batch mean| / batch std) per batch-norm layer."""
    found: list[tuple[str, float, float]] = []
    hooks = []
    for name, m in g.named_modules():
        if isinstance(m, nn.BatchNorm2d):

            def hook(module: nn.Module, inputs: tuple[Tensor], _out: Tensor, name: str = name) -> None:
                v = inputs[0].var(dim=(0, 2, 3), unbiased=False)
                mu = inputs[0].mean(dim=(0, 2, 3))
                ratio = (module.running_var / v.clamp_min(1e-8)).median().item()
                shift = ((module.running_mean - mu).abs() / v.sqrt().clamp_min(1e-8)).median().item()
                found.append((f"{name} {tuple(inputs[0].shape[-2:])}", ratio, shift))

            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        g.eval()(x)
    for h in hooks:
        h.remove()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", type=Path, required=True)
    parser.add_argument("--images", type=Path, required=True, help="folder of aligned A|B pairs")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--size", type=int, default=128, help="training scale (pix2pix_cpu: 128)")
    parser.add_argument(
        "--train", type=Path, help="training pairs: also run G with its batch-norm statistics recomputed"
    )
    parser.add_argument("--recompute", type=int, default=64, help="training images for the recomputation (64)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    a_full, b_full = load_pairs(args.images, args.count)
    a, b = resize(a_full, args.size), resize(b_full, args.size)
    target_spread = b.std(dim=0).mean().item()
    target_swap = (b[:, None] - b[None]).abs().mean().item() * len(b) / (len(b) - 1)
    r = torch.randn_like(b)
    print(f"{len(a)} pairs from {args.images}, {args.size} px; photographs: spread {target_spread:.3f}")
    print("generator | mode | spread | swap | grad | skip | edge_f1 | chance | swd | psnr")
    train_a = resize(load_pairs(args.train, args.recompute)[0], args.size) if args.train is not None else None
    for name, g in networks(args.ckpt).items():
        modes = {
            "eval": (False, False),
            "batch-stats": (True, False),
            "batch-stats+dropout": (True, True),
            "per-image batch-stats": (True, False),
        }
        if train_a is not None:
            modes["eval, running stats recomputed"] = (False, False)
        for mode, (batch_stats, dropout) in modes.items():
            net = set_mode(g, batch_stats, dropout)
            if mode == "eval, running stats recomputed":
                assert train_a is not None
                net = recompute_bn(g, train_a)
            x = a.clone().requires_grad_(True)
            # per-image: batch 1, as in training, so each image is normalised with its own statistics
            out = torch.cat([net(x[i : i + 1]) for i in range(len(x))]) if mode.startswith("per-image") else net(x)
            (grad,) = torch.autograd.grad((out * r).sum(), x)
            out = out.detach()
            spread = out.std(dim=0).mean().item() / target_spread
            swap = (out[:, None] - out[None]).abs().mean().item() * len(out) / (len(out) - 1) / target_swap
            with torch.no_grad():
                share = skip_share(net, a)
                full = resize(out, a_full.shape[-1])
            edge, chance, swd = EdgeF1(), EdgeF1(against="another_input"), SlicedWassersteinDistance()
            edge.update(full, b_full, condition=a_full)
            chance.update(full, b_full, condition=a_full)
            swd.update(full, b_full)
            psnr = 10 * torch.log10(4 / ((full - b_full) ** 2).mean()).item()
            print(
                f"{name} | {mode} | {spread:.3f} | {swap:.3f} | {grad.abs().mean().item():.2e} | {share:.2f} | "
                f"{edge.compute().item():.3f} | {chance.compute().item():.3f} | {swd.compute().item():.0f} | {psnr:.2f}"
            )
    nets = networks(args.ckpt)
    if "ema" in nets:
        print("weight norm, EMA / raw generator, per layer:")
        raw = dict(nets["raw"].named_parameters())
        for name, p in nets["ema"].named_parameters():
            if p.ndim == 4:
                print(f"  {name}: {p.norm().item() / raw[name].norm().item():.3f}")
    print("batch-norm layers of the EMA generator: running var / probe var, |running mean - probe mean| / probe std")
    g = nets.get("ema") or nets["raw"]
    for layer, ratio, shift in bn_ratios(g, a):
        print(f"  {layer}: {ratio:.3g}, {shift:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
