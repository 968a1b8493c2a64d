"""The file I/O of each Snakemake rule: read inputs, call a stage, write outputs.

``workflow/scripts/*.py`` bind ``snakemake.input``/``output``/``params`` to these
functions; the stages themselves take data and return data.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from exosynth.problems import Problem, errors, read_problems, write_problems

log = logging.getLogger("exosynth")


@contextmanager
def logged(log_file: str | Path, rule: str) -> Iterator[logging.Logger]:
    """Send the rule's log to its ``log:`` file; an exception is logged before it propagates."""
    handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    start = time.perf_counter()
    try:
        yield log
    except Exception:
        log.exception("rule %s failed", rule)
        raise
    else:
        log.info("rule %s done in %.2f s", rule, time.perf_counter() - start)
    finally:
        log.removeHandler(handler)
        handler.close()


def write_json(data: Any, path: str | Path) -> None:
    Path(path).write_text(
        json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8"
    )


def ingest_shard(
    raw_dir: str, shard: int, shards: int, schema: str, records_out: str, problems_out: str
) -> None:
    from exosynth.corpus import discover_raw_files, shard_files
    from exosynth.ingest import ingest, read_raw, study_validator

    files = shard_files(discover_raw_files(raw_dir), shard, shards)
    records, problems = ingest(read_raw(files), study_validator(schema))
    records.write_parquet(records_out)
    write_problems(problems, problems_out)
    log.info(
        "ingested %d files: %d accepted, %d problems",
        records.height,
        records["accepted"].sum(),
        len(problems),
    )


def validate_shards(shards: Sequence[str], records_out: str, problems_out: str) -> None:
    from exosynth.ingest import RECORD_SCHEMA
    from exosynth.validate import validate_records

    records = (
        pl.concat([pl.read_parquet(p) for p in shards])
        if shards
        else pl.DataFrame(schema=RECORD_SCHEMA)
    )
    records, problems = validate_records(records)
    records.write_parquet(records_out)
    write_problems(problems, problems_out)
    log.info("validated %d records: %d cross-record problems", records.height, len(problems))


def normalize_records(
    records_in: str,
    vocabulary: str,
    vocabulary_schema: str,
    config: dict,
    raw_dir: str,
    studies_out: str,
    problems_out: str,
) -> None:
    from exosynth.normalize import normalize
    from exosynth.settings import load_yaml, source_tables, validate_against
    from exosynth.vocabulary import Vocabulary

    terms = Vocabulary.from_mapping(
        validate_against(load_yaml(vocabulary), vocabulary_schema, vocabulary)
    )
    studies, problems = normalize(
        pl.read_parquet(records_in), terms, source_tables(config), raw_dir
    )
    studies.write_parquet(studies_out)
    write_problems(problems, problems_out)
    log.info("normalized %d studies: %d vocabulary problems", studies.height, len(problems))


def write_report(
    records_in: str,
    studies_in: str,
    problems_in: Sequence[str],
    raw_dir: str,
    report_out: str,
    ledger_out: str,
    trial_problems_in: str | None = None,
    trial_ledger_in: str | None = None,
) -> None:
    from exosynth.report import add_trials, ledger, render_markdown

    problems = read_problems(*problems_in)
    summary = ledger(pl.read_parquet(records_in), pl.read_parquet(studies_in), problems, raw_dir)
    if trial_ledger_in is not None and trial_problems_in is not None:
        trial_ledger = json.loads(Path(trial_ledger_in).read_text(encoding="utf-8"))
        summary = add_trials(summary, trial_ledger, read_problems(trial_problems_in))
    write_json(summary, ledger_out)
    Path(report_out).write_text(render_markdown(summary), encoding="utf-8")
    log.info(
        "files read %d, included %d, rejected %d",
        summary["files_read"],
        summary["included"],
        summary["rejected"],
    )


class InvalidRecords(SystemExit):
    """Raised to stop the build when records are invalid and on_invalid is "fail"."""


def publish_studies(
    studies_in: str,
    ledger_in: str,
    report: str,
    on_invalid: str,
    csv_out: str,
    parquet_out: str,
    *,
    limit: int = 50,
) -> None:
    """The gate: publish the normalized table, or stop the build listing every problem."""
    summary = json.loads(Path(ledger_in).read_text(encoding="utf-8"))
    problems = errors(Problem(**p) for p in summary["problems"])
    if problems and on_invalid == "fail":
        shown = "\n".join(f"  {p.render()}" for p in problems[:limit])
        more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
        message = (
            f"exosynth: {summary['rejected']} of {summary['files_read']} raw files are invalid "
            f"({len(problems)} problems):\n{shown}{more}\n"
            f"Every problem is listed in {report}. Fix the files, or set on_invalid: exclude "
            f"in config/config.yaml to build without them."
        )
        log.error(message)
        print(message, file=sys.stderr)
        raise InvalidRecords(1)
    studies = pl.read_parquet(studies_in)
    studies.write_csv(csv_out)
    studies.write_parquet(parquet_out)
    log.info(
        "published %d studies (%d rejected files left out)", studies.height, summary["rejected"]
    )


def compute_statistics(
    studies_in: str,
    config: dict,
    translation_gap_out: str,
    species_out: str,
    model_types_out: str,
    gap_map_out: str,
    time_to_translation_out: str,
    trials_in: str | None = None,
    time_to_trial_out: str | None = None,
    data_cutoff: str = "",
) -> None:
    from exosynth import stats
    from exosynth.settings import source_tables

    studies = pl.read_parquet(studies_in)
    tables = source_tables(config)
    gap = stats.translation_gap(studies, tables)
    if trials_in is not None:  # the registered trials beside the studies (rule trials)
        trials = pl.read_parquet(trials_in)
        gap = stats.translation_gap_with_trials(studies, tables, trials)
        if time_to_trial_out is not None:
            stats.time_to_trial(studies, trials, tables, data_cutoff).write_csv(time_to_trial_out)
    gap.write_csv(translation_gap_out)
    stats.species_by_source(studies, tables).write_csv(species_out)
    stats.model_type_by_source(studies, tables).write_csv(model_types_out)
    stats.evidence_gap_map(studies, tables).write_csv(gap_map_out)
    stats.time_to_translation(studies).write_csv(time_to_translation_out)
    log.info("statistics of %d studies in %d sources", studies.height, gap.height - 1)


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


def write_tables(
    studies_in: str, config: dict, csv_out: Sequence[str], md_out: Sequence[str]
) -> None:
    """Tables 1..N as CSV (for analysts) and Markdown (for manuscripts and diffs)."""
    from exosynth.export import table_csv, table_markdown, table_rows
    from exosynth.settings import source_tables

    studies = pl.read_parquet(studies_in)
    tables = source_tables(config)
    numbers = [t.table for t in tables]
    csv_paths = _outputs_by_table(csv_out, numbers, "csv")
    md_paths = _outputs_by_table(md_out, numbers, "md")
    for table in tables:
        rows = table_rows(studies, table)
        Path(csv_paths[table.table]).write_bytes(table_csv(rows))
        Path(md_paths[table.table]).write_bytes(table_markdown(rows, table).encode("utf-8"))
        log.info("table %d (%s): %d studies", table.table, table.key, rows.height)


def write_workbook_file(
    studies_in: str, ledger_in: str, config: dict, xlsx_out: str, trials_in: str | None = None
) -> None:
    """The reviewer workbook, with an About sheet saying what it was built from.

    The translation gap and the evidence gap map are computed from the study table by
    the functions rules stats and figures use, so the workbook (the slowest output at
    scale) need not wait for those rules.
    """
    from exosynth import __version__, figures
    from exosynth.export import about_rows, table_rows, write_workbook
    from exosynth.settings import source_tables
    from exosynth.stats import evidence_gap_map, translation_gap

    studies = pl.read_parquet(studies_in)
    summary = json.loads(Path(ledger_in).read_text(encoding="utf-8"))
    sources = source_tables(config)
    gap = translation_gap(studies, sources)
    trials = pl.read_parquet(trials_in) if trials_in is not None else None
    if trials is not None:  # the trial columns and the unspecified row (exosynth.stats)
        from exosynth.stats import translation_gap_with_trials

        gap = translation_gap_with_trials(studies, sources, trials)
    picture, _ = figures.evidence_gap_map_figure(evidence_gap_map(studies, sources), sources)
    tables = [(t, table_rows(studies, t)) for t in sources]
    write_workbook(
        xlsx_out,
        tables,
        gap,
        studies,
        about_rows(config, summary, __version__, trials=trials is not None),
        gap_map_png=figures.render(picture, "png"),
        trials=trials,
    )
    log.info(
        "workbook %s: %d table sheets, %d studies, %d translation-gap rows",
        xlsx_out,
        len(tables),
        studies.height,
        gap.height,
    )


def draw_figures(
    studies_in: str,
    config: dict,
    top_conditions: int,
    outputs: dict[str, str],
    trials_in: str | None = None,
) -> None:
    """Each figure as PNG and SVG, with the numbers it drew as CSV next to it.

    ``outputs`` maps ``<figure>_png``, ``<figure>_svg`` and ``<figure>_csv`` to paths
    for every name in :data:`exosynth.figures.FIGURE_NAMES`.
    """
    from exosynth import figures
    from exosynth.settings import source_tables

    trials = pl.read_parquet(trials_in) if trials_in is not None else None
    drawn = figures.draw_all(
        pl.read_parquet(studies_in), source_tables(config), top_conditions, trials=trials
    )
    for name, (fig, frame) in drawn.items():
        figures.save(fig, outputs[f"{name}_png"], outputs[f"{name}_svg"])
        frame.write_csv(outputs[f"{name}_csv"])
        log.info("figure %s: %d rows of numbers drawn", name, frame.height)


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
    from exosynth import trials
    from exosynth.settings import load_yaml, source_tables, validate_against
    from exosynth.vocabulary import Vocabulary

    terms = trials.TrialVocabulary.from_mapping(
        validate_against(load_yaml(trial_vocabulary), trial_vocabulary_schema, trial_vocabulary)
    )
    words = Vocabulary.from_mapping(
        validate_against(load_yaml(vocabulary), vocabulary_schema, vocabulary)
    )
    chosen: dict = {}
    problems: list[Problem] = []
    decision_file = decisions[0] if decisions else ""
    if decision_file:
        from exosynth.settings import ConfigError

        try:
            raw = validate_against(load_yaml(decision_file) or {}, decisions_schema, decision_file)
        except ConfigError as error:  # a decision file the schema rejects: a problem, not a crash
            problems.append(
                Problem(
                    file=decision_file,
                    line=None,
                    field="decisions",
                    message=str(error).replace("\n", " "),
                    hint=f"see {decisions_schema}",
                    stage=trials.STAGE,
                    code="trials.decisions",
                )
            )
            raw = {}
        chosen, found = trials.read_decisions(raw, decision_file, set(words.source_terms.values()))
        problems.extend(found)
    result = trials.build_trials(
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
