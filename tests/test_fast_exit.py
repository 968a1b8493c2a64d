"""A finished job ends its process without teardown, and only once its outputs are complete.

``exosynth.adapters.logged(..., exit_when_done=True)`` (every rule script) calls
``exit_now`` after the log says "done": the process must leave complete, closed files and a
complete log, exit 0 so Snakemake records the job, and fail as before when the job fails.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]
LEDGER = {"files_read": 26, "included": 26, "rejected": 0, "raw_checksum": "ab" * 32}
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


def job_inputs(folder: Path, studies: pl.DataFrame, config: dict) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "studies": folder / "studies.parquet",
        "ledger": folder / "validation.json",
        "config": folder / "config.json",
    }
    studies.write_parquet(paths["studies"])
    paths["ledger"].write_text(json.dumps(LEDGER), encoding="utf-8")
    config = {"sources": config["sources"], "review": config["review"]}
    paths["config"].write_text(json.dumps(config), encoding="utf-8")
    return {name: str(path) for name, path in paths.items()}


def test_a_job_killed_when_it_says_done_leaves_complete_files(
    tmp_path: Path, review_studies: pl.DataFrame, config: dict
) -> None:
    """The workbook and the tables, written by their adapters under ``logged``, killed the
    moment the log's "done" line appears: every file is whole (the zip opens, every sheet is
    there, every table parses)."""
    inputs = job_inputs(tmp_path / "in", review_studies, config)
    out, log_file = tmp_path / "out", tmp_path / "job.log"
    out.mkdir()
    numbers = [str(t["table"]) for t in config["sources"].values()]
    job = run_python(
        f"""
        import json
        from exosynth.adapters import logged, write_tables, write_workbook_file
        config = json.load(open({inputs["config"]!r}))
        numbers = {numbers!r}
        with logged({str(log_file)!r}, "outputs", exit_when_done=True):
            write_workbook_file({inputs["studies"]!r}, {inputs["ledger"]!r}, config,
                                {str(out / "book.xlsx")!r})
            write_tables({inputs["studies"]!r}, config,
                         [{str(out)!r} + f"/table{{n}}.csv" for n in numbers],
                         [{str(out)!r} + f"/table{{n}}.md" for n in numbers])
        raise SystemExit("not reached: the job ends in logged")
        """
    )
    deadline = time.monotonic() + 120
    while job.poll() is None and time.monotonic() < deadline:
        if log_file.exists() and "rule outputs done in" in log_file.read_text(encoding="utf-8"):
            job.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    _, stderr = job.communicate(timeout=60)
    assert job.returncode in (0, -signal.SIGKILL), stderr
    assert "rule outputs done in" in log_file.read_text(encoding="utf-8")
    book = openpyxl.load_workbook(out / "book.xlsx", read_only=True)
    assert set(SHEETS) <= set(book.sheetnames)
    for name in book.sheetnames:  # every sheet's XML parses to its end
        assert sum(1 for _ in book[name].iter_rows()) >= 1
    studies_sheet = book["Studies"]
    assert studies_sheet.max_row == 1 + review_studies.height
    for number in numbers:
        with (out / f"table{number}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) > 1
        assert rows[0][0] == "Condition"
        markdown = (out / f"table{number}.md").read_text(encoding="utf-8")
        assert "| Condition |" in markdown
        assert markdown.endswith(".*\n")  # the footnote, last


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
