# Helpers of the Snakefile: configuration checks and the raw-file listing.
import atexit
import functools
import glob
import os
import sys
import threading

from snakemake.utils import validate

from exosynth import terminal
from exosynth.corpus import (
    PARSE_CACHE,
    draft_count,
    fingerprint,
    inbox_files,
    scan_raw_files,
    shard_of,
)
from exosynth.literature.baseline import baseline_commit, baseline_source
from exosynth.settings import load_yaml, source_tables
from exosynth.analysis_groups import AnalysisGroups
from exosynth.vocabulary import Vocabulary

# Config and vocabulary are checked against their schemas before any rule runs. Snakemake reads
# the config files with a loader that keeps the last of two equal keys, so they are read again
# here with the one that refuses them (as the records are).
for _configfile in workflow.configfiles:
    load_yaml(_configfile)
validate(config, "../../schemas/config.schema.yaml")
VOCABULARY = config["vocabulary"]
_terms = load_yaml(VOCABULARY)
validate(_terms, "../../schemas/vocabulary.schema.yaml")
Vocabulary.from_mapping(_terms)  # a spelling claimed by two codes stops the run here
AnalysisGroups.from_mapping(_terms)  # so does a condition or outcome spelling of two groups

RAW_DIR = config["raw_dir"]
SHARDS = list(range(config["shards"]))
TABLES = [t.table for t in source_tables(config)]


@functools.cache
def raw_files_by_shard():
    """Raw files grouped into stable shards; listed once, when the DAG first asks."""
    groups = {shard: [] for shard in SHARDS}
    for raw_file in scan_raw_files(RAW_DIR):
        groups[shard_of(raw_file[0], len(SHARDS))].append(raw_file)
    return groups


def shard_fingerprint(wildcards):
    """The shard's file names, sizes and times as one digest (exosynth.corpus.fingerprint)."""
    return fingerprint(raw_files_by_shard()[int(wildcards.shard)])


# The figures of rule figures (exosynth.outputs.figures), each as PNG (SVG too where the config
# asks for it) and the numbers drawn as CSV.
FIGURES = ["condition_map", "translation_funnel", "species_mix", "model_mix"]
FIGURES.append("trial_timeline")  # registered trials (workflow/rules/trials.smk)
# The figure rule workbook draws (its PNG is the workbook's picture too, drawn once for both).
WORKBOOK_FIGURES = ["evidence_gap_map"]
# results/synthesis/<name>.csv of rule workbook (exosynth.adapters.SYNTHESIS_OUTPUTS names
# them with the rest of the meta-analyses' outputs), and the folder of their figures.
SYNTHESIS_TABLES = ["effects", "pooled", "cumulative", "egger"]
META_FIGURES = "results/figures/meta_analysis"


# The picture formats of every figure, here only: PNG always (the HTML report shows it), SVG
# when the config asks for it (`figures: {svg: true}`). Each figure's numbers are CSV besides.
FIGURE_FORMATS = ["png", "svg"] if config["figures"]["svg"] else ["png"]


def figure_outputs(names, category="Figures"):
    """The outputs of a figures rule, by keyword: ``<name>_<ext>`` for each picture format
    (FIGURE_FORMATS) and the CSV of the numbers drawn; the pictures shown under ``category``
    in the HTML report."""
    return {
        f"{name}_{ext}": figure_file(name, ext, category)
        for name in names
        for ext in [*FIGURE_FORMATS, "csv"]
    }


def figure_file(name, ext, category="Figures"):
    """A figure file; the pictures go into the HTML report, each with its caption."""
    path = f"results/figures/{name}.{ext}"
    if ext == "csv":
        return path
    return report(
        path,
        caption=f"workflow/report/{name}.rst",
        category=category,
        labels={"figure": name.replace("_", " "), "format": ext.upper()},
    )


# The quality numbers and figures of rule figures (exosynth.synthesis.quality, issue 22).
QUALITY_NUMBERS = [
    "risk_of_bias",
    "risk_of_bias_summary",
    "sensitivity",
    "pooled_sensitivity",
    "assessment",
    "ev_characterisation",
    "ev_summary",
    "ev_terms",
    "routes",
    "doses",
]
QUALITY_FIGURES = ["risk_of_bias_traffic_light", "risk_of_bias_summary"]


def statistic(path, caption):
    """A statistics table, shown in the HTML report under Tables / Statistics.

    Caption paths are relative to the Snakefile, where the rules calling this are.
    """
    return report(
        path, caption=f"workflow/report/{caption}.rst", category="Tables", subcategory="Statistics"
    )


def evidence_table(number):
    """Table N as HTML, shown in the HTML report under Tables / Evidence tables."""
    return report(
        f"results/tables/table{number}.html",
        caption="workflow/report/evidence_table.rst",
        category="Tables",
        subcategory="Evidence tables",
        labels={"table": f"Table {number}"},
    )


# The pictures of the PRISMA flow, the quality figures and the meta-analyses as the last build
# drew them (exosynth.outputs.figure_cache): a param, not an output, like the parse cache.
FIGURE_CACHE = "results/interim/cache/figures"


# The study table as rule validate writes it. The statistics, tables, workbook and figures read
# it beside the gate (rule publish), not after it; when the gate stops a build, the end of the
# build (onerror) removes everything they wrote.
STUDY_TABLE = "results/interim/studies.parquet"
# The validation report (the last stage of rule workbook, after those it reports on); the
# rules beside the gate name it when they stop (a parameter: it is written after them).
VALIDATION_REPORT = "results/validation_report.md"


# -- the end of a build (the Snakefile's onsuccess and onerror) ---------------------------
def validation_report():
    """What a failed build keeps when it is current: the Markdown report (first), the JSON
    ledger (rule validate) and the HTML page (rule workbook, or the end of the build)."""
    return [
        rules.workbook.output.report_md,
        rules.validate.output.ledger,
        rules.workbook.output.report_html,
    ]


def deliverables():
    """Everything a build delivers after the gate, with any table<N>.* in results/tables/
    (also of a source no longer configured); the validation report apart (validation_report)."""
    kept = {str(path) for path in validation_report()}
    built = {
        str(path)
        for rule in (
            rules.publish,
            rules.workbook,
            rules.figures,
        )
        for path in rule.output
        if str(path) not in kept and str(path) != META_FIGURES
    }
    # The meta-analyses' figures in their folder (the folder itself stays).
    built.update(glob.glob(f"{META_FIGURES}/*"))
    built.update(glob.glob(f"{META_FIGURES}/.*"))  # Snakemake's timestamp
    # The trial table is a deliverable too, though rule trials writes it before the gate.
    built.update((rules.trials.output.csv, rules.trials.output.parquet))
    built.add(REPORT_HTML)
    built.update(glob.glob("results/tables/table*.*"))
    return sorted(built)


def say_last(line):
    """Print ``line`` as the build's very last line: Snakemake logs its own after the hooks."""
    atexit.register(print, line, file=sys.stderr, flush=True)


def cancel_rate_timers():
    """Let the build exit as soon as it is done, not a second later.

    Snakemake's job rate limit (--max-jobs-per-timespan, 100/1s by default) starts a
    non-daemon threading.Timer of one second after each round of scheduling, and the
    interpreter waits for the last one before it exits: about 1.1 s at the end of every
    build that runs a job (measured; a value in ms is read as minutes, so no setting of the
    option removes it). When the onsuccess or onerror hook runs the scheduler is finished and
    the timer has nothing left to wake, so cancelling it only removes the wait.
    """
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


REPORT_HTML = "results/report.html"  # written by `snakemake --report`, from the deliverables


def say_summary():
    """The build's last line (onsuccess, and a run with nothing to do: no hook runs then)."""
    from exosynth.adapters import finished_line

    if os.path.exists(rules.publish.output.summary):
        say_last(
            finished_line(
                rules.publish.output.summary,
                rules.workbook.output.xlsx,
                VALIDATION_REPORT,
                REPORT_HTML,
                rules.workbook.output.pooled,
                [rules.workbook.output.prisma_problems, rules.workbook.output.synthesis_problems],
            )
        )


# The terminal: one line per job, problems in full, then the summary (exosynth.terminal);
# `snakemake --config terminal=full` (or --verbose) shows Snakemake's own log, which
# .snakemake/log/ keeps in full either way.
terminal.install(
    full=config["terminal"] == "full" or bool(getattr(workflow.output_settings, "verbose", False)),
    on_nothing_to_do=say_summary,
)
# -- literature in (workflow/rules/literature.smk) ---------------------------------------
BASELINE = config["literature"]["baseline"]


def inbox_fingerprint(wildcards):
    """The drafts and import logs of raw/inbox/ as one digest: a decision re-draws the flow."""
    return fingerprint(inbox_files(RAW_DIR))


def baseline_inputs(wildcards):
    """The tables of a review or folder baseline (editing them rebuilds); none for git."""
    if BASELINE.startswith("git:"):
        return []
    folder = baseline_source(BASELINE)
    return sorted(glob.glob(f"{folder}/*.csv") + glob.glob(f"{folder}/results/*.csv"))
