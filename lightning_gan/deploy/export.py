"""``python -m lightning_gan export --ckpt_path CKPT --format {onnx,torchscript} --output FILE [--overwrite]``.

Writes the checkpoint's inference generator (the EMA copy when the run kept one), in eval mode and float32, as an
ONNX model or a TorchScript module, and beside it ``FILE.json``, which says how to feed it. The same JSON is stored in
the file itself: ONNX ``metadata_props["lightning_gan"]``; TorchScript extra file ``lightning_gan.json``
(``torch.jit.load(FILE, _extra_files={"lightning_gan.json": ""})``).

Inputs and outputs (names as in the file)
    ``condition`` (conditional generators): pix2pix N x C x H x W, SEGAN N x 1 x T.
    ``z`` (generators that take noise): passed explicitly, so the exported model is deterministic; draw it from
    N(0, 1) yourself. SEGAN: N x ``channels[-1]`` x T / 2**L (L = encoder layers), e.g. 32 x T/16 for the demo's
    tiny net, 1024 x T/2048 for the paper's; DCGAN: N x latent_dim x 1 x 1. ``z.shape`` in the JSON gives the rule.
    ``output``: N x C x H x W or N x 1 x T in [-1, 1] (tanh).

    The batch dimension is always dynamic; so are T (and z's length) for audio, and H and W for image generators
    that are fully convolutional (pix2pix U-Net: multiples of ``2**num_downs``; ResNet: multiples of 4). DCGAN's
    output size is fixed. ``inputs[i].shape`` lists each dimension, a name where it is dynamic.

The JSON (schema ``lightning_gan.deploy.export/1``)
    ``family`` (pix2pix, segan, dcgan, or conditional/unconditional for other generators), ``modality``,
    ``generator`` (class path), ``weights`` (``ema`` or ``generator``), ``inputs``/``outputs`` (name, shape,
    dtype, dynamic axes), ``value_range`` ([-1, 1] for the condition and the output), ``condition_channels``,
    ``output_channels``, ``size_multiple`` (H/W or T must be a multiple), ``example_size`` (the training crop side
    or audio window), ``sample_rate`` (audio), ``pre_emphasis`` (SEGAN: apply ``y[n] = x[n] - c x[n-1]`` to the
    condition; from the checkpoint's data settings, else the model's DeEmphasis coefficient), ``de_emphasis``
    (apply ``x[n] = y[n] + c x[n-1]`` to the output), ``z`` (whether it is an input, its shape rule and
    distribution), ``whole_input`` (how lightning_gan applies the generator to inputs of any size: the strategy and
    its settings, e.g. pad to a multiple of 256 and crop back, or overlap-add 16384-sample windows with hop 8192),
    ``preprocess`` and ``postprocess`` in words, and where it came from (``checkpoint``, ``epoch``, ``global_step``,
    ``format``, ``exporter``). The exported graph is G alone: normalisation, (pre/de-)emphasis, padding and
    overlap-add stay outside it, as the JSON describes; :mod:`lightning_gan.deploy.api` does them all in Python.

Exporters (torch 2.13)
    ONNX: the TorchScript-based ``torch.onnx.export(..., dynamo=False)`` with ``dynamic_axes``, opset 17 by default.
    The ``dynamo=True`` exporter needs ``onnxscript``, which the ``export`` extra does not install; the TorchScript-
    based one traces these nets exactly (the tests compare onnxruntime with PyTorch at several batch sizes and
    lengths/sizes). TorchScript: ``torch.jit.trace`` (``torch.jit.script`` rejects the nets: it types their
    ``2**n`` size properties as float). torch marks both as deprecated; their DeprecationWarnings and the
    TracerWarnings about the nets' Python-level shape checks are silenced while exporting. Those checks ran once,
    on the example input, and are not in the exported graph: the caller must respect ``size_multiple`` (a U-Net fed
    a non-multiple fails with a shape error inside the runtime, not with lightning_gan's message).

Where it writes
    ``--output FILE``, or by default beside the checkpoint under its name with ``.onnx`` / ``.torchscript.pt`` for
    the checkpoint's suffix (``last.ckpt`` -> ``last.onnx``, ``last.torchscript.pt``): a name that differs from
    the checkpoint's even when the checkpoint itself is called ``model.pt``. The checkpoint is never written over:
    an ``--output`` (or its ``FILE.json``) that is the checkpoint (by path, symbolic link or hard link) is refused,
    as is an existing folder. An existing ``FILE`` or ``FILE.json`` is replaced only with ``--overwrite``: an
    export is cheap to redo, a file the user meant to keep is not. Both files are written whole or not at all
    (:func:`lightning_gan.training.output_paths.write_atomically`): a full disk leaves no partial file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import warnings
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from lightning_gan.deploy.description import ModelInfo, describe
from lightning_gan.deploy.loading import load_gan, set_direction
from lightning_gan.errors import ConfigError
from lightning_gan.gan import GAN
from lightning_gan.nets.labels import num_classes
from lightning_gan.training.output_paths import OutputWriteError, same_file, write_atomically

Format = Literal["onnx", "torchscript"]
FORMATS: tuple[str, ...] = ("onnx", "torchscript")
SUFFIXES: dict[str, str] = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}  # default names: never a .pt checkpoint
METADATA_KEY = "lightning_gan"
EXTRA_FILE = "lightning_gan.json"
SCHEMA = "lightning_gan.deploy.export/1"
DEFAULT_OPSET = 17  # supported by every onnxruntime since 1.11 and by the TorchScript-based exporter
EXAMPLE_BATCH = 2  # not 1, so that no size-1 dimension can be mistaken for a broadcast while tracing


def sidecar_path(output: str | Path) -> Path:
    """The JSON written beside an exported model: ``FILE.json`` (e.g. ``generator.onnx.json``)."""
    return Path(f"{output}.json")


def default_output(ckpt_path: str | Path, format: Format) -> Path:
    """Where ``export`` writes without ``--output``: beside the checkpoint, its suffix replaced by ``.onnx`` /
    ``.torchscript.pt`` (``last.ckpt`` -> ``last.torchscript.pt``; ``model.pt`` -> ``model.torchscript.pt``)."""
    ckpt = Path(ckpt_path)
    return ckpt.with_name(ckpt.stem + SUFFIXES[format])


def check_output(ckpt_path: str | Path, path: Path, format: Format = "onnx", overwrite: bool = False) -> None:
    """Refuse, before anything is loaded or written, an output that would destroy a file: the checkpoint itself (by
    path, symbolic link or hard link), for the model or its ``FILE.json``; an existing folder; an existing file
    without ``overwrite``.

    Raises:
        ConfigError: naming the file, the option and what to do.
    """
    ckpt = Path(ckpt_path)
    for written in (path, sidecar_path(path)):
        if ckpt.exists() and same_file(written, ckpt):
            other = ckpt.with_name(f"{ckpt.stem}_generator{SUFFIXES[format]}")
            raise ConfigError(
                f"export would write {written}, which is the checkpoint --ckpt_path {ckpt_path} itself: a checkpoint "
                f"is never written over. Give another file, e.g. --output {other}"
            )
        if written.is_dir():
            raise ConfigError(
                f"--output {path}: {written} is an existing folder, not a file; give the file to write, e.g. "
                f"--output {path / ('generator' + SUFFIXES[format])}"
            )
    existing = [str(f) for f in (path, sidecar_path(path)) if f.exists() or f.is_symlink()]
    if existing and not overwrite:
        verb = "exists" if len(existing) == 1 else "exist"
        raise ConfigError(
            f"{' and '.join(existing)} already {verb}: export does not replace files unasked. Add --overwrite to "
            "replace them (a checkpoint is never replaced), or give another --output"
        )


# ---------------------------------------------------------------------------------------------------- inputs
def _example_inputs(generator: nn.Module, info: ModelInfo) -> dict[str, Tensor]:
    """Example inputs in the training geometry (``EXAMPLE_BATCH`` items), by input name, in call order."""
    gen = torch.Generator().manual_seed(0)
    inputs: dict[str, Tensor] = {}
    condition = None
    if info.conditional:
        if info.example_size is None:
            raise ValueError(f"cannot tell which input size {info.generator} takes: the checkpoint records none")
        spatial = (info.example_size,) * (2 if info.modality == "image" else 1)
        channels = int(info.condition_channels or 0)  # set for every conditional generator
        condition = torch.randn((EXAMPLE_BATCH, channels, *spatial), generator=gen)
        inputs["condition"] = condition
    latent_shape = getattr(generator, "latent_shape", None)
    shape = latent_shape(EXAMPLE_BATCH, condition) if latent_shape is not None else None
    if shape is not None:
        inputs["z"] = torch.randn(shape, generator=gen)
    return inputs


def _axes(info: ModelInfo, inputs: dict[str, Tensor]) -> dict[str, dict[int, str]]:
    """Dynamic axes of each input and of ``output``: batch always; length for audio; H, W where G allows."""
    spatial = {}
    if info.conditional and info.modality == "audio":
        spatial = {2: "length"}
    elif info.conditional and info.size_multiple is not None:
        spatial = {2: "height", 3: "width"}
    axes = {"condition": {0: "batch", **spatial}, "output": {0: "batch", **spatial}}
    z = inputs.get("z")
    if z is not None:
        axes["z"] = {0: "batch"}
        if info.modality == "audio" and info.conditional and z.ndim == 3:
            axes["z"][2] = "latent_length"
    return {name: axes[name] for name in (*inputs, "output")}


def _z_rule(info: ModelInfo, z: Tensor | None) -> dict[str, Any]:
    if z is None:
        return {"input": False}
    if info.modality == "audio" and info.conditional:
        shape = f"batch x {z.shape[1]} x (length / {info.size_multiple or 1})"
    else:
        shape = " x ".join(["batch", *(str(d) for d in z.shape[1:])])
    return {"input": True, "name": "z", "shape": shape, "distribution": "standard normal N(0, 1), i.i.d."}


def _shape(tensor: Tensor, axes: dict[int, str]) -> list[int | str]:
    return [axes.get(i, int(d)) for i, d in enumerate(tensor.shape)]


def _words(module: GAN, info: ModelInfo) -> tuple[str, str]:
    """(preprocess, postprocess) in words."""
    policy = module.inference.describe().words
    if info.modality == "image":
        if info.conditional:
            mode = "grayscale (ITU-R 601-2 luma)" if info.condition_channels == 1 else "RGB"
            multiple = f", H and W multiples of {info.size_multiple}" if info.size_multiple else ""
            pre = (
                f"8-bit {mode} image -> float32 x / 127.5 - 1 in [-1, 1], N x {info.condition_channels} x H x W"
                f"{multiple}; for images of any size lightning_gan {policy}"
            )
        else:
            pre = "z ~ N(0, 1) of the shape in `z`"
        return pre, "(y + 1) * 127.5, clamped to [0, 255] and rounded, as an 8-bit image"
    rate = f"{info.sample_rate} Hz" if info.sample_rate else "the model's rate"
    emphasis = f", pre-emphasis y[n] = x[n] - {info.pre_emphasis} x[n-1]" if info.pre_emphasis else ""
    pre = (
        f"mono float32 waveform in [-1, 1] at {rate}{emphasis}, N x 1 x T with T a multiple of {info.size_multiple} "
        f"(trained on {info.example_size}-sample windows); for audio of any length lightning_gan {policy}"
    )
    post = f"de-emphasis x[n] = y[n] + {info.de_emphasis} x[n-1]" if info.de_emphasis else "none"
    return pre, post


def metadata(
    module: GAN,
    info: ModelInfo,
    inputs: dict[str, Tensor],
    output: Tensor,
    axes: dict[str, dict[int, str]],
    **provenance: Any,
) -> dict[str, Any]:
    """The description stored in the exported file and its ``FILE.json`` (see the module docstring)."""
    strategy = module.inference.describe()
    # With what the strategy learnt from the run, e.g. AtTrainingScale's training geometry.
    whole_input = {"strategy": strategy.strategy, **strategy.settings, **module.inference.state_dict()}
    preprocess, postprocess = _words(module, info)

    def entry(name: str, tensor: Tensor) -> dict[str, Any]:
        described: dict[str, Any] = {"name": name, "shape": _shape(tensor, axes[name]), "dtype": "float32"}
        described["dynamic_axes"] = {str(i): n for i, n in axes[name].items()}
        if name != "z":
            described["value_range"] = [-1.0, 1.0]
        return described

    return {
        "schema": SCHEMA,
        **provenance,
        "family": info.family,
        "modality": info.modality,
        "generator": info.generator,
        "weights": "ema" if info.ema else "generator",
        "inputs": [entry(name, tensor) for name, tensor in inputs.items()],
        "outputs": [entry("output", output)],
        "value_range": [-1.0, 1.0],
        "condition_channels": info.condition_channels,
        "output_channels": int(output.shape[1]),
        "size_multiple": info.size_multiple,
        "example_size": info.example_size,
        "sample_rate": info.sample_rate,
        "pre_emphasis": info.pre_emphasis,
        "de_emphasis": info.de_emphasis,
        "z": _z_rule(info, inputs.get("z")),
        "whole_input": whole_input,
        **({"direction": info.direction} if info.direction is not None else {}),
        "preprocess": preprocess,
        "postprocess": postprocess,
    }


# ---------------------------------------------------------------------------------------------------- writers
@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence torch's deprecation notices for its TorchScript-based exporters and the TracerWarnings raised by
    the nets' Python-level shape checks (module docstring)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


def _write_onnx(
    generator: nn.Module, inputs: dict[str, Tensor], axes: dict[str, dict[int, str]], opset: int, text: str, path: Path
) -> None:
    try:
        import onnx
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError("ONNX export needs the `export` extra: pip install 'lightning_gan[export]'") from err
    with _quiet_tracing():
        torch.onnx.export(
            generator,
            tuple(inputs.values()),
            str(path),
            input_names=list(inputs),
            output_names=["output"],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {METADATA_KEY: text})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _write_torchscript(generator: nn.Module, inputs: dict[str, Tensor], text: str, path: Path) -> None:
    with _quiet_tracing(), torch.no_grad():
        traced = torch.jit.trace(generator, tuple(inputs.values()), check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={EXTRA_FILE: text})


def export(
    ckpt_path: str | Path,
    format: Format = "onnx",
    output: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    overwrite: bool = False,
    trusted_modules: str | Iterable[str] | None = None,
    direction: str | None = None,
) -> Path:
    """Export a checkpoint's inference generator to ``output`` and write ``output.json`` beside it.

    Args:
        ckpt_path: a checkpoint written by ``python -m lightning_gan fit``.
        format: ``"onnx"`` or ``"torchscript"``.
        output: the file to write; default: :func:`default_output` (``last.onnx`` / ``last.torchscript.pt``).
        opset: ONNX opset version.
        overwrite: replace an existing ``output`` / ``output.json`` (never the checkpoint itself).
        trusted_modules: module prefixes the checkpoint may name beyond the defaults
            (:mod:`lightning_gan.checkpoints.trust`, docs/security.md).
        direction: CycleGAN only: export G_A (``"AtoB"``) or G_B (``"BtoA"``); default: the checkpoint's data
            direction. The JSON's ``direction`` says which.

    Returns:
        The path of the exported model.

    Raises:
        FileNotFoundError: the checkpoint does not exist.
        ValueError: it is not a lightning_gan GAN checkpoint, ``format`` is unknown, or the generator's input size
            cannot be told from the checkpoint.
        ConfigError: ``output`` (or its JSON) is the checkpoint, an existing folder, or an existing file without
            ``overwrite`` (:func:`check_output`); checked before the checkpoint is read.
        OutputWriteError: the file could not be written (a full disk); no partial file is left.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    path = Path(output) if output is not None else default_output(ckpt_path, format)
    check_output(ckpt_path, path, format, overwrite)
    module, checkpoint = load_gan(ckpt_path, trusted_modules=trusted_modules)
    set_direction(module, direction, checkpoint.get("datamodule_hyper_parameters"))
    info = describe(module, checkpoint.get("datamodule_hyper_parameters"))
    module = module.float()
    generator = module.inference_generator.eval().requires_grad_(False)
    translator = getattr(generator, "translator", None)
    if translator is not None:  # a two-way pair: export the chosen direction's generator alone
        generator = translator()
    if num_classes(generator) is not None:
        raise ValueError(
            f"{ckpt_path}: exporting a class-conditional generator ({info.generator}, num_classes="
            f"{num_classes(generator)}) is not supported; draw its samples with "
            "lightning_gan.deploy.api.load_generator(ckpt).sample(n, labels=...)"
        )
    inputs = _example_inputs(generator, info)
    with torch.no_grad():
        example_output = generator(*inputs.values())
    axes = _axes(info, inputs)
    exporter = (
        f"torch {torch.__version__} torch.onnx.export (TorchScript-based), opset {opset}"
        if format == "onnx"
        else f"torch {torch.__version__} torch.jit.trace"
    )
    description = metadata(
        module,
        info,
        inputs,
        example_output,
        axes,
        format=format,
        exporter=exporter,
        checkpoint=str(Path(ckpt_path).expanduser().absolute()),
        epoch=checkpoint.get("epoch"),
        global_step=checkpoint.get("global_step"),
    )
    text = json.dumps(description, indent=2)
    if format == "onnx":
        write_atomically(path, partial(_write_onnx, generator, inputs, axes, opset, text), "--output")
    else:
        write_atomically(path, partial(_write_torchscript, generator, inputs, text), "--output")
    write_atomically(sidecar_path(path), partial(_write_text, text=text + "\n"), "--output")
    return path


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


# ---------------------------------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    """The ``lightning_gan export`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="lightning_gan export",
        description="Export a trained generator to ONNX or TorchScript, with FILE.json describing its inputs "
        "and normalisation.",
    )
    parser.add_argument("--ckpt_path", required=True, help="checkpoint written by `python -m lightning_gan fit`")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="file format (default: onnx)")
    parser.add_argument(
        "--output",
        default=None,
        help="file to write (default: beside the checkpoint, its suffix replaced by .onnx / .torchscript.pt); never "
        "the checkpoint itself",
    )
    parser.add_argument(
        "--overwrite",
        nargs="?",
        const=True,
        default=False,
        type=_boolean,
        help="replace an existing --output file and its FILE.json (default: refuse)",
    )
    parser.add_argument(
        "--trusted_modules",
        default=None,
        help="comma-separated module prefixes the checkpoint may name beyond the defaults (also "
        "$LIGHTNING_GAN_TRUSTED_MODULES; docs/security.md); trust only files you trust",
    )
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default: {DEFAULT_OPSET})")
    parser.add_argument(
        "--direction",
        choices=("AtoB", "BtoA"),
        default=None,
        help="CycleGAN: export G_A (AtoB) or G_B (BtoA) (default: the checkpoint's data direction)",
    )
    return parser


def _boolean(value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def main(argv: list[str]) -> Path:
    """Run ``lightning_gan export`` with ``argv`` (the arguments after ``export``); returns the written file.

    Bad arguments and bad checkpoints exit with status 2 and a one-line message (argparse's ``error``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        path = export(
            args.ckpt_path, args.format, args.output, args.opset, args.overwrite, args.trusted_modules, args.direction
        )
    except (FileNotFoundError, ValueError, OutputWriteError) as err:
        parser.error(str(err))
    print(f"wrote {path} and {sidecar_path(path)}")
    return path


__all__ = ["build_parser", "check_output", "default_output", "export", "main", "metadata", "sidecar_path"]
