"""The Snakemake adapters: each rule's file I/O, read inputs, call one stage, write outputs.

``workflow/scripts/*.py`` bind ``snakemake.input``/``output``/``params`` to these
functions; the stages themselves take data and return data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

import polars as pl

from exosynth.problems import (
    Problem,
    errors,
    plural,
    read_problems,
    sorted_problems,
    warnings,
    write_problems,
)

log = logging.getLogger("exosynth")


@contextmanager
def logged(
    log_file: str | Path, rule: str, *, exit_when_done: bool = False
) -> Iterator[logging.Logger]:
    """Send the rule's log to its ``log:`` file; an exception is logged before it propagates.

    With ``exit_when_done`` (the rule scripts of workflow/scripts/), a job that succeeded ends
    its process as soon as the log is closed: :func:`exit_now`. Every output was written and
    closed inside the ``with`` block, before the log says "done".
    """
    handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    start = time.perf_counter()
    done = False
    try:
        yield log
    except Exception:
        log.exception("rule %s failed", rule)
        raise
    else:
        log.info("rule %s done in %.2f s", rule, time.perf_counter() - start)
        done = True
    finally:
        log.removeHandler(handler)
        handler.close()
    if done and exit_when_done:
        exit_now()


def exit_now(code: int = 0) -> NoReturn:
    """End a finished job's process without the interpreter's teardown.

    At exit, Python runs the atexit work of every library imported (matplotlib, polars, pandas,
    pandera) and frees every object one by one: at a small corpus, a sizeable share of a job.
    None of it touches a file the job wrote. Call it only when every file is written and
    closed (the adapters close each file they write before they return); what is left in
    Python's own buffers, the log handlers' and stdout's and stderr's, is flushed here.
    ``os._exit`` does not wait for the disk: the kernel holds the bytes written, and a process
    killed at this point leaves the same files (tests/test_fast_exit.py).
    """
    logging.shutdown()  # flushes and closes every handler still open
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed or broken stream: nothing left to save
            stream.flush()
    os._exit(code)


def write_json(data: Any, path: str | Path) -> None:
    Path(path).write_text(
        json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8"
    )


def ingest_shard(
    raw_dir: str,
    shard: int,
    shards: int,
    schema: str,
    records_out: str,
    problems_out: str,
    cache_file: str | None = None,
) -> None:
    """One shard's raw files parsed and checked; with ``cache_file``, only the files whose
    bytes changed since the last build are parsed (exosynth.ingest.ingest_cached)."""
    from exosynth.corpus import scan_raw_files, shard_of
    from exosynth.studies.parse_cache import empty_cache, ingest_cached, read_cache
    from exosynth.studies.schema_messages import study_validator

    files = [f for f in scan_raw_files(raw_dir) if shard_of(f[0], shards) == shard]
    cache = read_cache(cache_file) if cache_file else empty_cache()
    records, problems, new_cache, parsed = ingest_cached(files, study_validator(schema), cache)
    records.write_parquet(records_out)
    write_problems(problems, problems_out)
    if cache_file:
        # Written whole, then renamed: a build stopped halfway leaves the old cache or the new.
        cache_path = Path(cache_file)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_path.with_name(cache_path.name + ".partial")
        new_cache.write_parquet(partial)
        partial.replace(cache_path)
    log.info(
        "ingested %s (%d parsed, %d from the parse cache): %d accepted, %s",
        plural(records.height, "file"),
        parsed,
        records.height - parsed,
        records["accepted"].sum(),
        plural(len(problems), "problem"),
    )


def check_records(
    shards: Sequence[str],
    shard_problems: Sequence[str],
    vocabulary: str,
    vocabulary_schema: str,
    config: dict,
    raw_dir: str,
    studies_out: str,
    ledger_out: str,
    *,
    trial_problems_in: str | None = None,
    trial_ledger_in: str | None = None,
    drafts: int = 0,
) -> None:
    """Rule validate: the ingested shards checked against each other, normalized, ledgered.

    One job for three stages (exosynth.validate, exosynth.normalize, the ledger): each was a
    job of its own, and at a small corpus their start-up cost more than their work. The
    stages stay separate functions; this chains them in memory. The job never fails on
    invalid records, so the ledger it writes survives; the gate is rule publish, the report
    rule workbook, last (:func:`write_validation_report`). ``drafts`` (the draft records
    of raw/inbox/) is counted in the ledger.
    """
    from exosynth.analysis_groups import AnalysisGroups, unclaimed_conditions
    from exosynth.outputs.ledger import add_trials, ledger
    from exosynth.settings import load_yaml, source_tables, validate_against
    from exosynth.studies.normalize import normalize
    from exosynth.studies.quality_blocks import located
    from exosynth.studies.records import RECORD_SCHEMA
    from exosynth.studies.validate import validate_records
    from exosynth.vocabulary import Vocabulary

    records = (
        pl.concat([pl.read_parquet(p) for p in shards])
        if shards
        else pl.DataFrame(schema=RECORD_SCHEMA)
    )
    records, cross = validate_records(records)
    log.info(
        "validated %s: %s",
        plural(records.height, "record"),
        plural(len(cross), "cross-record problem"),
    )
    raw_terms = validate_against(load_yaml(vocabulary), vocabulary_schema, vocabulary)
    terms, groups = Vocabulary.from_mapping(raw_terms), AnalysisGroups.from_mapping(raw_terms)
    studies, unknown = normalize(records, terms, source_tables(config), raw_dir, groups)
    studies.write_parquet(studies_out)  # its contract is checked by the gate (publish_studies)
    log.info(
        "normalized %s: %s",
        plural(studies.height, "study", "studies"),
        plural(len(unknown), "vocabulary problem"),
    )
    # The lines of the quality blocks' spellings, read from the files that have such a problem.
    unknown = located(unknown, lambda raw_file: Path(raw_file).read_text(encoding="utf-8"))
    problems = sorted_problems([*read_problems(*shard_problems), *cross, *unknown])
    summary = ledger(records, studies, problems, raw_dir)
    summary["drafts"] = drafts
    summary["unclaimed_conditions"] = unclaimed_conditions(studies, groups).to_dicts()
    if trial_ledger_in is not None and trial_problems_in is not None:
        trial_ledger = json.loads(Path(trial_ledger_in).read_text(encoding="utf-8"))
        summary = add_trials(summary, trial_ledger, read_problems(trial_problems_in))
    write_json(summary, ledger_out)
    log.info(
        "records read %d, included %d, rejected %d, %s",
        summary["files_read"],
        summary["included"],
        summary["rejected"],
        plural(summary["warnings"], "warning"),
    )


def write_validation_report(
    ledger_in: str,
    later_in: Sequence[str],
    md_out: str,
    html_out: str | None = None,
    on_invalid: str = "fail",
) -> None:
    """The validation report (last in rule workbook): the ledger of rule validate and the
    problems the stages after the gate found (``later_in``: the problem files of the PRISMA
    flow and of the meta-analyses, those that exist), as Markdown and HTML
    (exosynth.outputs.ledger). A stopped build writes it from the ledger alone
    (:func:`clean_after_failure`), since those stages did not run."""
    from exosynth.outputs.ledger import render_html, render_markdown

    summary = json.loads(Path(ledger_in).read_text(encoding="utf-8"))
    later = [asdict(p) for p in read_problems(*(p for p in later_in if Path(p).exists()))]
    Path(md_out).write_text(render_markdown(summary, on_invalid, later), encoding="utf-8")
    if html_out:
        Path(html_out).write_text(render_html(summary, on_invalid, later), encoding="utf-8")
    log.info(
        "validation report: %s, %s after the gate",
        plural(len(summary["problems"]), "problem"),
        plural(len(later), "note"),
    )


class InvalidRecords(SystemExit):
    """Raised to stop the build when records are invalid and on_invalid is "fail"."""


SHOWN_PROBLEMS = 50  # problems printed on the terminal; the report lists every one


def build_stops(summary: dict, on_invalid: str) -> bool:
    """Whether the gate stops this build: an error in the ledger, and on_invalid is "fail"."""
    return on_invalid == "fail" and any(p["severity"] == "error" for p in summary["problems"])


def after_the_gate(ledger_in: str, on_invalid: str, report: str) -> None:
    """Stop a rule that runs beside the gate (stats, tables, workbook, figures) at once when
    the gate stops the build: no work is wasted, the build stops without waiting for it, and
    a partial target (``snakemake results/exosynth.xlsx``) cannot skip the gate."""
    summary = json.loads(Path(ledger_in).read_text(encoding="utf-8"))
    if build_stops(summary, on_invalid):
        message = (
            f"exosynth: not built: {plural(summary['rejected'], 'raw file')} "
            f"{'is' if summary['rejected'] == 1 else 'are'} invalid; every problem is in {report}"
        )
        log.error(message)
        print(message, file=sys.stderr)
        raise InvalidRecords(1)


def _listed(problems: Sequence[Problem], report: str, limit: int) -> str:
    """The first ``limit`` problems, one a line, and how many more there are and where."""
    shown = "\n".join(f"  {p.render()}" for p in problems[:limit])
    if len(problems) > limit:
        rest = plural(len(problems) - limit, "more problem")
        shown += f"\n  ... and {rest}, not shown here: every problem is in {report}"
    return shown


def publish_studies(
    studies_in: str,
    ledger_in: str,
    report: str,
    on_invalid: str,
    csv_out: str,
    parquet_out: str,
    *,
    config: dict | None = None,
    summary_out: str | None = None,
    front_page_out: str | None = None,
    trials_in: str | None = None,
    limit: int = SHOWN_PROBLEMS,
) -> None:
    """The gate: publish the normalized table, or stop the build listing the problems.

    Warnings (a model type the vocabulary cannot place) never stop the build; they are
    printed either way, so the terminal says what the report says. With ``on_invalid:
    exclude`` it says on the terminal which files it leaves out. Beside the table it writes
    the build's summary (JSON, for the terminal's last line) and the HTML report's front
    page (reST), from the config's sources.
    """
    from exosynth.outputs.ledger import build_summary, summary_rst
    from exosynth.settings import source_tables
    from exosynth.studies.normalize import BLOCK_COLUMNS, check_contract

    summary = json.loads(Path(ledger_in).read_text(encoding="utf-8"))
    found = [Problem(**p) for p in summary["problems"]]
    problems, cautions = errors(found), warnings(found)
    if cautions:
        message = f"exosynth: {plural(len(cautions), 'warning')} (the build goes on):\n" + (
            _listed(cautions, report, limit)
        )
        log.warning(message)
        print(message, file=sys.stderr)
    if build_stops(summary, on_invalid):
        message = (
            f"exosynth: {summary['rejected']} of {plural(summary['files_read'], 'raw file')} "
            f"{'is' if summary['rejected'] == 1 else 'are'} invalid "
            f"({plural(len(problems), 'problem')}):\n{_listed(problems, report, limit)}\n"
            f"Every problem is listed in {report}. Fix the files, or set on_invalid: exclude "
            f"in config/config.yaml to build without them."
        )
        log.error(message)
        print(message, file=sys.stderr)
        raise InvalidRecords(1)
    if problems:  # on_invalid: exclude, and some files are left out: say so, and which
        message = (
            f"exosynth: on_invalid=exclude: leaving out "
            f"{plural(summary['rejected'], 'invalid raw file')} "
            f"({plural(len(problems), 'problem')}):\n{_listed(problems, report, limit)}"
        )
        log.warning(message)
        print(message, file=sys.stderr)
    # The table against its output contract (a bug if it fails: the build stops and leaves no
    # deliverable). The gate runs beside the tables, workbook and figures, so pandera's import
    # (about a second, pandas with it) is off the path from an added paper to the last output.
    studies = check_contract(pl.read_parquet(studies_in)).drop(BLOCK_COLUMNS, strict=False)
    studies.write_csv(csv_out)
    studies.write_parquet(parquet_out)
    if config is not None and (summary_out or front_page_out):
        trials = pl.read_parquet(trials_in) if trials_in is not None else None
        built = build_summary(studies, summary, source_tables(config), on_invalid, trials)
        if summary_out:
            write_json(built, summary_out)
        if front_page_out:
            Path(front_page_out).write_text(summary_rst(built), encoding="utf-8")
    log.info(
        "published %s (%s left out)",
        plural(studies.height, "study", "studies"),
        plural(summary["rejected"], "rejected file"),
    )


# -- the end of a build (the Snakefile's onsuccess and onerror) --------------------------
def finished_line(
    summary_in: str,
    workbook: str,
    report: str,
    report_html: str = "",
    pooled_in: str | None = None,
    later_in: Sequence[str] = (),
) -> str:
    """The last line of a good build, from the gate's summary (exosynth.report.summary_line)
    and the meta-analyses of ``pooled_in`` (results/synthesis/pooled.csv) where it exists.
    Its warnings count those the stages after the gate found too (``later_in``: the problem
    files of the PRISMA flow and the meta-analyses, where this build wrote them), as the
    terminal printed them and the validation report lists them.

    Where ``report_html`` (Snakemake's HTML report, made by ``snakemake --report``, not by a
    build) is missing or older than the build's summary, the line ends with the command that
    brings it back (a stopped build removes it with every other deliverable).
    """
    from exosynth.outputs.ledger import summary_line

    summary = json.loads(Path(summary_in).read_text(encoding="utf-8"))
    built = Path(workbook)
    if not built.exists() or built.stat().st_mtime < Path(summary_in).stat().st_mtime:
        workbook = str(built.parent) + "/"  # a partial target: the workbook was not built
    meta = 0
    if pooled_in is not None and Path(pooled_in).exists():
        from exosynth.synthesis.analyses import count_meta_analyses

        meta = count_meta_analyses(pl.read_csv(pooled_in, infer_schema_length=0))
    current = [p for p in later_in if _current(Path(p), [summary_in])]
    summary["warnings"] += len(warnings(read_problems(*current)))
    line = summary_line(summary, workbook, report, meta)
    html = Path(report_html) if report_html else None
    if html is not None and (
        not html.exists() or html.stat().st_mtime < Path(summary_in).stat().st_mtime
    ):
        line += f"; HTML report: snakemake --report {report_html}"
    return line


def _current(output: Path, inputs: Sequence[str | Path]) -> bool:
    """``output`` exists and is newer than every input (which all exist): Snakemake's test."""
    if not output.exists():
        return False
    paths = [Path(p) for p in inputs]
    return all(p.exists() for p in paths) and all(
        output.stat().st_mtime >= p.stat().st_mtime for p in paths
    )


def clean_after_failure(
    deliverables: Sequence[str | Path],
    report_outputs: Sequence[str | Path],
    report_inputs: Sequence[str | Path],
    on_invalid: str,
    later: Sequence[str | Path] = (),
) -> str:
    """After a failed build, leave no deliverable: none from this build, none from an earlier one.

    The validation report (``report_outputs``: the Markdown report first, the JSON ledger,
    the HTML page) stays when its ledger is current, i.e. newer than every input of rule
    validate: written again from that ledger and from the problem files of the stages after
    the gate (``later``) that ran after it, since rule workbook may not have run. An
    older ledger would describe other raw files, and the report goes with it. Returns the
    line that ends the build.
    """
    from exosynth.outputs.ledger import failure_line

    report = Path(report_outputs[0])
    ledger = next(Path(p) for p in report_outputs if str(p).endswith(".json"))
    html = next((Path(p) for p in report_outputs if str(p).endswith(".html")), None)
    keep = _current(ledger, report_inputs)
    if keep:
        current = [str(p) for p in later if _current(Path(p), [ledger])]
        write_validation_report(str(ledger), current, str(report), html and str(html), on_invalid)
    doomed = [Path(p) for p in deliverables] + ([] if keep else [Path(p) for p in report_outputs])
    for path in doomed:
        path.unlink(missing_ok=True)
    # The folders they leave empty (results/tables/, stats/, figures/) go too; results/ stays.
    for folder in sorted({p.parent for p in doomed}, key=lambda f: len(f.parts), reverse=True):
        if folder.is_dir() and len(folder.parts) > 1 and not any(folder.iterdir()):
            folder.rmdir()
    summary = json.loads(ledger.read_text(encoding="utf-8")) if keep else None
    return failure_line(summary, on_invalid, str(report))


def compute_statistics(
    studies_in: str,
    config: dict,
    translation_gap_out: str,
    species_out: str,
    model_types_out: str,
    gap_map_out: str,
    time_to_translation_out: str,
    *,
    translation_gap_html_out: str | None = None,
    trials_in: str | None = None,
    time_to_trial_out: str | None = None,
    data_cutoff: str = "",
    trials_html_out: str | None = None,
    vocabulary_in: str | None = None,
) -> None:
    """Rule stats: the statistics of :func:`exosynth.synthesis.gap.statistics`, one file each;
    for the HTML report, the translation gap and the registered trials as pages in words."""
    from exosynth.outputs.html import translation_gap_html, trials_html
    from exosynth.outputs.words import Words
    from exosynth.settings import load_yaml, source_tables
    from exosynth.synthesis.gap import statistics

    tables = source_tables(config)
    words = Words.of(config, load_yaml(vocabulary_in) if vocabulary_in is not None else None)
    trials = pl.read_parquet(trials_in) if trials_in is not None else None
    numbers = statistics(pl.read_parquet(studies_in), tables, trials, data_cutoff)
    outputs = {
        "translation_gap": translation_gap_out,
        "species_by_source": species_out,
        "model_type_by_source": model_types_out,
        "evidence_gap_map": gap_map_out,
        "time_to_translation": time_to_translation_out,
        "time_to_trial": time_to_trial_out,
    }
    for name, frame in numbers.items():
        if outputs[name] is not None:
            frame.write_csv(outputs[name])
    if translation_gap_html_out:  # for the HTML report: in words, labels, percentages
        Path(translation_gap_html_out).write_text(
            translation_gap_html(numbers["translation_gap"], tables, words), encoding="utf-8"
        )
    if trials_html_out and trials is not None:
        Path(trials_html_out).write_text(trials_html(trials, words), encoding="utf-8")
    log.info("statistics of %d sources", len(tables))


def _outputs_by_table(paths: Sequence[str], numbers: Sequence[int], kind: str) -> dict[int, str]:
    """Each configured table's output file, matched by the number in its name (``table4.csv``).

    Matching by number, not by position, keeps Table 4 out of table3.md whatever
    order Snakemake lists the outputs in.
    """
    import re

    by_number: dict[int, str] = {}
    for path in paths:
        found = re.search(r"(\d+)$", Path(path).stem)
        if found is None or int(found.group(1)) in by_number:
            raise ValueError(
                f"{kind} output {path!r}: expected one file per table, named table<N>.{kind}"
            )
        by_number[int(found.group(1))] = path
    if sorted(by_number) != sorted(numbers):
        raise ValueError(
            f"{kind} outputs are for tables {sorted(by_number)}, the config has "
            f"tables {sorted(numbers)}"
        )
    return by_number


def _remove_stale_tables(folder: Path, numbers: Sequence[int]) -> None:
    """Delete ``table<N>.*`` of a table no longer configured (a source removed from the config)."""
    import re

    for path in sorted(folder.glob("table*.*")):
        found = re.fullmatch(r"table(\d+)\.(csv|md|html)", path.name)
        if found and int(found.group(1)) not in numbers:
            path.unlink()
            log.info("removed %s: table %s is no longer in the config", path, found.group(1))


def write_tables(
    studies_in: str,
    config: dict,
    csv_out: Sequence[str],
    md_out: Sequence[str],
    html_out: Sequence[str] = (),
) -> None:
    """Rule tables: each of :func:`exosynth.outputs.tables.review_tables` into its files."""
    from exosynth.outputs.tables import review_tables
    from exosynth.settings import source_tables

    numbers = [t.table for t in source_tables(config)]
    csv_paths = _outputs_by_table(csv_out, numbers, "csv")
    md_paths = _outputs_by_table(md_out, numbers, "md")
    html_paths = _outputs_by_table(html_out, numbers, "html") if html_out else {}
    for folder in {Path(p).parent for p in [*csv_out, *md_out, *html_out]}:
        _remove_stale_tables(folder, numbers)
    for number, table in review_tables(pl.read_parquet(studies_in), config).items():
        Path(csv_paths[number]).write_bytes(table.csv)
        Path(md_paths[number]).write_bytes(table.markdown.encode("utf-8"))
        if number in html_paths:
            Path(html_paths[number]).write_text(table.html, encoding="utf-8")
        log.info("table %d: %d studies", number, table.studies)


def write_workbook_file(
    studies_in: str,
    ledger_in: str,
    config: dict,
    xlsx_out: str,
    trials_in: str | None = None,
    *,
    vocabulary_in: str | None = None,
    changes_in: str | None = None,
    prisma_in: str | None = None,
    digest_out: str | None = None,
    synthesis: Any = None,
    gap_map_outputs: Mapping[str, str] | None = None,
    shards_in: Sequence[str] = (),
) -> None:
    """Rule workbook: :func:`exosynth.outputs.workbook.reviewer_workbook` into its file, with
    the SHA-256 of each record file (a returned workbook is read against them) and, in
    ``digest_out``, the workbook's own (:func:`keep_edited_workbook` compares it). The
    interim study table goes in whole: its quality blocks make the quality sheets.

    The record files' SHA-256 come from the ingest shards (``shards_in``: each file's
    digest of the bytes that were parsed, so of the records in the table), not from reading
    every raw file again (100,000 files take seconds); without shards, the files are read.

    ``synthesis`` (what :func:`meta_analyses` returned, in the same job) adds the sheets of
    the meta-analyses; without it, given ``vocabulary``, they are computed here (a workbook
    written on its own, as benchmarks/workbook_job.py does).

    ``gap_map_outputs`` (``evidence_gap_map_png``, ``_csv`` and, with ``figures: {svg:
    true}``, ``_svg``) get the evidence gap map figure, whose PNG is the workbook's picture:
    drawn once for both."""
    from exosynth import __version__
    from exosynth.outputs import figures
    from exosynth.outputs.workbook import reviewer_workbook
    from exosynth.settings import load_yaml, source_tables

    studies = pl.read_parquet(studies_in)
    gap_map_png = None
    if gap_map_outputs is not None:
        picture, tiles = figures.gap_map_figure(studies, source_tables(config))
        _save_figure(GAP_MAP, picture, tiles, gap_map_outputs)
        gap_map_png = Path(gap_map_outputs[f"{GAP_MAP}_png"]).read_bytes()
    digests = (
        dict(
            pl.concat([pl.read_parquet(s, columns=["raw_file", "sha256"]) for s in shards_in])
            .filter(pl.col("raw_file").is_in(studies.get_column("raw_file").implode()))
            .iter_rows()
        )
        if shards_in
        else {
            raw_file: hashlib.sha256(Path(raw_file).read_bytes()).hexdigest()
            for raw_file in studies.get_column("raw_file").unique().sort()
            if Path(raw_file).is_file()
        }
    )
    reviewer_workbook(
        xlsx_out,
        studies,
        json.loads(Path(ledger_in).read_text(encoding="utf-8")),
        config,
        __version__,
        trials=pl.read_parquet(trials_in) if trials_in is not None else None,
        vocabulary=load_yaml(vocabulary_in) if vocabulary_in is not None else None,
        changes=pl.read_csv(changes_in, infer_schema=False) if changes_in else None,
        prisma=pl.read_csv(prisma_in, infer_schema=False) if prisma_in else None,
        digests=digests,
        synthesis=(
            synthesis
            if synthesis is not None or vocabulary_in is None
            else _synthesis(studies, vocabulary_in, config)
        ),
        knha=knapp_hartung(config),
        gap_map_png=gap_map_png,
    )
    if digest_out is not None:
        built = hashlib.sha256(Path(xlsx_out).read_bytes()).hexdigest()
        Path(digest_out).write_text(built + "\n", encoding="utf-8")
    log.info("workbook %s", xlsx_out)


def build_workbook(
    inputs: Mapping[str, str],
    config: dict,
    outputs: Mapping[str, Any],
    raw_dir: str,
    *,
    on_invalid: str = "fail",
    svg: bool = False,
    figure_cache: str | None = None,
) -> None:
    """Rule workbook: the files the workbook's sheets come from, then the workbook, then the
    validation report, one adapter after the other (:func:`compute_statistics`,
    :func:`write_tables`, :func:`build_prisma`, :func:`meta_analyses`, :func:`write_changes`,
    :func:`write_workbook_file`, :func:`write_validation_report`), each reading what the ones
    before wrote: the changes read the translation gap and the pooled estimates, the workbook
    the changes, the flow and the meta-analyses (pooled once, here), the report the problems
    of the flow and of the meta-analyses.

    ``inputs`` and ``outputs`` are the rule's, by keyword (workflow/scripts/workbook.py); one
    job for these stages because a job start costs more than their work at a small corpus,
    and the flow diagram, the forest plots and the workbook's picture share one matplotlib
    import. ``svg`` adds the meta-analyses' SVG figures (``figures: {svg: true}``);
    ``figure_cache`` is the folder of the figure cache (:mod:`exosynth.outputs.figure_cache`).
    """
    compute_statistics(
        inputs["studies"],
        config,
        outputs["translation_gap"],
        outputs["species"],
        outputs["model_types"],
        outputs["gap_map"],
        outputs["time_to_translation"],
        translation_gap_html_out=outputs["translation_gap_html"],
        trials_in=inputs["trials"],
        time_to_trial_out=outputs["time_to_trial"],
        data_cutoff=config["review"]["data_cutoff"],
        trials_html_out=outputs["trials_html"],
        vocabulary_in=inputs["vocabulary"],
    )
    write_tables(
        inputs["studies"],
        config,
        outputs["tables_csv"],
        outputs["tables_md"],
        outputs["tables_html"],
    )
    build_prisma(
        raw_dir,
        inputs["studies"],
        config,
        outputs["prisma_csv"],
        outputs["prisma_png"],
        outputs.get("prisma_svg"),  # only with figures: {svg: true}
        outputs["prisma_problems"],
        figure_cache,
    )
    synthesis = meta_analyses(
        inputs["studies"],
        inputs["vocabulary"],
        config,
        {name: outputs[name] for name in SYNTHESIS_OUTPUTS},
        svg=svg,
        figure_cache=figure_cache,
    )
    write_changes(
        inputs["baseline"],
        {
            "studies.csv": inputs["published"],
            "trials.csv": inputs["trials_csv"],
            "translation_gap.csv": outputs["translation_gap"],
            "synthesis/pooled.csv": outputs["pooled"],
        },
        config["baseline"],
        config,
        outputs["changes_csv"],
        outputs["changes_headlines"],
        outputs["changes_md"],
        outputs["changes_html"],
    )
    write_workbook_file(
        inputs["studies"],
        inputs["ledger"],
        config,
        outputs["xlsx"],
        trials_in=inputs["trials"],
        vocabulary_in=inputs["vocabulary"],
        changes_in=outputs["changes_csv"],
        prisma_in=outputs["prisma_csv"],
        digest_out=outputs["digest"],
        synthesis=synthesis,
        gap_map_outputs={k: v for k, v in outputs.items() if k.startswith(f"{GAP_MAP}_")},
        shards_in=inputs["shards"],
    )
    write_validation_report(
        inputs["ledger"],
        [outputs["prisma_problems"], outputs["synthesis_problems"]],
        outputs["report_md"],
        outputs["report_html"],
        on_invalid,
    )


def keep_edited_workbook(xlsx: str, digest_file: str, *, only_new: bool = False) -> str | None:
    """Before a build: a workbook edited since the build wrote it is copied aside, as
    ``<name>.edited-<12 hex digits of its SHA-256>.xlsx`` beside it (the same edits, the same
    name; other edits never overwrite it). Returns what to tell the user, or None (with
    ``only_new``, also None when that copy was there already).
    """
    workbook, recorded = Path(xlsx), Path(digest_file)
    if not workbook.is_file() or not recorded.is_file():
        return None
    data = workbook.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest == recorded.read_text(encoding="utf-8").strip():
        return None
    kept = workbook.with_name(f"{workbook.stem}.edited-{digest[:12]}{workbook.suffix}")
    if kept.exists() and only_new:
        return None
    if not kept.exists():
        kept.write_bytes(data)
    return (
        f"exosynth: {workbook.as_posix()} was edited after it was built: kept as "
        f"{kept.as_posix()} (read its changes: exosynth review-returned {kept.as_posix()})"
    )


def write_evidence_map(
    studies_in: str, trials_in: str, config: dict, html_out: str, vocabulary_in: str | None = None
) -> None:
    """The evidence map (rule figures): :func:`exosynth.outputs.evidence_map.evidence_map_page`
    into its file;
    the vocabulary's condition groups group the trials' conditions as they did the studies',
    and ``quality.low_risk_items`` of the config define low risk of bias."""
    from exosynth.analysis_groups import AnalysisGroups
    from exosynth.outputs.evidence_map import evidence_map_page
    from exosynth.settings import load_yaml, source_tables

    review = (config.get("review") or {}).get("citation")
    page = evidence_map_page(
        pl.read_parquet(studies_in),
        pl.read_parquet(trials_in),
        source_tables(config),
        AnalysisGroups.from_mapping(load_yaml(vocabulary_in)) if vocabulary_in else None,
        review=" ".join(review.split()) if review else None,
        low_risk_items=config["quality"]["low_risk_items"],
    )
    Path(html_out).write_text(page, encoding="utf-8")
    log.info("evidence map %s: %d bytes", html_out, len(page.encode("utf-8")))


def draw_figures(
    studies_in: str,
    config: dict,
    top_conditions: int,
    outputs: dict[str, str],
    trials_in: str | None = None,
    vocabulary_in: str | None = None,
) -> None:
    """Each figure as PNG (and SVG where asked), with the numbers it drew as CSV next to it.

    ``outputs`` maps ``<figure>_png`` and ``<figure>_csv``, and ``<figure>_svg`` when the
    config asks for SVG (``figures: {svg: true}``), to paths: the figures drawn are those of
    :data:`exosynth.outputs.figures.FIGURE_NAMES` (and the trial timeline) it names (rule
    figures leaves out the evidence gap map: rule workbook draws it, :data:`GAP_MAP`).
    Without an SVG path, an SVG an earlier build left beside the PNG is removed: results/
    never holds a picture of other numbers.
    ``trial_timeline_note`` is the sentence the timeline's caption includes (what it leaves
    off its time axis).
    """
    from exosynth.outputs import figures
    from exosynth.outputs.words import Words
    from exosynth.settings import load_yaml, source_tables

    trials = pl.read_parquet(trials_in) if trials_in is not None else None
    vocabulary = load_yaml(vocabulary_in) if vocabulary_in is not None else None
    tables = source_tables(config)
    drawn = figures.draw_all(
        pl.read_parquet(studies_in),
        tables,
        top_conditions,
        trials=trials,
        words=Words.of(config, vocabulary),
        names={key.removesuffix("_png") for key in outputs if key.endswith("_png")},
    )
    for name, (fig, frame) in drawn.items():
        _save_figure(name, fig, frame, outputs)
        log.info("figure %s: %d rows of numbers drawn", name, frame.height)
    note = outputs.get("trial_timeline_note")
    if note:
        timeline = drawn[figures.TRIAL_TIMELINE][1] if figures.TRIAL_TIMELINE in drawn else None
        Path(note).write_text(figures.undated_caption(timeline, tables), encoding="utf-8")


def draw_figures_and_quality(
    inputs: Mapping[str, str],
    config: dict,
    top_conditions: int,
    outputs: dict[str, str],
    *,
    figure_cache: str | None = None,
) -> None:
    """Rule figures: :func:`draw_figures`, then :func:`assess_quality` (its numbers and
    figures), one after the other in one process that imports matplotlib once, then
    :func:`write_evidence_map` (a job start costs more than the page at a small corpus).

    ``inputs`` (studies, trials, vocabulary) and ``outputs`` are the rule's, by keyword
    (workflow/scripts/figures.py); ``config`` holds the sources, review, quality and
    synthesis settings; ``figure_cache`` is the folder of the figure cache."""
    draw_figures(
        inputs["studies"],
        config,
        top_conditions,
        outputs,
        trials_in=inputs["trials"],
        vocabulary_in=inputs["vocabulary"],
    )
    assess_quality(
        inputs["studies"],
        config,
        outputs,
        vocabulary_in=inputs["vocabulary"],
        figure_cache=figure_cache,
    )
    write_evidence_map(
        inputs["studies"],
        inputs["trials"],
        config,
        outputs["evidence_map"],
        vocabulary_in=inputs["vocabulary"],
    )


def build_registered_trials(
    exports: Sequence[str],
    decisions: Sequence[str],
    decisions_schema: str,
    trial_vocabulary: str,
    trial_vocabulary_schema: str,
    vocabulary: str,
    vocabulary_schema: str,
    config: dict,
    csv_out: str,
    parquet_out: str,
    problems_out: str,
    ledger_out: str,
) -> None:
    """Rule trials: every registry export of raw/trials/ into one row per trial.

    The rows that could be read are written; the bad rows are problems (the report lists
    them and the gate, rule publish, stops the build on them unless on_invalid is exclude).
    ``decisions`` is raw/trials/decisions.yaml, or nothing when there is no such file.
    """
    from exosynth.settings import load_yaml, source_tables, validate_against
    from exosynth.trials.classify import TrialVocabulary
    from exosynth.trials.decisions import load_decisions
    from exosynth.trials.merge import build_trials
    from exosynth.vocabulary import Vocabulary

    terms = TrialVocabulary.from_mapping(
        validate_against(load_yaml(trial_vocabulary), trial_vocabulary_schema, trial_vocabulary)
    )
    words = Vocabulary.from_mapping(
        validate_against(load_yaml(vocabulary), vocabulary_schema, vocabulary)
    )
    decision_file = decisions[0] if decisions else ""
    chosen, problems = load_decisions(
        decision_file, decisions_schema, set(words.source_terms.values())
    )
    result = build_trials(
        [(path, Path(path).read_bytes()) for path in exports],
        terms,
        words,
        source_order=[t.key for t in source_tables(config)],
        decisions=chosen,
        decision_file=decision_file,
    )
    problems.extend(result.problems)
    result.trials.write_csv(csv_out)
    result.trials.write_parquet(parquet_out)
    write_problems(problems, problems_out)
    write_json(result.ledger, ledger_out)
    log.info(
        "trials: %d exports, %d rows read, %d included, %d rejected, %d trials, %d problems",
        result.ledger["exports"],
        result.ledger["rows_read"],
        result.ledger["included"],
        result.ledger["rejected"],
        result.trials.height,
        len(problems),
    )


# The figure rule workbook draws (its PNG is the workbook's picture); rule figures the rest.
GAP_MAP = "evidence_gap_map"


def _save_figure(
    name: str,
    fig: Any,
    frame: pl.DataFrame,
    outputs: Mapping[str, str],
    *,
    cache: Any = None,
    draw: Callable[..., Any] | None = None,
    args: Sequence[Any] = (),
) -> None:
    """A figure's PNG, its SVG where the config asks for one (``<name>_svg`` in ``outputs``;
    an SVG of an earlier build is removed otherwise), and the CSV of the numbers drawn.

    ``fig`` is the figure drawn, or None with ``draw(*args)`` to draw it, its picture taken
    from ``cache`` (an :class:`exosynth.outputs.figure_cache.FigureCache`) where it holds it."""
    from exosynth.outputs import figures
    from exosynth.outputs.figure_cache import FigureCache

    (cache or FigureCache(None)).save(
        figures.render,
        draw or (lambda: fig),
        args,
        outputs[f"{name}_png"],
        outputs.get(f"{name}_svg"),
    )
    frame.write_csv(outputs[f"{name}_csv"])


def assess_quality(
    studies_in: str,
    config: dict,
    outputs: dict[str, str],
    *,
    vocabulary_in: str | None = None,
    figure_cache: str | None = None,
) -> None:
    """Rule quality: risk of bias, EV characterisation, dose and route per study and source,
    the low-risk sensitivity analysis (:func:`exosynth.synthesis.quality.assess`), its two
    figures, the HTML page of the sensitivity table and the Markdown summary.

    ``outputs`` maps each name of :data:`exosynth.synthesis.quality.QUALITY_NUMBERS` to its
    CSV, ``<figure>_png``/``_csv`` (and ``_svg``) for each figure, ``sensitivity_html`` and
    ``summary_md``. With ``vocabulary_in``, the pooled effects are pooled again over the
    studies at low risk of bias, as rule workbook pools them (``pooled_sensitivity``).
    ``figure_cache`` (a folder) keeps the figures' pictures for the next build
    (:mod:`exosynth.outputs.figure_cache`).
    """
    from exosynth.outputs import quality_figures
    from exosynth.outputs.figure_cache import FigureCache
    from exosynth.outputs.quality_report import sensitivity_html, summary_markdown
    from exosynth.settings import source_tables
    from exosynth.synthesis.quality import assess

    tables = source_tables(config)
    numbers = assess(
        pl.read_parquet(studies_in),
        tables,
        config["quality"]["low_risk_items"],
        pool=(lambda s: _synthesis(s, vocabulary_in, config).pooled) if vocabulary_in else None,
    )
    for name, frame in numbers.items():
        frame.write_csv(outputs[name])
    cache = FigureCache(figure_cache, "quality")
    specs = quality_figures.figure_specs(numbers, tables)
    for name, (figure, args, frame) in specs.items():
        _save_figure(name, None, frame, outputs, cache=cache, draw=figure, args=args)
    cache.prune()
    log.info(
        "quality figures: %d drawn, %d from the figure cache", cache.drawn, len(specs) - cache.drawn
    )
    Path(outputs["sensitivity_html"]).write_text(
        sensitivity_html(numbers["sensitivity"], tables, numbers["pooled_sensitivity"]),
        encoding="utf-8",
    )
    Path(outputs["summary_md"]).write_text(
        summary_markdown(numbers["assessment"], numbers["sensitivity"], tables), encoding="utf-8"
    )
    everything = numbers["assessment"].filter(pl.col("source") == "all").row(0, named=True)
    log.info(
        "risk of bias: assessed %d, not assessed: %d",
        everything["n_assessed"],
        everything["n_not_assessed"],
    )


# -- literature: the PRISMA flow and the changes since a baseline (exosynth.literature) ------
def build_prisma(
    raw_dir: str,
    studies_in: str,
    config: dict,
    csv_out: str,
    png_out: str,
    svg_out: str | None,
    problems_out: str,
    figure_cache: str | None = None,
) -> None:
    """The PRISMA flow (rule workbook) from the inbox's import logs and drafts and the studies.

    The flow diagram as PNG, and as SVG where ``svg_out`` is given (``figures: {svg: true}``);
    without it, an SVG of an earlier build beside the PNG is removed. ``figure_cache`` is the
    folder of the figure cache (:mod:`exosynth.outputs.figure_cache`).
    """
    from exosynth.corpus import INBOX_FOLDER
    from exosynth.literature import flow_diagram, prisma
    from exosynth.literature.screening import read_logs, screen_inbox
    from exosynth.outputs.figure_cache import FigureCache

    inbox = Path(raw_dir) / INBOX_FOLDER
    reasons = config["literature"]["exclusion_reasons"]
    logs = read_logs(inbox)
    states, problems = screen_inbox(inbox, reasons)
    studies = pl.read_parquet(studies_in, columns=["id", "source", "review_row"])
    moved = dict(studies.select("id", "source").iter_rows())
    previous = studies.filter(pl.col("review_row").is_not_null()).height
    counts = prisma.count(logs, states, moved, previous)
    problems += prisma.check(counts, logs)
    labels = {**reasons, **{k: v.get("label", k) for k, v in config["sources"].items()}}
    Path(csv_out).write_text(prisma.prisma_csv(counts, labels), encoding="utf-8")
    # The diagram, taken from the figure cache where the counts are those of the last build
    # (an added paper seldom changes them).
    cache = FigureCache(figure_cache, "prisma")
    cache.save(flow_diagram.render, flow_diagram.flow_figure, (counts, labels), png_out, svg_out)
    cache.prune()
    write_problems(problems, problems_out)
    log.info(
        "PRISMA: %d identified, %d screened, %d included; %s; the diagram %s",
        counts.identified_total,
        counts.screened,
        counts.new_studies,
        plural(len(problems), "problem"),
        "drawn" if cache.drawn else "from the figure cache",
    )


def materialize_baseline(baseline: str, commit: str, out_dir: str) -> None:
    """Rule baseline: :func:`exosynth.literature.baseline.materialize` into ``out_dir``."""
    from exosynth.literature.baseline import materialize

    copied = materialize(baseline, commit, Path(out_dir))
    log.info("baseline %s: %s", baseline, ", ".join(copied) or "no table")


def write_changes(
    baseline_dir: str,
    current: dict[str, str],
    baseline: str,
    config: dict,
    csv_out: str,
    headlines_out: str,
    md_out: str,
    html_out: str | None = None,
) -> None:
    """The changes (rule workbook): :func:`exosynth.literature.changes.compare` of the
    baseline and this build's tables (``current``: ``studies.csv`` etc. -> path), as CSV
    (changes, headline numbers), Markdown and, for the report, HTML."""
    from exosynth.literature import changes

    labels = {k: v.get("label", k) for k, v in config["sources"].items()}
    labels["unspecified"] = "Source not named (trials)"
    found, headlines = changes.compare(
        changes.read_results(baseline_dir), changes.read_tables(current)
    )
    Path(csv_out).write_text(changes.to_csv(found), encoding="utf-8")
    Path(headlines_out).write_text(changes.to_csv(headlines), encoding="utf-8")
    name = "the review's papers" if baseline == "review" else baseline
    text = changes.to_markdown(found, headlines, name, labels)
    Path(md_out).write_text(text, encoding="utf-8")
    if html_out:
        Path(html_out).write_text(changes.to_html(found, headlines, name, labels), encoding="utf-8")
    log.info("changes since %s: %d studies or trials", baseline, found.height)


# -- effect sizes and meta-analysis (exosynth.synthesis.analyses) -------------------------
def _synthesis(studies: pl.DataFrame, vocabulary: str, config: dict) -> Any:
    """The build's meta-analyses, by the study table's condition groups and the vocabulary's
    outcome synonyms."""
    from exosynth.analysis_groups import AnalysisGroups
    from exosynth.settings import load_yaml, source_tables
    from exosynth.synthesis.analyses import has_outcomes, synthesize

    if not has_outcomes(studies):
        return synthesize(studies)
    groups = AnalysisGroups.from_mapping(load_yaml(vocabulary))
    return synthesize(
        studies,
        synonyms=groups.outcome_labels,
        knha=knapp_hartung(config),
        source_order=[t.key for t in source_tables(config)],
    )


def knapp_hartung(config: dict) -> bool:
    return bool((config.get("synthesis") or {}).get("knapp_hartung", False))


# The files of the meta-analyses (rule workbook's outputs by these keywords).
SYNTHESIS_OUTPUTS = (
    "effects", "pooled", "cumulative", "egger", "meta_html", "meta_figures", "synthesis_problems",
)  # fmt: skip


def meta_analyses(
    studies_in: str,
    vocabulary: str,
    config: dict,
    outputs: Mapping[str, str],
    *,
    svg: bool = False,
    figure_cache: str | None = None,
) -> Any:
    """The meta-analyses (rule workbook): effects.csv, pooled.csv, the cumulative and Egger
    CSVs, the report's table and, per analysis, forest (+ funnel where >= 10 studies) and
    cumulative plots in the folder ``meta_figures`` (PNG, and SVG with ``svg``, as every
    figure: ``figures: {svg: true}``); the problems only the arithmetic finds
    (``Synthesis.notes``) for the validation report. ``outputs`` maps each name of
    :data:`SYNTHESIS_OUTPUTS` to its path. Returns the
    :class:`exosynth.synthesis.analyses.Synthesis`, for the workbook's sheets.

    Without outcome data it writes the headers and an empty figure folder, and draws nothing.
    The pictures of analyses whose numbers did not change come from ``figure_cache`` (a
    folder: :mod:`exosynth.outputs.figure_cache`)."""
    from exosynth.outputs.figure_cache import FigureCache
    from exosynth.outputs.meta_sheets import meta_analysis_html
    from exosynth.settings import source_tables
    from exosynth.synthesis.effects import effects_table
    from exosynth.synthesis.pooling import POOLED_COLUMNS

    studies = pl.read_parquet(studies_in)
    result = _synthesis(studies, vocabulary, config)
    effects_table(result.effects).write_csv(outputs["effects"])
    result.pooled.select(POOLED_COLUMNS).write_csv(outputs["pooled"])
    result.cumulative.write_csv(outputs["cumulative"])
    result.egger.write_csv(outputs["egger"])
    labels = {t.key: t.label for t in source_tables(config)}
    html = meta_analysis_html(result.pooled, labels)
    Path(outputs["meta_html"]).write_text(html, encoding="utf-8")
    folder = Path(outputs["meta_figures"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink()
    cache = FigureCache(figure_cache, "meta")
    if result.pooled.height:
        _draw_meta_figures(result, labels, folder, svg, cache)
    cache.prune()
    log.info("meta-analysis figures: %d drawn, the rest from the figure cache", cache.drawn)
    # What only the arithmetic finds (no spread, too few animals once a control is shared,
    # REML not converging): on the terminal, in the rule's log and, from the problems file, in
    # the validation report (the records' missing numbers are there from rule validate).
    for problem in result.notes:
        log.warning(problem.render())
        print(f"exosynth: warning: {problem.render()}", file=sys.stderr)
    write_problems(result.notes, outputs["synthesis_problems"])
    log.info(
        "synthesis: %s, %s",
        plural(result.effects.height, "comparison"),
        plural(result.n_analyses, "meta-analysis", "meta-analyses"),
    )
    return result


def _draw_meta_figures(
    result: Any, labels: dict[str, str], folder: Path, svg: bool, cache: Any
) -> None:
    from exosynth.outputs import figures, meta_figures
    from exosynth.synthesis import meta_figure_data as data

    def save(stem: str, figure: Callable[..., Any], *args: Any) -> None:
        svg_out = folder / f"{stem}.svg" if svg else None
        cache.save(figures.render, figure, args, folder / f"{stem}.png", svg_out)

    used = result.effects.filter(pl.col("used"))
    for condition, outcome in data.analyses(result.pooled):
        name = data.analysis_name(condition, outcome)
        title = f"{condition}: {outcome}"
        rows = data.forest_rows(used, result.pooled, condition, outcome, labels)
        note = data.heterogeneity_text(result.pooled, condition, outcome)
        save(f"forest--{name}", meta_figures.forest_figure, rows, title, note)
        rows.write_csv(folder / f"forest--{name}.csv")
        steps = data.cumulative_rows(result.cumulative, condition, outcome)
        save(
            f"cumulative--{name}",
            meta_figures.cumulative_figure,
            steps,
            f"Cumulative meta-analysis, {title}",
        )
        steps.write_csv(folder / f"cumulative--{name}.csv")
        if data.has_funnel(result.pooled, condition, outcome):
            points = data.funnel_points(used, condition, outcome)
            egger = result.egger.filter(
                (pl.col("condition") == condition)
                & (pl.col("outcome") == outcome)
                & (pl.col("measure") == data.MEASURE)
                & (pl.col("method") == data.METHOD)
            )
            overall = rows.filter(pl.col("kind") == "overall")["estimate"].item()
            egger_note = (
                f"Egger's test: {egger['test'].item()} = {egger['statistic'].item():.2f}, "
                f"p = {egger['p'].item():.3f}"
                if egger.height
                else "Egger's test: not estimable"
            )
            save(
                f"funnel--{name}",
                meta_figures.funnel_figure,
                points,
                overall,
                f"Funnel plot, {title}",
                egger_note,
            )
            points.write_csv(folder / f"funnel--{name}.csv")
