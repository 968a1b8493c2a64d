"""The build's terminal: one line per job, problems in full, then the summary line.

Snakemake prints about 160 lines for a build of the shipped records (job blocks with
input, output, reason and resources, progress counts, scheduling rounds). A reader wants
what ran, what went wrong and the result. :class:`BriefTerminal` is a filter on Snakemake's
terminal handler only (the complete log in ``.snakemake/log/`` keeps every line): a job's
start becomes one line, its header (``localrule ingest: shard=0``); warnings, errors and
every other message pass whole; Snakemake's progress and scheduling lines are left out.
``snakemake --config terminal=full`` shows it all.

It also notices a build with nothing to do, so the summary line ends a no-op run too
(Snakemake calls no onsuccess hook then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

SNAKEMAKE_LOGGER = "snakemake.logging"
STREAM_HANDLER = "DefaultStreamHandler"
NOTHING_TO_DO = "Nothing to be done"
# Snakemake's events a brief terminal leaves out (a job's start is kept, as one line).
LEFT_OUT_EVENTS = frozenset(
    {
        "job_started",
        "job_finished",
        "progress",
        "resources_info",
        "run_info",
        "shellcmd",
        "workflow_started",
    }
)
# Snakemake's scheduling chatter, by how its lines start. Anything else (lint findings, the
# report's messages, warnings, errors) is kept.
LEFT_OUT_LINES = (
    "Building DAG of jobs",
    "Using shell:",
    "Provided cores:",
    "Provided remote nodes:",
    "Rules claiming more threads",
    "Select jobs to execute",
    "Execute ",
    "Assuming unrestricted shared filesystem",
    "Job stats:",
    "Elapsed time:",
    "Loading script code for rule",
    "Adding ",  # `snakemake --report`: each file it adds
)


def _event(record: logging.LogRecord) -> str:
    event = getattr(record, "event", None)
    return "" if event is None else str(getattr(event, "value", event))


def job_line(record: logging.LogRecord) -> str:
    """A job's start in one line, Snakemake's job header with its wildcards:
    ``localrule ingest: shard=0``."""
    rule = getattr(record, "rule_name", "") or "job"
    local = "local" if getattr(record, "local", False) else ""
    wildcards = getattr(record, "wildcards", None) or {}
    named = ", ".join(f"{k}={v}" for k, v in dict(wildcards).items())
    return f"{local}rule {rule}:{' ' + named if named else ''}"


class BriefTerminal(logging.Filter):
    """Snakemake's terminal, brief (``full=False``) or as Snakemake prints it (``full=True``);
    ``on_nothing_to_do`` is called once when Snakemake finds every output current."""

    def __init__(self, *, full: bool, on_nothing_to_do: Callable[[], None] | None = None) -> None:
        super().__init__("exosynth.terminal")
        self.full = full
        self.on_nothing_to_do = on_nothing_to_do
        self._noticed = False

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg or "")
        if message.startswith(NOTHING_TO_DO) and not self._noticed:
            self._noticed = True
            if self.on_nothing_to_do is not None:
                self.on_nothing_to_do()
        if self.full or record.levelno >= logging.WARNING:
            return True
        event = _event(record)
        if event == "job_info":
            record.msg, record.args, record.event = job_line(record), (), None
            return True
        if event:
            return event not in LEFT_OUT_EVENTS
        return bool(message.strip()) and not message.lstrip().startswith(LEFT_OUT_LINES)


def install(*, full: bool, on_nothing_to_do: Callable[[], None] | None = None) -> bool:
    """Put the filter on Snakemake's terminal handler; False where there is none (a logger
    plugin writes the terminal, or Snakemake's internals changed: its full log shows)."""
    handlers = [h for h in logging.getLogger(SNAKEMAKE_LOGGER).handlers if h.name == STREAM_HANDLER]
    for handler in handlers:
        handler.addFilter(BriefTerminal(full=full, on_nothing_to_do=on_nothing_to_do))
    return bool(handlers)
