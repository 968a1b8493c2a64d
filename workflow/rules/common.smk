# Helpers of the Snakefile: configuration checks and the raw-file listing.
import functools

from snakemake.utils import validate
import yaml

from exosynth.corpus import discover_raw_files, shard_of
from exosynth.settings import source_tables

# Config and vocabulary are checked against their schemas before any rule runs.
validate(config, "../../schemas/config.schema.yaml")
VOCABULARY = config["vocabulary"]
with open(VOCABULARY, encoding="utf-8") as handle:
    validate(yaml.safe_load(handle), "../../schemas/vocabulary.schema.yaml")

RAW_DIR = config["raw_dir"]
SHARDS = list(range(config["shards"]))
TABLES = [t.table for t in source_tables(config)]


@functools.cache
def raw_files_by_shard():
    """Raw files grouped into stable shards; listed once, when the DAG first asks."""
    groups = {shard: [] for shard in SHARDS}
    for path in discover_raw_files(RAW_DIR):
        groups[shard_of(path, len(SHARDS))].append(path)
    return groups


def shard_files(wildcards):
    return raw_files_by_shard()[int(wildcards.shard)]
