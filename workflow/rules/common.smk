# Helpers of the Snakefile: configuration checks and the raw-file listing.
import functools

from snakemake.utils import validate
import yaml

from exosynth.corpus import fingerprint, scan_raw_files, shard_of
from exosynth.settings import source_tables
from exosynth.vocabulary import Vocabulary

# Config and vocabulary are checked against their schemas before any rule runs.
validate(config, "../../schemas/config.schema.yaml")
VOCABULARY = config["vocabulary"]
with open(VOCABULARY, encoding="utf-8") as handle:
    _terms = yaml.safe_load(handle)
validate(_terms, "../../schemas/vocabulary.schema.yaml")
Vocabulary.from_mapping(_terms)  # a spelling claimed by two codes stops the run here

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


# The figures of rule figures (exosynth.figures), each as PNG, SVG and the numbers drawn as CSV.
FIGURES = ["evidence_gap_map", "condition_map", "translation_funnel", "species_mix", "model_mix"]
FIGURES.append("trial_timeline")  # registered trials (workflow/rules/trials.smk)


def figure_file(name, ext):
    """A figure file; the pictures go into the HTML report, each with its caption."""
    path = f"results/figures/{name}.{ext}"
    if ext == "csv":
        return path
    return report(
        path,
        caption=f"workflow/report/{name}.rst",
        category="Figures",
        labels={"figure": name.replace("_", " "), "format": ext.upper()},
    )


def statistic(path, caption):
    """A statistics table, shown in the HTML report under Tables / Statistics.

    Caption paths are relative to the Snakefile, where the rules calling this are.
    """
    return report(path, caption=f"workflow/report/{caption}.rst", category="Tables", subcategory="Statistics")


def evidence_table(number):
    """Table N as CSV, held in the HTML report under Tables / Evidence tables."""
    return report(
        f"results/tables/table{number}.csv",
        caption="workflow/report/evidence_table.rst",
        category="Tables",
        subcategory="Evidence tables",
        labels={"table": f"Table {number}"},
    )
