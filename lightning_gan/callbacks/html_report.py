"""An HTML page of results a person can look at: ``<run folder>/report/index.html``, written by ``test`` (and
``predict --report``).

One row per input: the input, the output and the target (images; for speech, audio players with a spectrogram of
each), and that item's metrics; a click on a column header sorts the rows. Above them, the summary table (the
run's ``test/*`` values). Beside the page: ``metrics.json`` and ``metrics.csv`` with the same numbers, and the
media files. With a W&B logger the same rows also go to the run as a sortable ``wandb.Table`` (``test/report``).

Per-item metrics are the module's own test metrics (``model.metrics``) applied to one item at a time, so every
metric a config adds appears as a column, with no code here. A metric that cannot score a single item (a
distribution distance such as FID, which needs many) is left out of the rows; its value over the whole set is in the
summary.

The report is built in a hidden sibling folder and moved into place when complete, so a failed run leaves the last
report as it was; an earlier ``report/`` is kept, renamed after the time it was written.

Only a report is ever moved aside: a report folder carries the marker file ``.lightning_gan_report`` (reports of
earlier versions, without it, are recognised by their exact contents: ``index.html``, ``metrics.json`` of a report,
``metrics.csv``, ``images/``, ``audio/``). Any other existing folder named by ``--report.folder`` that is not empty
(a project folder, ``.``, a predict folder) is refused before anything is evaluated, and so is a file: the folder is
the user's, and renaming it to ``<folder>-<time>`` would break every path that points into it.
"""

import contextlib
import csv
import html
import inspect
import json
import math
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import soundfile
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from PIL import Image
from torch import Tensor

from lightning_gan.callbacks.prediction_writer import PredictionWriter
from lightning_gan.data.image_folder import save_image
from lightning_gan.data.wav import write_wav
from lightning_gan.errors import ConfigError
from lightning_gan.training.output_paths import check_apart, relation
from lightning_gan.training.run_folders import run_directory

PARTS = ("input", "output", "target")
MARKER = ".lightning_gan_report"
"""The file every report folder carries: only a folder holding it (or a report of an earlier version, recognised by
its contents) is ever moved aside for a new report."""
_REPORT_ENTRIES = frozenset({"index.html", "metrics.json", "metrics.csv", "images", "audio", MARKER})


class ReportFolderError(ConfigError, OSError):
    """The report folder cannot be written, or is a folder of the user's that the report would replace; raised
    before any item is evaluated (or, for such a folder that appeared during the run, instead of publishing)."""


class HtmlReport(Callback):
    """Write ``index.html`` with one row per input (input | output | target and per-item metrics) and a summary.

    Always present: the CLI adds it, configured at the top level of a config or on the command line as
    ``--report.<arg>``; ``predict --report`` is short for ``predict --report.enabled true``.

    Args:
        enabled: write the report; ``None`` (default): for ``test`` yes, for ``predict`` no.
        folder: where; ``None``: ``<run folder>/report``.
        max_media: write the media of the first this many items only (every item still gets its row and metrics);
            ``None``: all. Keeps a report of a large test set (VoiceBank-DEMAND's 824 files) small.
        sample_rate: audio rate for the players; ``None``: the data module's ``sample_rate``, else 16000.
        wandb_table: also log the rows as a ``wandb.Table`` when a logger is a ``WandbLogger``.
    """

    def __init__(
        self,
        enabled: bool | None = None,
        folder: str | None = None,
        max_media: int | None = 100,
        sample_rate: int | None = None,
        wandb_table: bool = True,
    ) -> None:
        if max_media is not None and max_media < 0:
            raise ValueError(f"Expected `report.max_media` >= 0 or None, got {max_media!r}.")
        self.enabled = enabled
        self.folder = Path(folder) if folder is not None else None
        self.max_media = max_media
        self.sample_rate = sample_rate
        self.wandb_table = wandb_table
        self._active = False
        self._stage = ""
        self._final: Path | None = None
        self._partial: Path | None = None
        self._rows: list[dict[str, Any]] = []
        self._probes: dict[str, Any] | None = None
        self._rate = 16000

    @property
    def path(self) -> Path | None:
        """The page this run writes (known from ``setup`` on); ``None`` when this run writes none."""
        return self._final / "index.html" if self._active and self._final is not None else None

    # ------------------------------------------------------------------ lifecycle
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        default = stage == "test"
        self._active = stage in ("test", "predict") and (self.enabled if self.enabled is not None else default)
        if not self._active:
            return
        self._stage = str(getattr(stage, "value", stage))  # TrainerFn is a str Enum: "test" or "predict"
        self._rows = []
        self._rate = self.sample_rate or int(getattr(trainer.datamodule, "sample_rate", 0) or 16000)  # type: ignore[attr-defined]
        folder = self.folder if self.folder is not None else run_directory(trainer) / "report"
        self._final = Path(os.path.abspath(folder.expanduser()))  # `.` has no name to build a sibling from
        self._partial = None  # none of this run's yet: a refusal below leaves nothing to clean up
        if trainer.is_global_zero:
            check_report_folder(self._final)
            if self._stage == "predict":
                _check_apart_from_predict(self._final, trainer)
        self._partial = self._final.with_name(f".{self._final.name}.partial")
        if trainer.is_global_zero:
            _prepare(self._final, self._partial)
        self._probes = None  # cloned at the first batch, once the module is on its device

    def on_test_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int, *_: Any
    ) -> None:
        if self._active:
            self._collect(pl_module, outputs, batch, batch_idx)

    def on_predict_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int, *_: Any
    ) -> None:
        if not self._active or not isinstance(batch, dict):
            return
        post: Any = pl_module.postprocess
        parts = {"output": outputs["output"]}
        if batch.get("condition") is not None:
            parts["input"] = post(batch["condition"])
        if batch.get("real") is not None:
            parts["target"] = post(batch["real"])
        self._add(pl_module, parts, batch.get("name"), batch_idx)

    def on_test_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._active:
            summary = {k: _scalar(v) for k, v in trainer.callback_metrics.items() if k.startswith("test/")}
            self._finish(trainer, summary, "the run's test/* values over the whole test set")

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._active:
            self._finish(trainer, _means(self._rows), "means of the per-item values (predict has no test/* metrics)")

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if self._active and self._partial is not None and trainer.is_global_zero:
            shutil.rmtree(self._partial, ignore_errors=True)  # the last complete report stays as it was
        self._active = False

    # ------------------------------------------------------------------ collecting
    def _collect(self, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if not isinstance(batch, dict) or batch.get("condition") is None:
            return  # an unconditional model has no input to show beside its output
        if isinstance(outputs, dict) and "output" in outputs:  # what the test step scored (GAN._evaluate)
            parts = {"input": outputs["condition"], "output": outputs["output"], "target": outputs["target"]}
        else:  # a module without test metrics returns nothing: generate here
            post: Any = pl_module.postprocess
            with torch.no_grad():
                parts = {"input": post(batch["condition"]), "output": post(pl_module(batch["condition"]))}
            if batch.get("real") is not None:
                parts["target"] = post(batch["real"])
        self._add(pl_module, parts, batch.get("name"), batch_idx)

    def _add(self, pl_module: LightningModule, parts: dict[str, Tensor], names: Any, batch_idx: int) -> None:
        parts = {k: v.detach().float() for k, v in parts.items()}
        if self._probes is None:
            self._probes = _per_item_probes(pl_module)
        n = parts["output"].shape[0]
        baseline = bool(getattr(getattr(pl_module, "objective", None), "log_input_baseline", False))
        for i in range(n):
            name = str(names[i]) if names is not None else f"{batch_idx:05d}_{i:03d}"
            row: dict[str, Any] = {"name": name, "rank": pl_module.global_rank, "media": {}, "metrics": {}}
            item = {k: v[i : i + 1] for k, v in parts.items()}
            if "target" in item:
                row["metrics"] = self._score(item["output"], item["target"], item.get("input"))
                if baseline and item["input"].shape == item["target"].shape:
                    row["metrics"] |= {f"input_{k}": v for k, v in self._score(item["input"], item["target"]).items()}
            if self.max_media is None or len(self._rows) < self.max_media:
                row["media"] = self._write_media(item, len(self._rows))
            self._rows.append(row)

    def _score(self, output: Tensor, target: Tensor, condition: Tensor | None = None) -> dict[str, float]:
        scores: dict[str, float] = {}
        assert self._probes is not None
        for name in list(self._probes):
            probe = self._probes[name]
            # A metric whose `update` names a `condition` (lightning_gan.metrics.EdgeF1) gets the input, as in `test`.
            takes_condition = condition is not None and "condition" in inspect.signature(probe.update).parameters
            extra = {"condition": condition.to(probe.device)} if takes_condition and condition is not None else {}
            try:
                probe.reset()
                probe.update(output.to(probe.device), target.to(probe.device), **extra)
                value = probe.compute()
                probe.reset()
                if not isinstance(value, Tensor) or value.numel() != 1:
                    raise ValueError(f"a {type(value).__name__} of shape {getattr(value, 'shape', '?')}, not a scalar")
            except Exception as err:  # a set-level metric (FID needs many samples): summary only
                del self._probes[name]
                rank_zero_warn(f"HtmlReport: metric {name!r} cannot score single items ({err}); summary only.")
                continue
            scores[name] = float(value)
        return scores

    def _write_media(self, item: dict[str, Tensor], index: int) -> dict[str, dict[str, str]]:
        assert self._partial is not None
        stem = f"{index:05d}"
        media: dict[str, dict[str, str]] = {}
        if item["output"].dim() == 4:
            with _writing(self._partial):
                for part, x in item.items():
                    relative = f"images/{stem}_{part}.png"
                    save_image(x[0].cpu(), self._partial / relative)
                    media[part] = {"image": relative}
            return media
        waves = {part: x.flatten().cpu() for part, x in item.items()}
        pictures = comparable_spectrograms(waves)  # one dB scale per item: the three are comparable
        with _writing(self._partial):
            for part, wave in waves.items():
                audio, image = f"audio/{stem}_{part}.wav", f"images/{stem}_{part}_spectrogram.png"
                write_wav(self._partial / audio, wave, self._rate)
                pictures[part].save(_parent(self._partial / image))
                media[part] = {"audio": audio, "image": image}
        return media

    # ------------------------------------------------------------------ writing
    def _finish(self, trainer: Trainer, summary: dict[str, float], summary_note: str) -> None:
        rows = _gather(self._rows)
        self._active = False
        if not trainer.is_global_zero:
            return
        assert self._final is not None and self._partial is not None
        rows.sort(key=lambda r: r["index"])
        columns = sorted({k for r in rows for k in r["metrics"]})
        title = f"lightning_gan {self._stage} report"
        context = {
            "stage": self._stage,
            "ckpt_path": str(trainer.ckpt_path) if trainer.ckpt_path else None,
            "written": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "summary_note": summary_note,
            "media_note": _media_note(len(rows), self.max_media),
        }
        data = {**context, "summary": summary, "columns": columns, "rows": [_public(r) for r in rows]}
        with _writing(self._partial):
            (self._partial / "metrics.json").write_text(json.dumps(data, indent=1, allow_nan=True))
            _write_csv(self._partial / "metrics.csv", rows, columns)
            (self._partial / "index.html").write_text(render(title, context, summary, rows, columns))
            marker = {"written_by": "lightning_gan.callbacks.html_report", "stage": self._stage, **context}
            (self._partial / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
        kept = _publish(self._partial, self._final)
        note = f" (the earlier report is kept in {kept})" if kept else ""
        rank_zero_info(f"Wrote the report: {self._final / 'index.html'}{note}")
        if self.wandb_table:
            for logger in trainer.loggers:
                if isinstance(logger, WandbLogger):
                    _log_wandb_table(logger, f"{self._stage}/report", self._final, rows, columns, self._rate)


# ---------------------------------------------------------------------- helpers
_BOOLEANS = {"true": "true", "yes": "true", "1": "true", "false": "false", "no": "false", "0": "false"}


def expand_report_flag(argv: list[str]) -> list[str]:
    """``--report`` alone means ``--report.enabled=true``; ``--report true|false`` (and ``--report=false``) set
    ``report.enabled`` as LightningCLI's other boolean flags take a value; ``--report FILE`` keeps jsonargparse's
    meaning (a config file for the report's options).

    Why: ``report`` is a group of options, so jsonargparse read ``--report true`` as a config file named ``true``.
    """
    out: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        following = argv[i + 1] if i + 1 < len(argv) else None
        if arg == "--report" and (following is None or following.startswith("-")):
            out.append("--report.enabled=true")
        elif arg == "--report" and following is not None and following.lower() in _BOOLEANS:
            out.append(f"--report.enabled={_BOOLEANS[following.lower()]}")
            skip = True
        elif arg.startswith("--report=") and arg.split("=", 1)[1].lower() in _BOOLEANS:
            out.append(f"--report.enabled={_BOOLEANS[arg.split('=', 1)[1].lower()]}")
        else:
            out.append(arg)
    return out


def is_report(folder: Path) -> bool:
    """Whether ``folder`` is a report this module wrote: it holds :data:`MARKER`, or (a report of a version before
    the marker) exactly a report's entries, with ``index.html`` and a ``metrics.json`` of a report among them."""
    if (folder / MARKER).is_file():
        return True
    try:
        names = {p.name for p in folder.iterdir()}
        data = json.loads((folder / "metrics.json").read_text()) if "metrics.json" in names else None
    except (OSError, ValueError):
        return False
    return (
        names <= _REPORT_ENTRIES
        and "index.html" in names
        and isinstance(data, dict)
        and {"stage", "summary", "rows"} <= set(data)
    )


def check_report_folder(final: Path, outcome: str = "Nothing was evaluated") -> None:
    """Refuse a report folder that is not the report's to replace (module docstring): an existing file, the
    current folder or one holding it, a folder that is not empty and not a report.

    Raises:
        ReportFolderError: naming the folder, what is in it and what to do.
    """
    what = "--report.folder"
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        kind = "a symbolic link" if final.is_symlink() else "a file"
        if not (final.is_symlink() and final.is_dir() and is_report(final)):
            raise ReportFolderError(
                f"{what} {final} is {kind}, not a report folder: the report never replaces it. Choose a new or empty "
                f"folder, e.g. {what} {final.with_name(final.name + '_report')}. {outcome}"
            )
    if Path.cwd().resolve().is_relative_to(final.resolve()):
        raise ReportFolderError(
            f"{what} {final} is the current folder or holds it: the report would replace the folder it runs in. "
            f"Choose a new folder, e.g. {what} {Path.cwd() / 'report'}. {outcome}"
        )
    if not final.is_dir() or is_report(final):
        return
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in final.iterdir())
    if entries:
        shown = ", ".join(entries[:5]) + (f" ... ({len(entries) - 5} more)" if len(entries) > 5 else "")
        raise ReportFolderError(
            f"{what} {final} is an existing folder that is not a lightning_gan report (it holds {shown}): the report "
            f"never moves or replaces a folder it did not write. Choose a new or empty folder, e.g. {what} "
            f"{final / 'report'}. {outcome}"
        )


def _check_apart_from_predict(final: Path, trainer: Trainer) -> None:
    """``predict --report``: the report folder is apart from the input folder (as the predictions are) and neither
    is nor holds the predictions folder, which the report would otherwise replace when it is published.

    Raises:
        ReportFolderError: naming both folders and their options.
    """
    source = getattr(trainer.datamodule, "predict_dir", None)  # type: ignore[attr-defined]
    if source is not None:
        try:
            check_apart(final, "--report.folder", source, "--data.init_args.predict_dir", "report")
        except ConfigError as err:
            raise ReportFolderError(str(err)) from None
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if not isinstance(callback, PredictionWriter):
            continue
        out = callback.output_dir or Path(trainer.default_root_dir) / "predictions"
        found = relation(final, out)
        if found in ("the same folder as", "around"):
            where = "is" if found == "the same folder as" else "contains"
            raise ReportFolderError(
                f"--report.folder {final} {where} the predictions folder --prediction_writer.output_dir {out}: the "
                f"report would replace the predictions. Choose a folder apart from it, e.g. --report.folder "
                f"{Path(os.path.abspath(out)).parent / (Path(os.path.abspath(out)).name + '_report')}. Nothing was "
                "evaluated"
            )


@contextlib.contextmanager
def _writing(partial: Path) -> Iterator[None]:
    """Turn a failed write of the report (a full disk) into one message; the partial folder is then removed."""
    try:
        yield
    except (OSError, soundfile.SoundFileError) as err:
        reason = os.strerror(err.errno) if isinstance(err, OSError) and err.errno else str(err).strip()
        raise ReportFolderError(
            f"Cannot write the HTML report into {partial}: {reason or type(err).__name__}. The earlier report is "
            "unchanged; free some space, choose another `--report.folder DIR` or turn the report off with "
            "`--report.enabled false`"
        ) from err


def _prepare(final: Path, partial: Path) -> None:
    """Fail early, before any item is evaluated, when the report cannot be written; start an empty partial folder."""
    try:
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        (partial / ".write_test").write_text("")
        (partial / ".write_test").unlink()
    except OSError as err:
        raise ReportFolderError(
            f"Cannot write the HTML report into {final.parent}: {err.strerror or err}. Choose a writable folder with "
            "`--report.folder DIR` or turn the report off with `--report.enabled false`. Nothing was evaluated and no "
            "earlier report was changed."
        ) from err


def _publish(partial: Path, final: Path) -> Path | None:
    """Move the complete report into place; an earlier one is renamed after its write time, not overwritten.
    Checked again here: a folder that appeared meanwhile (a predict writing into it) is refused, not moved."""
    kept = None
    check_report_folder(final, "The new report was not written")
    if final.is_dir() and not final.is_symlink() and not any(final.iterdir()):
        final.rmdir()  # an empty folder: nothing to keep
    elif final.exists() or final.is_symlink():
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(final.stat().st_mtime))
        kept = final.with_name(f"{final.name}-{stamp}")
        n = 1
        while kept.exists():
            n += 1
            kept = final.with_name(f"{final.name}-{stamp}-{n}")
        final.rename(kept)
    partial.rename(final)
    return kept


def _per_item_probes(pl_module: LightningModule) -> dict[str, Any]:
    collection = getattr(pl_module, "test_metrics", None)
    if collection is None:
        return {}
    probes = {}
    for key, metric in collection.items():
        if not getattr(metric, "scores_single_items", True):  # e.g. a chance level that compares across items
            continue
        probe = metric.clone()
        probe.reset()
        probes[key.removeprefix("test/")] = probe
    return probes


def _gather(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All ranks' rows on every rank (``DistributedSampler`` gives each rank its share of the test set)."""
    for i, row in enumerate(rows):
        row["index"] = (row["rank"], i)
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return rows
    gathered: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(gathered, rows)
    return [row for part in gathered for row in part]


def _scalar(value: Any) -> float:
    return float(value.detach().float().mean()) if isinstance(value, Tensor) else float(value)


def _means(rows: list[dict[str, Any]]) -> dict[str, float]:
    columns = sorted({k for r in rows for k in r["metrics"]})
    values = {k: [r["metrics"][k] for r in rows if k in r["metrics"]] for k in columns}
    return {k: sum(v) / len(v) for k, v in values.items()}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "media": row["media"], "metrics": row["metrics"]}


def _media_note(n: int, max_media: int | None) -> str:
    if max_media is None or n <= max_media:
        return ""
    return f"Media for the first {max_media} of {n} items (report.max_media); every item has its metrics."


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", *columns])
        for r in rows:
            writer.writerow([r["name"], *(repr(r["metrics"][c]) if c in r["metrics"] else "" for c in columns)])


def log_spectrogram(wave: Tensor, n_fft: int = 512, hop: int = 128) -> Tensor:
    """Magnitude in dB, frequency x time, low frequencies first."""
    if wave.numel() < n_fft:
        wave = torch.nn.functional.pad(wave, (0, n_fft - wave.numel()))
    spec = torch.stft(wave, n_fft, hop, window=torch.hann_window(n_fft), return_complex=True).abs()
    return 20 * torch.log10(spec.clamp_min(1e-8))


# A perceptually ordered dark-to-light ramp (black, purple, orange, pale yellow), as in common spectrogram colour maps.
_RAMP = torch.tensor([[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]], dtype=torch.float32)


def spectrogram_image(db: Tensor, top: float, dynamic_range: float = 80.0) -> Image.Image:
    """An RGB picture of :func:`log_spectrogram`'s ``db``: ``top`` dB and the ``dynamic_range`` below it mapped onto
    the ramp, low frequencies at the bottom. Give several spectrograms one ``top`` to make them comparable."""
    level = ((db - (top - dynamic_range)) / dynamic_range).clamp(0, 1).flip(0)  # low frequencies at the bottom
    position = level * (len(_RAMP) - 1)
    low = position.floor().long().clamp(max=len(_RAMP) - 2)
    frac = (position - low).unsqueeze(-1)
    rgb = _RAMP[low] * (1 - frac) + _RAMP[low + 1] * frac
    return Image.fromarray(rgb.round().to(torch.uint8).numpy(), "RGB")


def comparable_spectrograms(waves: Mapping[str, Tensor]) -> dict[str, Image.Image]:
    """:func:`spectrogram_image` of each 1-D wave, all on one dB scale (the loudest bin of any of them at the top)."""
    spectra = {name: log_spectrogram(wave) for name, wave in waves.items()}
    top = max(float(db.max()) for db in spectra.values())
    return {name: spectrogram_image(db, top) for name, db in spectra.items()}


def _format(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"


def _media_cell(media: dict[str, str] | None, part: str) -> str:
    if not media:
        return '<td class="empty">-</td>'
    out = []
    if "image" in media:
        out.append(f'<img src="{quote(media["image"])}" alt="{part}" loading="eager">')
    if "audio" in media:
        out.append(f'<audio controls preload="metadata" src="{quote(media["audio"])}"></audio>')
    return f"<td>{''.join(out)}</td>"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: center; vertical-align: middle; }
th { background: #f0f0f0; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[data-order="asc"]::after { content: " \\25B2"; }
table.sortable th[data-order="desc"]::after { content: " \\25BC"; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
img { width: 160px; image-rendering: pixelated; display: block; margin: 0 auto; }
audio { width: 220px; display: block; margin: 4px auto 0; }
.note { color: #666; }
"""

# Sort the rows by a clicked header: numbers by their data-value, text by locale; NaN last either way.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.dataset.order !== "asc";
      Array.prototype.forEach.call(headers, function (h) { delete h.dataset.order; });
      th.dataset.order = asc ? "asc" : "desc";
      var body = table.tBodies[0];
      var key = function (row) {
        var cell = row.cells[col];
        return cell.dataset.value === undefined ? cell.textContent : parseFloat(cell.dataset.value);
      };
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === "number" && typeof y === "number") {
          if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
          return asc ? x - y : y - x;
        }
        return asc ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x));
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def render(
    title: str,
    context: dict[str, Any],
    summary: dict[str, float],
    rows: list[dict[str, Any]],
    columns: list[str],
) -> str:
    """The whole page as one self-contained HTML string (inline CSS and JS, media by relative path)."""
    e = html.escape
    parts = [p for p in PARTS if any(p in r["media"] for r in rows)]
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="note">checkpoint: {e(str(context["ckpt_path"]))} &middot; written {e(context["written"])} '
        f"&middot; {len(rows)} items</p>",
        "<h2>Summary</h2>",
        f'<p class="note">{e(context["summary_note"])}</p>',
        '<table id="summary" class="sortable"><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>',
    ]
    for key, value in sorted(summary.items()):
        lines.append(
            f'<tr data-metric="{e(key)}"><td>{e(key)}</td>'
            f'<td class="num" data-value="{value!r}">{_format(value)}</td></tr>'
        )
    lines.append("</tbody></table>")
    lines.append("<h2>Items</h2>")
    if not rows:
        lines.append('<p class="note">No per-input rows: the model is unconditional or the set was empty.</p>')
    if context["media_note"]:
        lines.append(f'<p class="note">{e(context["media_note"])}</p>')
    lines.append('<p class="note">Click a column header to sort.</p>')
    header = "".join(f"<th>{p}</th>" for p in parts) + "".join(f"<th>{e(c)}</th>" for c in columns)
    lines.append(f'<table id="items" class="sortable"><thead><tr><th>#</th><th>name</th>{header}</tr></thead><tbody>')
    for i, row in enumerate(rows):
        cells = [f'<td class="num" data-value="{i}">{i}</td>', f"<td>{e(row['name'])}</td>"]
        cells += [_media_cell(row["media"].get(p), p) for p in parts]
        for c in columns:
            value = row["metrics"].get(c)
            cells.append(
                '<td class="empty" data-value="NaN">-</td>'
                if value is None
                else f'<td class="num" data-metric="{e(c)}" data-value="{value!r}">{_format(value)}</td>'
            )
        lines.append(f'<tr data-name="{e(row["name"])}">{"".join(cells)}</tr>')
    lines += ["</tbody></table>", f"<script>{_SCRIPT}</script>", "</body></html>", ""]
    return "\n".join(lines)


def _log_wandb_table(
    logger: WandbLogger, key: str, folder: Path, rows: list[dict[str, Any]], columns: list[str], rate: int
) -> None:
    import wandb

    parts = [p for p in PARTS if any(p in r["media"] for r in rows)]
    audio = any("audio" in m for r in rows for m in r["media"].values())
    media_columns = [f"{p}_audio" for p in parts] if audio else []
    media_columns += [f"{p}_spectrogram" if audio else p for p in parts]
    data = []
    for r in rows:
        cells: list[Any] = [r["name"]]
        if audio:
            cells += [
                wandb.Audio(str(folder / r["media"][p]["audio"]), sample_rate=rate) if p in r["media"] else None
                for p in parts
            ]
        cells += [wandb.Image(str(folder / r["media"][p]["image"])) if p in r["media"] else None for p in parts]
        cells += [r["metrics"].get(c) for c in columns]
        data.append(cells)
    logger.log_table(key=key, columns=["name", *media_columns, *columns], data=data)


__all__ = [
    "MARKER",
    "HtmlReport",
    "ReportFolderError",
    "check_report_folder",
    "comparable_spectrograms",
    "expand_report_flag",
    "is_report",
    "log_spectrogram",
    "render",
    "spectrogram_image",
]
