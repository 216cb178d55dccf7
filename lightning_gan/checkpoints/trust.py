"""What a checkpoint may make us import and build: the allow-list :func:`lightning_gan.checkpoints.read_checkpoint`
checks before anything is built from a checkpoint.

Why: ``weights_only=True`` keeps pickled code out of a checkpoint, but loading one still rebuilds the model from
its hyper-parameters: LightningCLI (``validate``, ``test``, ``predict``, ``fit --ckpt_path``) parses them into the
config and :func:`lightning_gan.deploy.load_gan` (``export``, ``load_generator``) hands them to
``GAN.load_from_checkpoint``, and jsonargparse imports and calls whatever their ``class_path`` entries name, classes
and plain functions alike: ``g_optimizer: {class_path: os.system, init_args: {command: ...}}`` runs a shell command.
A checkpoint is a shared file (downloaded, sent by a colleague), so :func:`check_trusted` refuses it, before
anything it names is imported, when it names anything but a class of a trusted module.

Trusted modules (:data:`DEFAULT_TRUSTED_MODULES`): this package, ``torch.optim`` (optimizers and
``torch.optim.lr_scheduler``), ``torch.nn``, ``torchmetrics``, and Lightning's callbacks and loggers (also under
their ``pytorch_lightning`` names); plus the module prefixes the user names in ``LIGHTNING_GAN_TRUSTED_MODULES``
(comma-separated, :data:`TRUSTED_MODULES_VARIABLE`) or with ``trusted_modules=`` in Python. The CLI also trusts the
exact class paths its config names (:func:`config_class_paths`): a config is code by design, so what it names
would be built anyway.

What is checked, in ``hyper_parameters``, ``datamodule_hyper_parameters`` and the old Lightning keys that
``load_from_checkpoint`` still merges into the model's arguments (``hparams``, ``module_arguments``: a checkpoint
could hide an entry there), recursively through dicts and lists:

- every ``class_path`` (and Lightning's ``_class_path``) value;
- every dotted string (``os.system``) where a class or callable may be expected: jsonargparse imports a bare string
  there (``g_optimizer: torch.optim.Adam`` is accepted as the class). Where that is depends on the parameter's type,
  which is read from the signature of the (trusted, resolved) class the value belongs to; wherever it cannot be told
  (the GAN's own arguments, ``**kwargs``, untyped parameters) the string is checked;
- every string naming an existing text file in those same positions: jsonargparse reads such a file as a config
  and builds what it names (a checkpoint written by ``fit`` never refers to a config file; the CLI expands them);
- every ``${...}``: the CLI resolves interpolations in a checkpoint's hyper-parameters, so ``${oc.env:WANDB_API_KEY}``
  would copy a secret into the run's config and logs (``fit`` writes resolved values);
- ``_instantiator``: only Lightning's own (:data:`LIGHTNING_INSTANTIATORS`).

A name is trusted when its dotted path lies under a trusted module by whole components (``lightning_gan.nets.X``;
not ``lightning_gan_evil.X`` nor ``torch.optimx.X``) and, below that module, has no component starting with ``_``:
jsonargparse writes a class's public import path, so a checkpoint of ``fit`` has none, and dunder attributes
(``__globals__``, ``__builtins__``, ``__subclasses__``) are the usual way from an allowed object to any other.
String matching alone is not enough, since every module that imports ``os`` re-exports it
(``lightning_gan.cli.app.os.system`` is ``os.system``): the name is then resolved exactly as jsonargparse resolves
it, which imports only trusted modules (and, as Python does, their parent packages), and the object must be a class
defined in a trusted module. Functions are refused under the default modules (several of this package's functions
write or move files); under a module the user names, or an exact path the config names, they are accepted, as the
user vouched for that code.

What this does not cover: a trusted class is built with the checkpoint's arguments (a torchmetrics metric may
download its feature extractor's weights); a bare class name without dots (``Adam``) resolves only among already
imported subclasses of the parameter's type, as jsonargparse does. A YAML config is code by design
(``docs/security.md``).
"""

from __future__ import annotations

import codecs
import dataclasses
import enum
import inspect
import locale
import os
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from lightning_gan.errors import CheckpointError, ConfigError

TRUSTED_MODULES_VARIABLE = "LIGHTNING_GAN_TRUSTED_MODULES"
DEFAULT_TRUSTED_MODULES: tuple[str, ...] = (
    "lightning_gan",
    "torch.optim",
    "torch.nn",
    "torchmetrics",
    "lightning.pytorch.callbacks",
    "lightning.pytorch.loggers",
    "pytorch_lightning.callbacks",
    "pytorch_lightning.loggers",
)
# The instantiators Lightning itself accepts in `hyper_parameters._instantiator` (lightning.pytorch.core.saving).
LIGHTNING_INSTANTIATORS = frozenset(
    {"lightning.pytorch.cli.instantiate_module", "pytorch_lightning.cli.instantiate_module"}
)
# Checkpoint keys whose values are rebuilt (or merged into the model's arguments) or describe a data module.
CHECKED_KEYS = ("hyper_parameters", "hparams", "module_arguments", "datamodule_hyper_parameters")

_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_CLASS_PATH_KEYS = ("class_path", "_class_path")
_UNKNOWN: Any = object()  # a position whose type cannot be told: strings there are checked
_DATA_TYPES = (str, bytes, int, float, bool, type(None), PurePath, os.PathLike, enum.Enum)
_TEXT_PROBE = 8192  # bytes read to tell a text file (a possible config) from a binary one (weights)
_MORE = 3  # further refused entries named after the first
_OUTSIDE = "outside the trusted modules"
_FILE = "a text file, which jsonargparse would read here as a config and build what it names"


@dataclasses.dataclass(frozen=True)
class Trust:
    """The trusted module prefixes: the defaults and those the user (or the CLI's config) named."""

    named: tuple[str, ...] = ()
    defaults: tuple[str, ...] = DEFAULT_TRUSTED_MODULES

    @property
    def modules(self) -> tuple[str, ...]:
        return (*self.defaults, *self.named)


def split_entries(value: str | Iterable[str] | None, source: str = "trusted_modules") -> tuple[str, ...]:
    """Module prefixes from a comma-separated string or an iterable of them; blanks dropped.

    Raises:
        ConfigError: an entry that is not a dotted module path (``examples/relativistic``, ``*``), naming
            ``source``.
    """
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [part for item in value for part in str(item).split(",")]
    entries = tuple(item.strip() for item in items if item.strip())
    for entry in entries:
        if not all(part.isidentifier() for part in entry.split(".")):
            raise ConfigError(
                f"{source}: {entry!r} is not a module path; expected comma-separated dotted module prefixes such as "
                "my_project.nets (a module and everything under it is trusted)"
            )
    return entries


def trust_from(trusted_modules: str | Iterable[str] | None = None) -> Trust:
    """The defaults, ``$LIGHTNING_GAN_TRUSTED_MODULES`` and ``trusted_modules``."""
    from_env = split_entries(os.environ.get(TRUSTED_MODULES_VARIABLE), TRUSTED_MODULES_VARIABLE)
    return Trust(named=(*from_env, *split_entries(trusted_modules)))


def is_under(path: str, modules: Iterable[str]) -> bool:
    """Whether dotted ``path`` is one of ``modules`` or lies under one, by whole components.

    >>> is_under("torch.optim.Adam", ["torch.optim"]), is_under("torch.optimx.Adam", ["torch.optim"])
    (True, False)
    """
    return any(path == module or path.startswith(module + ".") for module in modules)


def config_class_paths(config: Any) -> tuple[str, ...]:
    """Every ``class_path`` a parsed config (a jsonargparse ``Namespace`` or dict) names, for the CLI to trust.

    A config is code by design (what it names is built anyway), so a checkpoint may name these exact classes too:
    e.g. ``examples.relativistic.RelativisticAverage`` when the command's ``--config`` names it.
    """
    found: list[str] = []

    def walk(node: Any) -> None:
        if hasattr(node, "as_dict"):
            node = node.as_dict()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in _CLASS_PATH_KEYS and isinstance(value, str) and _DOTTED.fullmatch(value):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(config)
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------------------------------------------- resolving
def _resolve(path: str) -> Any:
    """The object jsonargparse's ``import_object`` gives for ``path`` (same two steps; only trusted paths here)."""
    module_name, name = path.rsplit(".", 1)
    try:
        parent = __import__(module_name, fromlist=[name])
    except ModuleNotFoundError:
        if "." not in module_name:
            raise
        module_name, attribute = module_name.rsplit(".", 1)
        parent = getattr(__import__(module_name, fromlist=[attribute]), attribute)
    return getattr(parent, name)


def _canonical(obj: Any) -> str | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) else None


def _import_path_problem(path: str, trust: Trust) -> tuple[str | None, str | None, Any]:
    """``(why path is refused or None, the module to trust to allow it or None, the resolved object or None)``."""
    if path in trust.named:  # an exact path the user or the config named: vouched for as it is
        return None, None, _try_resolve(path)
    if not _DOTTED.fullmatch(path):
        return "not a full dotted class path (module.Class)", None, None
    prefix = max((m for m in trust.modules if is_under(path, [m])), key=len, default=None)
    if prefix is None:
        return _OUTSIDE, path.rsplit(".", 1)[0], None
    private = next((part for part in path[len(prefix) :].split(".") if part.startswith("_")), None)
    if private is not None:
        return f"a path through the private name {private!r}, which a checkpoint written by fit never names", None, None
    obj = _try_resolve(path)
    if obj is None:  # does not import: the loader fails on it with its own message, and nothing untrusted ran
        return None, None, None
    canonical = _canonical(obj)
    if canonical is None:  # a module, or an object that is no class or function
        return f"a {type(obj).__name__}, not a class (a checkpoint may only name classes)", None, None
    defined_in = str(obj.__module__)
    if not is_under(canonical, trust.modules):
        return f"which resolves to `{canonical}`, {_OUTSIDE}", defined_in, None
    if not inspect.isclass(obj) and not (callable(obj) and is_under(canonical, trust.named)):
        return f"a {type(obj).__name__}, not a class (a checkpoint may only name classes)", defined_in, None
    return None, None, obj


def _try_resolve(path: str) -> Any:
    try:
        return _resolve(path)
    except Exception:  # a class that moved or a missing optional dependency: the loader says so
        return None


# ---------------------------------------------------------------------------------------------------- positions
def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_data(annotation: Any) -> bool:
    """Whether jsonargparse takes a string at a position of this type as data only (never imports or reads it)."""
    if annotation is _UNKNOWN or annotation is typing.Any:
        return False
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return True
    if origin is not None:
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        containers = (typing.Union, types.UnionType, list, tuple, set, frozenset, dict, Sequence, Mapping)
        return origin in containers and all(_is_data(arg) for arg in args)
    return inspect.isclass(annotation) and issubclass(annotation, _DATA_TYPES)


def _parameters(cls: Any) -> dict[str, Any]:
    """A class's constructor parameter types by name (empty when they cannot be read: every position unknown)."""
    if not inspect.isclass(cls):
        return {}
    try:
        hints = typing.get_type_hints(cls.__init__)
        if not hints and dataclasses.is_dataclass(cls):
            hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references: treat every position as unknown
        return {}
    return {name: hint for name, hint in hints.items() if name != "return"}


def _item_types(annotation: Any, node: Any) -> Iterator[tuple[str, Any, Any]]:
    """``(key suffix, value, its type)`` for the items of a dict or list at a position of type ``annotation``."""
    annotation = _unwrap_optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(node, Mapping):
        if origin in (dict, Mapping) and len(args) == 2:
            fields: Mapping[str, Any] = {}
            default = args[1]
        elif dataclasses.is_dataclass(annotation):  # a closed class given as a dict of its fields
            fields, default = _parameters(annotation), _UNKNOWN
        else:
            fields, default = {}, _UNKNOWN
        for key, value in node.items():
            yield f".{key}", value, fields.get(str(key), default)
    else:
        element = args[0] if origin in (list, tuple, set, frozenset, Sequence) and args else _UNKNOWN
        fixed = origin is tuple and Ellipsis not in args
        for index, value in enumerate(node):
            position = (args[index] if index < len(args) else _UNKNOWN) if fixed else element
            yield f"[{index}]", value, position


# ---------------------------------------------------------------------------------------------------- walking
def _text_file(value: str) -> Path | None:
    """The file ``value`` names (as jsonargparse resolves a sub-config path) when it is a text file, else None."""
    raw = re.sub(r"^file:///?", "/", value)
    try:
        path = Path(os.path.expanduser(raw))
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.is_file():
            return None
        with path.open("rb") as f:
            head = f.read(_TEXT_PROBE)
    except (OSError, ValueError):  # unreadable, or not a possible path (a NUL byte): jsonargparse cannot read it
        return None
    if b"\0" in head:
        return None
    try:  # in the encoding Path.read_text() uses, as jsonargparse reads a sub-config with it
        codecs.getincrementaldecoder(locale.getpreferredencoding(False))().decode(head, final=False)
    except (UnicodeDecodeError, LookupError):
        return None  # binary (e.g. weights): read_text() fails on it, so it is never a config
    return path


Problem = tuple[str, str, str, "str | None"]  # (key, value, why, the module to trust to allow it)


def _problems(node: Any, key: str, annotation: Any, trust: Trust) -> Iterator[Problem]:
    """The entries of ``node`` (at ``key``, a position of type ``annotation``) that must not be loaded."""
    if isinstance(node, str):
        if "${" in node:
            yield key, node, "an interpolation, which the CLI would resolve (e.g. read an environment variable)", None
        elif not _is_data(annotation):
            if _text_file(node) is not None:  # jsonargparse tries a sub-config file first, then an import path
                yield key, node, _FILE, None
            elif _DOTTED.fullmatch(node):
                why, module, _ = _import_path_problem(node, trust)
                if why:
                    yield key, node, f"a name jsonargparse would import here, {why}", module
    elif isinstance(node, Mapping):
        yield from _mapping_problems(node, key, annotation, trust)
    elif isinstance(node, list | tuple):
        for suffix, item, item_type in _item_types(annotation, node):
            yield from _problems(item, key + suffix, item_type, trust)


def _mapping_problems(node: Mapping[str, Any], key: str, annotation: Any, trust: Trust) -> Iterator[Problem]:
    if "_instantiator" in node and node["_instantiator"] not in LIGHTNING_INSTANTIATORS:
        reason = "not Lightning's instantiator (lightning.pytorch.cli.instantiate_module)"
        yield f"{key}._instantiator", str(node["_instantiator"]), reason, None
    rest = {name: value for name, value in node.items() if name != "_instantiator"}
    class_key = next((name for name in _CLASS_PATH_KEYS if name in rest), None)
    if class_key is None:
        for suffix, item, item_type in _item_types(annotation, rest):
            yield from _problems(item, key + suffix, item_type, trust)
        return
    value = rest.pop(class_key)
    if not isinstance(value, str):
        yield f"{key}.{class_key}", repr(value), "not a class path", None
        return
    why, module, cls = _import_path_problem(value, trust)
    if why:
        yield f"{key}.{class_key}", value, why, module
        return  # its arguments belong to a class that will not be built
    fields = _parameters(cls)
    for name, item in rest.items():
        if name == "init_args" and isinstance(item, Mapping):
            for arg, arg_value in item.items():
                yield from _problems(arg_value, f"{key}.init_args.{arg}", fields.get(str(arg), _UNKNOWN), trust)
        else:  # Lightning's flat `_class_path` form holds the arguments beside it; `dict_kwargs` are untyped
            typed = class_key == "_class_path"
            yield from _problems(item, f"{key}.{name}", fields.get(str(name), _UNKNOWN) if typed else _UNKNOWN, trust)


def untrusted_entries(checkpoint: Mapping[str, Any], trust: Trust) -> list[Problem]:
    """``(key, value, why, module to trust)`` for each entry that loading the checkpoint must not import or read."""
    found: list[Problem] = []
    for top in CHECKED_KEYS:
        if top in checkpoint:
            # The GAN's own arguments are checked as untyped (reading GAN's signature would import the layer above);
            # its strings are Literal values, never dotted.
            found += _problems(checkpoint[top], top, _UNKNOWN, trust)
    return found


def check_trusted(
    checkpoint: Mapping[str, Any], ckpt_path: str | Path, trusted_modules: str | Iterable[str] | None = None
) -> None:
    """Refuse ``checkpoint`` (read from ``ckpt_path``) when loading it would import or build anything untrusted.

    Nothing the checkpoint names is imported unless it lies under a trusted module (module docstring).

    Raises:
        CheckpointError: one message naming the file, the first refused key and its value, why, and, where trusting
            a module would allow it, how.
        ConfigError: a malformed ``$LIGHTNING_GAN_TRUSTED_MODULES`` or ``trusted_modules`` entry.
    """
    trust = trust_from(trusted_modules)
    found = untrusted_entries(checkpoint, trust)
    if not found:
        return
    key, value, why, module = found[0]
    named = f", and {len(trust.named)} named by the user or the config" if trust.named else ""
    why = why.replace(_OUTSIDE, f"{_OUTSIDE} ({', '.join(trust.defaults)}{named})")
    if module:
        allow = (
            "; loading the checkpoint would import and run it. If you trust this file and the code it names, allow "
            f"the module with {TRUSTED_MODULES_VARIABLE}={module} (comma-separated module prefixes; trusted_modules= "
            "in Python)"
        )
    else:
        allow = ". A checkpoint written by `python -m lightning_gan fit` never holds this; do not load this file"
    more = ""
    if len(found) > 1:
        more = f" ({len(found) - 1} more refused: {', '.join(k for k, *_ in found[1 : 1 + _MORE])})"
    raise CheckpointError(
        f"refusing to load checkpoint {Path(ckpt_path).expanduser()}: {key} is {value!r}, {why}{allow}{more}."
    )


__all__ = [
    "DEFAULT_TRUSTED_MODULES",
    "LIGHTNING_INSTANTIATORS",
    "TRUSTED_MODULES_VARIABLE",
    "Trust",
    "check_trusted",
    "config_class_paths",
    "is_under",
    "split_entries",
    "trust_from",
    "untrusted_entries",
]
