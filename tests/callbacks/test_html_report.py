"""The HTML report of ``test`` and ``predict --report``: one row per input with its media and per-item metrics that
agree with the run's own test metrics, a sortable page that a real browser loads completely, the same rows in W&B,
and a report folder that cannot be written or a failing run leaving earlier reports as they were."""

import json
import shutil
import time
from pathlib import Path

import pytest
import soundfile
from PIL import Image

from lightning_gan.callbacks.html_report import MARKER, ReportFolderError, _format, expand_report_flag, is_report
from lightning_gan.cli import main
from tests.browser import headless_chromium
from tests.conftest import ROOT, console_error

PIX2PIX = [
    "--config", "configs/pix2pix_demo.yaml",
    "--model.generator.init_args.ngf", "4", "--model.discriminator.init_args.ndf", "4",
    "--data.init_args.num_workers", "0",
    "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
    "--untrained", "true",  # the page is under test, not the model: `test`/`predict` refuse an untrained one unasked
]  # fmt: skip
SEGAN = [
    "--config", "configs/segan_demo.yaml",
    "--model.generator.init_args.channels", "[8, 16, 16, 32]",
    "--model.discriminator.init_args.channels", "[8, 16, 16, 32]",
    "--data.init_args.window", "2048", "--data.init_args.hop", "1024", "--data.init_args.num_workers", "0",
    "--trainer.enable_progress_bar", "false", "--trainer.accelerator", "cpu",
    "--untrained", "true",  # the page is under test, not the model: `test`/`predict` refuse an untrained one unasked
]  # fmt: skip
PIX2PIX_TEST_FILES = sorted(p.name for p in (ROOT / "data/pix2pix_demo/test").iterdir())
SPEECH_TEST_FILES = sorted(p.stem for p in (ROOT / "data/speech_demo/clean_testset_wav").glob("*.wav"))


def _isolated_wandb(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
        (folder / var.lower()).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(folder / var.lower()))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


def _run_test(args: list[str], root: Path) -> Path:
    """``test`` through the CLI with W&B offline; returns the report folder."""
    with pytest.MonkeyPatch.context() as mp:
        _isolated_wandb(mp, root / "_wandb")
        mp.chdir(ROOT)
        main(["test", *args, "--trainer.default_root_dir", str(root / "runs")])
    (index,) = (root / "runs").rglob("report/index.html")
    return index.parent


@pytest.fixture(scope="module")
def pix2pix_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run_test(PIX2PIX, tmp_path_factory.mktemp("pix2pix_report"))


@pytest.fixture(scope="module")
def segan_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run_test(SEGAN, tmp_path_factory.mktemp("segan_report"))


def _metrics(report: Path) -> dict:
    return json.loads((report / "metrics.json").read_text())


def test_one_row_per_test_image_whose_metrics_average_to_the_runs_test_metric(pix2pix_report: Path) -> None:
    data = _metrics(pix2pix_report)
    assert [r["name"] for r in data["rows"]] == PIX2PIX_TEST_FILES
    assert data["columns"] == ["l1", "psnr", "ssim"]
    # Equal-sized images: the set's mean absolute error is exactly the mean of the per-image ones.
    per_item = [r["metrics"]["l1"] for r in data["rows"]]
    assert sum(per_item) / len(per_item) == pytest.approx(data["summary"]["test/l1"], rel=1e-5)
    assert len(set(per_item)) == len(per_item)  # really per item, not the batch's value repeated
    for row in data["rows"]:
        assert set(row["media"]) == {"input", "output", "target"}
        for media in row["media"].values():
            with Image.open(pix2pix_report / media["image"]) as image:
                assert image.size == (64, 64)


def test_the_same_rows_go_to_wandb_as_a_table(pix2pix_report: Path) -> None:
    runs = pix2pix_report.parents[2]
    (table_file,) = runs.glob("wandb/offline-run-*/files/media/table/test/report_*.table.json")
    table = json.loads(table_file.read_text())
    assert table["columns"] == ["name", "input", "output", "target", "l1", "psnr", "ssim"]
    rows = _metrics(pix2pix_report)["rows"]
    assert [r[0] for r in table["data"]] == [r["name"] for r in rows]
    assert [r[4] for r in table["data"]] == [r["metrics"]["l1"] for r in rows]
    assert all(cell == "Image" for r in table["data"] for cell in r[1:4])  # placeholders in the run's copy ...
    # ... and the images themselves in the table's artifact, staged (offline) under WANDB_DATA_DIR.
    staged = list((pix2pix_report.parents[3] / "_wandb" / "wandb_data_dir" / "artifacts" / "staging").iterdir())
    assert sum(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in staged) == 3 * len(rows)
    tables = [json.loads(p.read_text()) for p in staged if p.read_bytes()[:1] == b"{"]
    types = tables[0]["column_types"]["params"]["type_map"]
    assert all("image-file" in json.dumps(types[part]) for part in ("input", "output", "target"))


def _table(driver, table_id: str) -> list[dict]:
    return driver.execute_script(
        """
        return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr')).map(function (tr) {
          var metrics = {};
          tr.querySelectorAll('td[data-metric]').forEach(function (td) {
            metrics[td.dataset.metric] = [td.dataset.value, td.textContent];
          });
          return {name: tr.dataset.name, metric: tr.dataset.metric, metrics: metrics,
                  value: tr.cells[1].dataset.value, text: tr.cells[1].textContent};
        });""",
        table_id,
    )


def _wait_for_media(driver, timeout: float = 20.0) -> dict:
    """Every <img> decoded and every <audio> with its metadata read (or failed), as the browser reports them."""
    script = """
        var images = Array.from(document.images).map(function (i) {
          return {src: i.getAttribute('src'), done: i.complete, width: i.naturalWidth}; });
        var audio = Array.from(document.querySelectorAll('audio')).map(function (a) {
          return {src: a.getAttribute('src'), ready: a.readyState, error: a.error && a.error.code,
                  duration: a.duration}; });
        return {images: images, audio: audio};"""
    deadline = time.monotonic() + timeout
    while True:
        media = driver.execute_script(script)
        pending = [i for i in media["images"] if not i["done"]] + [
            a for a in media["audio"] if a["ready"] < 1 and not a["error"]
        ]
        if not pending or time.monotonic() > deadline:
            return media
        time.sleep(0.2)


def test_the_page_loads_every_image_in_a_browser_and_shows_the_metrics_files_numbers(pix2pix_report: Path) -> None:
    data = _metrics(pix2pix_report)
    with headless_chromium() as driver:
        driver.get((pix2pix_report / "index.html").as_uri())
        media = _wait_for_media(driver)
        assert len(media["images"]) == 3 * len(PIX2PIX_TEST_FILES)
        assert [i for i in media["images"] if not (i["done"] and i["width"] == 64)] == []
        rows = _table(driver, "items")
        assert [r["name"] for r in rows] == [r["name"] for r in data["rows"]]
        for shown, row in zip(rows, data["rows"], strict=True):
            assert set(shown["metrics"]) == set(row["metrics"])
            for key, value in row["metrics"].items():
                assert float(shown["metrics"][key][0]) == value  # the exact number ...
                assert shown["metrics"][key][1] == _format(value)  # ... and how it is shown
        summary = {r["metric"]: float(r["value"]) for r in _table(driver, "summary")}
        assert summary == data["summary"]

        # Sorting: a click on "psnr" orders the rows by it, a second click reverses them.
        header = driver.find_element("xpath", "//table[@id='items']//th[text()='psnr']")
        header.click()
        ascending = [float(r["metrics"]["psnr"][0]) for r in _table(driver, "items")]
        assert ascending == sorted(r["metrics"]["psnr"] for r in data["rows"])
        header.click()
        assert [float(r["metrics"]["psnr"][0]) for r in _table(driver, "items")] == ascending[::-1]


def test_speech_rows_have_players_and_spectrograms_that_load_and_per_file_scores(segan_report: Path) -> None:
    data = _metrics(segan_report)
    assert [r["name"] for r in data["rows"]] == SPEECH_TEST_FILES
    # Each speech test batch is one whole utterance, so the set's SI-SDR is the mean of the per-file ones.
    per_item = [r["metrics"]["si_sdr"] for r in data["rows"]]
    assert sum(per_item) / len(per_item) == pytest.approx(data["summary"]["test/si_sdr"], rel=1e-5)
    assert {"pesq", "stoi", "input_si_sdr", "input_pesq", "input_stoi"} <= set(data["columns"])
    with headless_chromium() as driver:
        driver.get((segan_report / "index.html").as_uri())
        media = _wait_for_media(driver)
        assert len(media["audio"]) == len(media["images"]) == 3 * len(SPEECH_TEST_FILES)
        assert [i for i in media["images"] if not (i["done"] and i["width"] > 0)] == []
        for audio in media["audio"]:
            assert audio["ready"] >= 1 and not audio["error"], audio
            info = soundfile.info(str(segan_report / audio["src"]))
            assert audio["duration"] == pytest.approx(info.frames / info.samplerate, abs=1e-3)


def test_predict_report_shows_input_and_output_without_a_target(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in PIX2PIX_TEST_FILES[:3]:
        shutil.copy(ROOT / "data/pix2pix_demo/test" / name, inputs / name)
    report = tmp_path / "report"
    report.mkdir()  # an empty folder is the report's to fill
    args = ["--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(tmp_path / "out")]
    main(["predict", *PIX2PIX, "--trainer.logger", "false", *args, "--report", "--report.folder", str(report)])
    data = _metrics(report)
    assert json.loads((report / MARKER).read_text())["stage"] == "predict"
    assert [r["name"] for r in data["rows"]] == PIX2PIX_TEST_FILES[:3]
    assert all(set(r["media"]) == {"input", "output"} and r["metrics"] == {} for r in data["rows"])
    page = (report / "index.html").read_text()
    assert "<th>input</th><th>output</th>" in page and "<th>target</th>" not in page
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == PIX2PIX_TEST_FILES[:3]


def test_predict_writes_no_report_unless_asked(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(ROOT / "data/pix2pix_demo/test" / PIX2PIX_TEST_FILES[0], inputs)
    args = ["--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(tmp_path / "out")]
    main(["predict", *PIX2PIX, "--trainer.logger", "false", *args, "--trainer.default_root_dir", str(tmp_path)])
    assert list(tmp_path.rglob("index.html")) == []


def test_bare_report_flag_means_enabled() -> None:
    assert expand_report_flag(["predict", "--report", "--x", "1"]) == ["predict", "--report.enabled=true", "--x", "1"]
    assert expand_report_flag(["predict", "--report"]) == ["predict", "--report.enabled=true"]
    assert expand_report_flag(["predict", "--report", "r.yaml"]) == ["predict", "--report", "r.yaml"]


def _test_into(folder: Path, *extra: str) -> None:
    main(["test", *PIX2PIX, "--trainer.logger", "false", "--report.folder", str(folder), *extra])


def test_unwritable_report_folder_fails_before_testing_with_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the report's parent folder should be\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _test_into(blocker / "report", "--trainer.default_root_dir", str(tmp_path / "runs"))
    assert exit_.value.code == 2
    assert isinstance(exit_.value.__cause__, ReportFolderError)
    (message,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert str(blocker) in message and "--report.folder" in message and "Nothing was evaluated" in message
    assert blocker.read_text() == "a file where the report's parent folder should be\n"


def test_a_new_report_keeps_the_earlier_one_and_a_failed_run_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    common = ["--trainer.default_root_dir", str(tmp_path / "runs"), "--data.init_args.root"]
    data_root = tmp_path / "data"
    shutil.copytree(ROOT / "data/pix2pix_demo", data_root)
    _test_into(folder, *common, str(data_root))
    first = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    _test_into(folder, *common, str(data_root), "--seed_everything", "3", "--model.generator.init_args.ngf", "5")
    (kept,) = tmp_path.glob("report-*")
    assert {p.relative_to(kept): p.read_bytes() for p in kept.rglob("*") if p.is_file()} == first
    second = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert second[Path("metrics.json")] != first[Path("metrics.json")]

    # A test that fails half-way (a corrupt image in the second batch) leaves both reports as they were.
    (data_root / "test" / PIX2PIX_TEST_FILES[5]).write_bytes(b"not a png")
    with pytest.raises(Exception, match=PIX2PIX_TEST_FILES[5]):
        _test_into(folder, *common, str(data_root))
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == second
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".report", "report"))) == [
        "report",
        kept.name,
    ]


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def test_an_existing_folder_that_is_not_a_report_is_refused_not_moved(tmp_path: Path, capsys) -> None:
    project = tmp_path / "project"
    for folder in ("inputs", "out"):
        (project / folder).mkdir(parents=True)
    (project / "inputs" / "a.png").write_bytes(b"an input")
    (project / "README").write_text("my project\n")
    before = _snapshot(project)
    args = ["test", *PIX2PIX, "--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path / "runs")]
    message = console_error([*args, "--report.folder", str(project)], capsys)
    assert message == (
        f"--report.folder {project} is an existing folder that is not a lightning_gan report (it holds README, "
        "inputs/, out/): the report never moves or replaces a folder it did not write. Choose a new or empty folder, "
        f"e.g. --report.folder {project / 'report'}. Nothing was evaluated"
    )
    assert _snapshot(project) == before
    assert sorted(p.name for p in tmp_path.iterdir() if "project" in p.name) == ["project"]  # not renamed, no partial


def test_the_current_folder_as_report_folder_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    # Run from a scratch folder, never the repository: without the fix, `.` is renamed away (the bug under test).
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("the user's\n")
    monkeypatch.chdir(work)
    absolute = [str(ROOT / a) if a == "configs/pix2pix_demo.yaml" else a for a in PIX2PIX]
    args = ["test", *absolute, "--data.init_args.root", str(ROOT / "data/pix2pix_demo"), "--trainer.logger", "false"]
    message = console_error(
        [*args, "--trainer.default_root_dir", str(tmp_path / "runs"), "--report.folder", "."], capsys
    )
    assert message == (
        f"--report.folder {work} is the current folder or holds it: the report would replace the folder it runs in. "
        f"Choose a new folder, e.g. --report.folder {work / 'report'}. Nothing was evaluated"
    )
    assert {p.name for p in tmp_path.iterdir()} <= {"_wandb", "runs", "work"}  # not renamed, no partial folder
    assert _snapshot(work) == {"notes.txt": b"the user's\n"}


@pytest.mark.parametrize("where", ["the predictions folder", "inside the inputs"])
def test_a_predict_report_apart_from_inputs_and_predictions(tmp_path: Path, capsys, where: str) -> None:
    inputs, out = tmp_path / "inputs", tmp_path / "out"
    inputs.mkdir()
    shutil.copy(ROOT / "data/pix2pix_demo/test" / PIX2PIX_TEST_FILES[0], inputs)
    folder = out if where == "the predictions folder" else inputs / "report"
    args = ["--data.init_args.predict_dir", str(inputs), "--prediction_writer.output_dir", str(out)]
    args += ["--trainer.logger", "false", "--report", "--report.folder", str(folder)]
    message = console_error(["predict", *PIX2PIX, *args], capsys)
    if where == "the predictions folder":  # it would be published over the predictions written meanwhile
        assert message.startswith(
            f"--report.folder {out} is the predictions folder --prediction_writer.output_dir {out}: the report would "
            f"replace the predictions. Choose a folder apart from it, e.g. --report.folder {tmp_path / 'out_report'}"
        )
    else:
        assert message.startswith(f"--report.folder {folder} is inside the input folder --data.init_args.predict_dir")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "_wandb") == ["inputs"]
    assert [p.name for p in inputs.iterdir()] == [PIX2PIX_TEST_FILES[0]]


def test_a_report_of_an_earlier_version_without_the_marker_is_still_recognised(tmp_path: Path) -> None:
    report = tmp_path / "report"
    (report / "images").mkdir(parents=True)
    (report / "index.html").write_text("<html></html>")
    (report / "metrics.json").write_text(json.dumps({"stage": "test", "summary": {}, "rows": []}))
    (report / "metrics.csv").write_text("name\n")
    assert is_report(report)
    (report / "notes.txt").write_text("a file of the user's")
    assert not is_report(report)
    (report / MARKER).write_text("{}")
    assert is_report(report)  # a marked report with the user's notes added is moved aside whole, notes included
