"""The build's terminal: one line per job, problems whole, no chatter; the summary after a no-op."""

from __future__ import annotations

import logging

from exosynth import terminal


def record(msg: str = "", level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("snakemake.logging", level, __file__, 1, msg, (), None)
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_a_job_is_one_line_in_snakemakes_header_form() -> None:
    brief = terminal.BriefTerminal(full=False)
    job = record(
        " Rule: ingest, Jobid: 3",
        event="job_info",
        rule_name="ingest",
        local=True,
        wildcards={"shard": "0"},
        input=["a", "b"],
    )
    assert brief.filter(job)
    assert job.msg == "localrule ingest: shard=0"
    assert job.__dict__["event"] is None  # formatted as a plain line, not a job block
    plain = record(event="job_info", rule_name="all", local=False, wildcards={})
    assert brief.filter(plain)
    assert plain.msg == "rule all:"


def test_chatter_is_left_out_and_problems_pass_whole() -> None:
    brief = terminal.BriefTerminal(full=False)
    for chatter in (
        record("Building DAG of jobs..."),
        record("Select jobs to execute..."),
        record("Execute 2 jobs..."),
        record("Job stats:\njob  count\n"),
        record(""),
        record("3 of 10 steps (30%) done", event="progress"),
        record("Finished jobid: 3", event="job_finished"),
    ):
        assert not brief.filter(chatter), chatter.msg
    for kept in (
        record("Complete log(s): /x/.snakemake/log/1.snakemake.log"),
        record("Report created."),
        record("Lints for rule x:"),  # --lint's findings
        record("Error in rule publish:", level=logging.ERROR, event="job_error"),
        record("Some warning", level=logging.WARNING),
    ):
        assert brief.filter(kept), kept.msg


def test_full_passes_everything_and_a_no_op_calls_back_once() -> None:
    called: list[int] = []
    full = terminal.BriefTerminal(full=True, on_nothing_to_do=lambda: called.append(1))
    assert full.filter(record("Select jobs to execute..."))
    assert full.filter(record("Nothing to be done (all requested files are present)."))
    assert full.filter(record("Nothing to be done (all requested files are present)."))
    assert called == [1]
    brief = terminal.BriefTerminal(full=False, on_nothing_to_do=lambda: called.append(2))
    assert brief.filter(record("Nothing to be done (all requested files are present)."))
    assert called == [1, 2]


def test_install_finds_snakemakes_terminal_handler_only() -> None:
    logger = logging.getLogger(terminal.SNAKEMAKE_LOGGER)
    stream = logging.StreamHandler()
    stream.name = terminal.STREAM_HANDLER
    logfile = logging.NullHandler()
    logger.addHandler(stream)
    logger.addHandler(logfile)
    try:
        assert terminal.install(full=False)
        assert any(isinstance(f, terminal.BriefTerminal) for f in stream.filters)
        assert logfile.filters == []  # the complete log keeps every line
    finally:
        logger.removeHandler(stream)
        logger.removeHandler(logfile)
    assert not terminal.install(full=False)


def test_a_build_prints_a_line_per_job_then_the_summary_and_so_does_a_no_op(
    project, run_snakemake
) -> None:
    done = run_snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    jobs = [line for line in lines if "rule " in line and line.rstrip().split()[0].endswith("rule")]
    # one line per job (ingest twice: two shards), the profile's and log's lines, the summary
    assert {"localrule ingest: shard=0", "localrule ingest: shard=1", "localrule all:"} <= set(
        jobs
    ), lines
    assert len(jobs) == len(set(jobs)), lines
    assert len(lines) <= len(jobs) + 3, lines
    assert lines[-1].startswith("exosynth: 26 studies")
    assert "no registry export" in lines[-1]  # the trials counted, here none
    # Snakemake's own report is not built by a build: the line says how to bring it back
    assert lines[-1].endswith("HTML report: snakemake --report results/report.html")
    again = run_snakemake(project)
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = [line for line in (again.stdout + again.stderr).splitlines() if line.strip()]
    assert any(line.startswith("Nothing to be done") for line in rerun)
    assert rerun[-1] == lines[-1]  # a no-op still ends with the summary line
    full = run_snakemake(project, "--config", "terminal=full", "--forcerun", "workbook")
    assert "Select jobs to execute" in full.stdout + full.stderr  # the full log, a flag away
