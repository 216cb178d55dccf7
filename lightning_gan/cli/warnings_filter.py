"""Silence the known-irrelevant messages a normal run prints, one named filter each, so the lines that matter show.

Each :class:`KnownNoise` names one message, where it comes from and why it is irrelevant here. A filter matches that
message's text only: any other warning, log line or W&B warning still shows. :func:`install` (called once at CLI
start) applies them all; ``LIGHTNING_GAN_SHOW_ALL_WARNINGS=1`` skips it, to see everything.

Messages come through three channels, filtered each at its own level:

- ``warnings``: Python warnings (``warnings.filterwarnings`` with the message's regex and category);
- ``logging``: a record of a named Python logger (a ``logging.Filter`` on that logger);
- ``wandb``: ``wandb.termwarn``, which W&B prints straight to stderr (wrapped once by a filtering function).
"""

import logging
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Channel = Literal["warnings", "logging", "wandb"]


@dataclass(frozen=True)
class KnownNoise:
    """One message that a run prints and that says nothing about this project's runs.

    Args:
        name: the filter's name (used in tests and docs).
        channel: how the message is emitted.
        pattern: a regular expression matched (``re.search``) against the message text.
        why: why it is irrelevant here.
        category: for ``warnings``: the warning class it is filtered for.
        logger: for ``logging``: the logger that emits it.
    """

    name: str
    channel: Channel
    pattern: str
    why: str
    category: type[Warning] = Warning
    logger: str = ""

    def matches(self, text: str) -> bool:
        return re.search(self.pattern, text) is not None


KNOWN_NOISE: tuple[KnownNoise, ...] = (
    KnownNoise(
        name="litlogger_tip",
        channel="logging",
        logger="lightning.pytorch.utilities.rank_zero",
        pattern=r"Tip: For seamless cloud logging and experiment tracking, try installing \[litlogger\]",
        why="an advertisement Lightning prints on every run that has no LitLogger",
    ),
    KnownNoise(
        name="validation_step_without_val_dataloader",
        channel="warnings",
        category=UserWarning,
        pattern=r"You defined a `validation_step` but have no `val_dataloader`",
        why="the GAN module always defines validation_step; data without a validation set (an image folder without "
        "`val_fraction`) skips it",
    ),
    KnownNoise(
        name="pytree_leafspec_deprecation",
        channel="warnings",
        category=FutureWarning,
        pattern=r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        why="Lightning 2.6's own use of a torch API that torch 2.13 deprecates; nothing a user can change",
    ),
    KnownNoise(
        name="wandb_anonymous_setting",
        channel="wandb",
        pattern=r"The anonymous setting has no effect",
        why="Lightning's WandbLogger always passes `anonymous` to wandb.init, which W&B no longer uses",
    ),
    KnownNoise(
        name="wandb_git_root_missing",
        channel="wandb",
        pattern=r"git root .* does not exist",
        why="W&B looks for git metadata in the run's save_dir before Lightning creates it; the run is unaffected",
    ),
)


class _MessageFilter(logging.Filter):
    """Drops the records whose message matches one of ``noise``."""

    def __init__(self, noise: tuple[KnownNoise, ...]) -> None:
        super().__init__()
        self.noise = noise

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(n.matches(text) for n in self.noise)


def _filtered_termwarn(termwarn: Callable[..., None], noise: tuple[KnownNoise, ...]) -> Callable[..., None]:
    def termwarn_unless_known(string: str, *args: Any, **kwargs: Any) -> None:
        if not any(n.matches(str(string)) for n in noise):
            termwarn(string, *args, **kwargs)

    termwarn_unless_known.__wrapped__ = termwarn  # type: ignore[attr-defined]
    termwarn_unless_known.lightning_gan_filter = True  # type: ignore[attr-defined]
    return termwarn_unless_known


def install(noise: tuple[KnownNoise, ...] = KNOWN_NOISE) -> None:
    """Apply every filter of ``noise``; calling it again adds nothing twice."""
    if os.environ.get("LIGHTNING_GAN_SHOW_ALL_WARNINGS", "") not in ("", "0"):
        return
    for n in noise:
        if n.channel == "warnings":
            warnings.filterwarnings("ignore", message=f".*{n.pattern}", category=n.category)
    by_logger: dict[str, list[KnownNoise]] = {}
    for n in noise:
        if n.channel == "logging":
            by_logger.setdefault(n.logger, []).append(n)
    for name, items in by_logger.items():
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, _MessageFilter)]:
            logger.removeFilter(old)
        logger.addFilter(_MessageFilter(tuple(items)))
    wandb_noise = tuple(n for n in noise if n.channel == "wandb")
    if wandb_noise:
        import wandb

        current = wandb.termwarn
        original = current.__wrapped__ if getattr(current, "lightning_gan_filter", False) else current  # type: ignore[attr-defined]
        wandb.termwarn = _filtered_termwarn(original, wandb_noise)


__all__ = ["KNOWN_NOISE", "KnownNoise", "install"]
