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

from exosynth.problems import Problem, errors, plural, read_problems, warnings, write_problems

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
        "ingested %s: %d accepted, %s",
        plural(records.height, "file"),
        records["accepted"].sum(),
        plural(len(problems), "problem"),
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
    log.info(
        "validated %s: %s",
        plural(records.height, "record"),
        plural(len(problems), "cross-record problem"),
    )


def normalize_records(
    records_in: str,
    vocabulary: str,
    vocabulary_schema: str,
    config: dict,
    raw_dir: str,
    studies_out: str,
    problems_out: str,
) -> None:
    from exosynth.normalize import check_contract, normalize
    from exosynth.settings import load_yaml, source_tables, validate_against
    from exosynth.vocabulary import Vocabulary

    terms = Vocabulary.from_mapping(
        validate_against(load_yaml(vocabulary), vocabulary_schema, vocabulary)
    )
    studies, problems = normalize(
        pl.read_parquet(records_in), terms, source_tables(config), raw_dir
    )
    check_contract(studies).write_parquet(studies_out)
    write_problems(problems, problems_out)
    log.info(
        "normalized %s: %s",
        plural(studies.height, "study", "studies"),
        plural(len(problems), "vocabulary problem"),
    )


def write_report(
    records_in: str,
    studies_in: str,
    problems_in: Sequence[str],
    raw_dir: str,
    report_out: str,
    ledger_out: str,
) -> None:
    from exosynth.report import ledger, render_markdown

    problems = read_problems(*problems_in)
    summary = ledger(pl.read_parquet(records_in), pl.read_parquet(studies_in), problems, raw_dir)
    write_json(summary, ledger_out)
    Path(report_out).write_text(render_markdown(summary), encoding="utf-8")
    log.info(
        "records read %d, included %d, rejected %d, %s",
        summary["files_read"],
        summary["included"],
        summary["rejected"],
        plural(summary["warnings"], "warning"),
    )


def render_list(problems: Sequence[Problem], limit: int = 50) -> str:
    """Problems one per line, indented, at most ``limit`` of them and a count of the rest."""
    shown = "\n".join(f"  {p.render()}" for p in problems[:limit])
    more = f"\n  ... and {len(problems) - limit:,} more" if len(problems) > limit else ""
    return shown + more


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
    """The gate: publish the normalized table, or stop the build listing every problem.

    Warnings (a model type the vocabulary cannot place) never stop the build; they are
    printed either way, so the terminal says what the report says.
    """
    summary = json.loads(Path(ledger_in).read_text(encoding="utf-8"))
    found = [Problem(**p) for p in summary["problems"]]
    problems, cautions = errors(found), warnings(found)
    if cautions:
        message = f"exosynth: {plural(len(cautions), 'warning')} (the build goes on):\n" + (
            render_list(cautions, limit)
        )
        log.warning(message)
        print(message, file=sys.stderr)
    if problems and on_invalid == "fail":
        message = (
            f"exosynth: {summary['rejected']} of {plural(summary['files_read'], 'raw file')} "
            f"{'is' if summary['rejected'] == 1 else 'are'} invalid "
            f"({plural(len(problems), 'problem')}):\n{render_list(problems, limit)}\n"
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
        "published %s (%s left out)",
        plural(studies.height, "study", "studies"),
        plural(summary["rejected"], "rejected file"),
    )


def compute_statistics(
    studies_in: str,
    config: dict,
    translation_gap_out: str,
    species_out: str,
    model_types_out: str,
    gap_map_out: str,
    time_to_translation_out: str,
) -> None:
    from exosynth import stats
    from exosynth.settings import source_tables

    studies = pl.read_parquet(studies_in)
    tables = source_tables(config)
    gap = stats.translation_gap(studies, tables)
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


def write_workbook_file(studies_in: str, ledger_in: str, config: dict, xlsx_out: str) -> None:
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
    picture, _ = figures.evidence_gap_map_figure(evidence_gap_map(studies, sources), sources)
    tables = [(t, table_rows(studies, t)) for t in sources]
    write_workbook(
        xlsx_out,
        tables,
        gap,
        studies,
        about_rows(config, summary, __version__),
        gap_map_png=figures.render(picture, "png"),
    )
    log.info(
        "workbook %s: %d table sheets, %d studies, %d translation-gap rows",
        xlsx_out,
        len(tables),
        studies.height,
        gap.height,
    )


def draw_figures(
    studies_in: str, config: dict, top_conditions: int, outputs: dict[str, str]
) -> None:
    """Each figure as PNG and SVG, with the numbers it drew as CSV next to it.

    ``outputs`` maps ``<figure>_png``, ``<figure>_svg`` and ``<figure>_csv`` to paths
    for every name in :data:`exosynth.figures.FIGURE_NAMES`.
    """
    from exosynth import figures
    from exosynth.settings import source_tables

    drawn = figures.draw_all(pl.read_parquet(studies_in), source_tables(config), top_conditions)
    for name, (fig, frame) in drawn.items():
        figures.save(fig, outputs[f"{name}_png"], outputs[f"{name}_svg"])
        frame.write_csv(outputs[f"{name}_csv"])
        log.info("figure %s: %d rows of numbers drawn", name, frame.height)
