"""A finished job ends its process without teardown, and only once its outputs are complete.

``exosynth.adapters.logged(..., exit_when_done=True)`` (every rule script) calls
``exit_now`` after the log says "done": the process must leave complete, closed files and a
complete log, exit 0 so Snakemake records the job, and fail as before when the job fails.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]
# Sheets the workbook has with the shipped config (no registered trials given), at least.
SHEETS = ["Table 1", "Table 2", "Table 3", "Translation gap", "Studies", "About"]


def run_python(code: str, **kwargs: object) -> subprocess.Popen[str]:
    """``code`` in a new interpreter with this worktree's package first on the path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), *sys.path]))
    env.pop("PYTHONUNBUFFERED", None)  # stdout to a pipe is block-buffered, as in a job
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def gate_passed(tmp_path_factory: pytest.TempPathFactory, project_factory, run_snakemake) -> Path:
    """A copy of the project built up to the gate and the baseline: the inputs of rules
    workbook and figures."""
    project = project_factory(tmp_path_factory.mktemp("fast-exit") / "project")
    built = run_snakemake(
        project, "results/studies.csv", "results/interim/baseline", "results/synthesis/pooled.csv"
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return project


def rule_outputs(out: Path, tables: list[str]) -> dict[str, object]:
    """Rule workbook's and rule figures' outputs by keyword (as in the Snakefile), in ``out``."""
    figures = [*FIGURE_NAMES, *QUALITY_FIGURES]
    return {
        "workbook": {
            **{name: str(out / f"{name}.csv") for name in WORKBOOK_CSVS},
            "translation_gap_html": str(out / "translation_gap.html"),
            "trials_html": str(out / "trials.html"),
            "tables_csv": [str(out / f"table{n}.csv") for n in tables],
            "tables_md": [str(out / f"table{n}.md") for n in tables],
            "tables_html": [str(out / f"table{n}.html") for n in tables],
            "prisma_png": str(out / "prisma_flow.png"),
            "prisma_problems": str(out / "prisma.problems.json"),
            "changes_md": str(out / "changes.md"),
            "changes_html": str(out / "changes.html"),
            "xlsx": str(out / "exosynth.xlsx"),
            "digest": str(out / "exosynth.xlsx.sha256"),
            # the evidence gap map: a figure, and the workbook's picture
            **{f"evidence_gap_map_{ext}": str(out / f"evidence_gap_map.{ext}") for ext in PNG_CSV},
            **{name: str(out / f"{name}.csv") for name in ("effects", "pooled", "cumulative")},
            "egger": str(out / "egger.csv"),
            "meta_html": str(out / "meta_analysis.html"),
            "meta_figures": str(out / "meta_analysis"),
            "synthesis_problems": str(out / "synthesis.problems.json"),
            "report_md": str(out / "validation_report.md"),
            "report_html": str(out / "validation_report.html"),
        },
        "figures": {
            **{f"{name}_{ext}": str(out / f"{name}.{ext}") for name in figures for ext in PNG_CSV},
            **{name: str(out / f"quality-{name}.csv") for name in QUALITY_NUMBERS},
            "trial_timeline_note": str(out / "trial_timeline_note.rst"),
            "sensitivity_html": str(out / "sensitivity.html"),
            "summary_md": str(out / "summary.md"),
            "evidence_map": str(out / "evidence_map.html"),
        },
    }


WORKBOOK_CSVS = (
    "translation_gap", "species", "model_types", "gap_map", "time_to_translation",
    "time_to_trial", "prisma_csv", "changes_csv", "changes_headlines",
)  # fmt: skip
FIGURE_NAMES = (
    "condition_map", "translation_funnel", "species_mix", "model_mix", "trial_timeline",
)  # fmt: skip
QUALITY_FIGURES = ("risk_of_bias_traffic_light", "risk_of_bias_summary")
PNG_CSV = ("png", "csv")  # a figure's picture and its numbers
QUALITY_NUMBERS = (
    "risk_of_bias", "risk_of_bias_summary", "sensitivity", "pooled_sensitivity", "assessment",
    "ev_characterisation", "ev_summary", "ev_terms", "routes", "doses",
)  # fmt: skip
JOBS = {
    "workbook": "build_workbook(inputs, config, outputs, raw_dir)",
    "figures": "draw_figures_and_quality(inputs, config, 8, outputs)",
}


def assert_complete(path: Path) -> None:
    """The file is whole: it parses to its end (by its kind); a folder's files each."""
    if path.is_dir():
        for inside in path.iterdir():
            assert_complete(inside)
        return
    data = path.read_bytes()
    assert data, path
    if path.suffix == ".png":
        assert data.endswith(b"IEND\xaeB`\x82"), path  # the last chunk of a PNG
    elif path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        assert set(SHEETS) <= set(book.sheetnames)
        for name in book.sheetnames:  # every sheet's XML parses to its end
            assert sum(1 for _ in book[name].iter_rows()) >= 1
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)), path  # a header at least
        assert data.endswith(b"\n"), path
    elif path.suffix == ".json":
        json.loads(data)
    elif path.suffix == ".html":
        assert data.rstrip().endswith(b">"), path
    else:  # Markdown, reStructuredText, the digest
        assert data.endswith(b"\n"), path


@pytest.mark.parametrize("rule", sorted(JOBS))
def test_a_job_killed_when_it_says_done_leaves_complete_files(
    tmp_path: Path, gate_passed: Path, config: dict, rule: str
) -> None:
    """Rule workbook's and rule figures' adapters (several stages each) under ``logged``, killed
    the moment the log's "done" line appears: every file of every stage is whole (the zip
    opens with every sheet, each table parses, each PNG ends with its last chunk), and the
    workbook's digest is that of the workbook."""
    results = gate_passed / "results"
    inputs = {
        "studies": str(results / "interim" / "studies.parquet"),
        "ledger": str(results / "validation.json"),
        "trials": str(results / "trials.parquet"),
        "vocabulary": str(gate_passed / "config" / "vocabulary.yaml"),
        "baseline": str(results / "interim" / "baseline"),
        "published": str(results / "studies.csv"),
        "trials_csv": str(results / "trials.csv"),
        "shards": sorted(str(p) for p in (results / "interim" / "ingest").glob("shard-*.parquet")),
    }
    settings = {k: config[k] for k in ("sources", "review", "synthesis", "quality", "literature")}
    settings["baseline"] = config["literature"]["baseline"]
    out, log_file = tmp_path / "out", tmp_path / "job.log"
    out.mkdir()
    outputs = rule_outputs(out, [str(t["table"]) for t in config["sources"].values()])[rule]
    job = run_python(
        f"""
        from exosynth.adapters import build_workbook, draw_figures_and_quality, logged
        inputs, config, outputs = {inputs!r}, {settings!r}, {outputs!r}
        raw_dir = {str(gate_passed / "raw")!r}
        with logged({str(log_file)!r}, {rule!r}, exit_when_done=True):
            {JOBS[rule]}
        raise SystemExit("not reached: the job ends in logged")
        """
    )
    done = f"rule {rule} done in"
    deadline = time.monotonic() + 240
    while job.poll() is None and time.monotonic() < deadline:
        if log_file.exists() and done in log_file.read_text(encoding="utf-8"):
            job.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    _, stderr = job.communicate(timeout=60)
    assert job.returncode in (0, -signal.SIGKILL), stderr
    assert done in log_file.read_text(encoding="utf-8")
    written = sorted(p for p in out.iterdir())
    expected = [Path(p) for v in outputs.values() for p in (v if isinstance(v, list) else [v])]
    assert written == sorted(expected)
    for path in written:
        assert_complete(path)
    if rule == "workbook":
        digest = hashlib.sha256((out / "exosynth.xlsx").read_bytes()).hexdigest()
        assert (out / "exosynth.xlsx.sha256").read_text(encoding="utf-8") == digest + "\n"
        studies = pl.read_parquet(inputs["studies"])
        book = openpyxl.load_workbook(out / "exosynth.xlsx", read_only=True)
        assert book["Studies"].max_row == 1 + studies.height
        # the sheets of the files the job wrote before the workbook
        assert {"Changes", "PRISMA flow"} <= set(book.sheetnames)
        # the gap map drawn once: the workbook's picture is the figure's PNG, byte for byte
        with zipfile.ZipFile(out / "exosynth.xlsx") as xlsx:
            pictures = [xlsx.read(n) for n in xlsx.namelist() if n.startswith("xl/media/")]
        assert pictures == [(out / "evidence_gap_map.png").read_bytes()]
        # each record file's SHA-256 on the Provenance sheet, taken from the ingest shards
        rows = book["Provenance"].iter_rows(values_only=True)
        provenance = [row for row in rows if str(row[-2]).startswith("raw/")]
        assert len(provenance) >= studies.height
        for *_, raw_file, digest in provenance[:: max(1, len(provenance) // 5)]:
            data = (gate_passed / raw_file).read_bytes()
            assert digest == hashlib.sha256(data).hexdigest(), raw_file


def test_a_finished_job_skips_teardown_and_keeps_its_last_words(tmp_path: Path) -> None:
    """Exit status 0; the log, stdout and stderr complete; atexit work not done (no teardown)."""
    log_file, output, marker = tmp_path / "job.log", tmp_path / "out.txt", tmp_path / "atexit"
    job = run_python(
        f"""
        import atexit, pathlib, sys
        from exosynth.adapters import logged
        atexit.register(pathlib.Path({str(marker)!r}).write_text, "teardown ran")
        with logged({str(log_file)!r}, "probe", exit_when_done=True) as log:
            pathlib.Path({str(output)!r}).write_text("complete")
            log.info("wrote it")
            print("to stdout, block-buffered in a pipe", end="")
            print("to stderr", file=sys.stderr, end="")
        print("not reached")
        """
    )
    stdout, stderr = job.communicate(timeout=60)
    assert job.returncode == 0, stderr
    assert stdout == "to stdout, block-buffered in a pipe"
    assert stderr == "to stderr"
    text = log_file.read_text(encoding="utf-8")
    assert "wrote it" in text
    assert "rule probe done in" in text
    assert text.endswith("\n")
    assert output.read_text() == "complete"
    assert not marker.exists(), "the interpreter's teardown ran: the job did not exit at once"


@pytest.mark.parametrize(
    ("failure", "expected"),
    [("raise ValueError('bad input')", "ValueError: bad input"), ("raise InvalidRecords(1)", "")],
)
def test_a_failed_job_exits_as_before(tmp_path: Path, failure: str, expected: str) -> None:
    """A failing job does not take the fast exit: status 1, the failure in the log (an error)
    or on stderr (a traceback), and the interpreter ends as usual (atexit runs)."""
    log_file, marker = tmp_path / "job.log", tmp_path / "atexit"
    job = run_python(
        f"""
        import atexit, pathlib
        from exosynth.adapters import InvalidRecords, logged
        atexit.register(pathlib.Path({str(marker)!r}).write_text, "teardown ran")
        with logged({str(log_file)!r}, "probe", exit_when_done=True):
            {failure}
        """
    )
    _, stderr = job.communicate(timeout=60)
    assert job.returncode == 1
    assert marker.exists()
    text = log_file.read_text(encoding="utf-8")
    assert "done in" not in text
    if expected:
        assert "rule probe failed" in text
        assert expected in text
        assert expected in stderr


def test_without_exit_when_done_the_caller_goes_on(tmp_path: Path) -> None:
    """In-process use (tests, the command line) keeps its interpreter."""
    from exosynth.adapters import logged  # noqa: PLC0415

    with logged(tmp_path / "job.log", "probe"):
        pass
    assert "rule probe done in" in (tmp_path / "job.log").read_text(encoding="utf-8")


SNAKEFILE = """\
rule all:
    input:
        "results/b.txt",


rule a:
    output:
        text="results/a.txt",
    log:
        "logs/a.log",
    script:
        "a.py"


rule b:
    input:
        text="results/a.txt",
    output:
        text="results/b.txt",
    log:
        "logs/b.log",
    shell:
        "cat {input.text} > {output.text}"
"""

SCRIPT = """\
from pathlib import Path

from exosynth.adapters import logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    if Path("fail").exists():
        raise ValueError("asked to fail")
    Path(snakemake.output.text).write_text("written by a\\n", encoding="utf-8")
"""


def test_snakemake_sees_a_fast_exit_as_success(tmp_path: Path) -> None:
    """A ``script:`` job that ends in ``os._exit(0)``: Snakemake records it, runs the next job,
    and does nothing on a second run; a failing script still fails the build."""
    (tmp_path / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    (tmp_path / "a.py").write_text(SCRIPT, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), *sys.path]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])

    def snakemake(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", "1", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    first = snakemake()
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "results" / "b.txt").read_text(encoding="utf-8") == "written by a\n"
    assert "rule a done in" in (tmp_path / "logs" / "a.log").read_text(encoding="utf-8")
    again = snakemake()
    assert again.returncode == 0, again.stderr
    assert "Nothing to be done" in again.stdout + again.stderr

    (tmp_path / "fail").write_text("", encoding="utf-8")
    failed = snakemake("--forcerun", "a")
    assert failed.returncode != 0
    assert not (tmp_path / "results" / "a.txt").exists()  # Snakemake removed the failed output
    assert "asked to fail" in (tmp_path / "logs" / "a.log").read_text(encoding="utf-8")


def test_every_rule_script_takes_the_fast_exit() -> None:
    """Each script of workflow/scripts/ runs its adapter under ``logged(...,
    exit_when_done=True)``: a job left out pays the interpreter's teardown in every build."""
    scripts = sorted((REPO / "workflow" / "scripts").glob("*.py"))
    # every script a rule names (the Snakefile's and the included rule files') is among them
    rule_files = [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]
    named = {
        Path(m).name
        for f in rule_files
        for m in re.findall(r'script:\s*"([^"]+)"', f.read_text(encoding="utf-8"))
    }
    assert len(named) >= 5
    assert named == {p.name for p in scripts}
    slow = [p.name for p in scripts if "exit_when_done=True" not in p.read_text(encoding="utf-8")]
    assert slow == []
