# exosynth: raw study records -> validated, normalized studies -> statistics and tables.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


wildcard_constraints:
    shard=r"\d+",


rule all:
    input:
        "results/validation_report.md",
        "results/studies.csv",
        "results/studies.parquet",
        "results/translation_gap.csv",


rule ingest:
    """Parse each raw file of one shard safely and check it against the JSON Schema."""
    input:
        files=shard_files,
        schema="schemas/study.schema.json",
    output:
        records="results/interim/ingest/shard-{shard}.parquet",
        problems="results/interim/ingest/shard-{shard}.problems.json",
    log:
        "results/logs/ingest/shard-{shard}.log",
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "workflow/scripts/ingest.py"


rule validate:
    """Check the records against each other: unique ids, DOIs and PMIDs, evidence rules."""
    input:
        shards=expand("results/interim/ingest/shard-{shard}.parquet", shard=SHARDS),
    output:
        records="results/interim/validated.parquet",
        problems="results/interim/validate.problems.json",
    log:
        "results/logs/validate.log",
    resources:
        mem_mb=2000,
    script:
        "workflow/scripts/validate.py"


rule normalize:
    """Map source, species and model type to codes; one row per study."""
    input:
        records="results/interim/validated.parquet",
        vocabulary=VOCABULARY,
        vocabulary_schema="schemas/vocabulary.schema.yaml",
    output:
        studies="results/interim/studies.parquet",
        problems="results/interim/normalize.problems.json",
    params:
        raw_dir=RAW_DIR,
    log:
        "results/logs/normalize.log",
    resources:
        mem_mb=2000,
    script:
        "workflow/scripts/normalize.py"


rule report:
    """The ledger of files read, included and rejected, and every problem, by file."""
    input:
        records="results/interim/validated.parquet",
        studies="results/interim/studies.parquet",
        problems=[
            *expand("results/interim/ingest/shard-{shard}.problems.json", shard=SHARDS),
            "results/interim/validate.problems.json",
            "results/interim/normalize.problems.json",
        ],
    output:
        report="results/validation_report.md",
        ledger="results/validation.json",
    params:
        raw_dir=RAW_DIR,
    log:
        "results/logs/report.log",
    script:
        "workflow/scripts/report.py"


rule stats:
    """Translation-gap statistics per source, species and model mix, the evidence gap map."""
    input:
        studies="results/studies.parquet",
    output:
        translation_gap="results/translation_gap.csv",
        species="results/stats/species_by_source.csv",
        model_types="results/stats/model_type_by_source.csv",
        gap_map="results/stats/evidence_gap_map.csv",
        time_to_translation="results/stats/time_to_translation.csv",
    log:
        "results/logs/stats.log",
    script:
        "workflow/scripts/stats.py"


rule publish:
    """The gate: publish the study table, or stop the build listing every problem."""
    input:
        studies="results/interim/studies.parquet",
        ledger="results/validation.json",
        report="results/validation_report.md",
    output:
        csv="results/studies.csv",
        parquet="results/studies.parquet",
    params:
        on_invalid=config["on_invalid"],
    log:
        "results/logs/publish.log",
    script:
        "workflow/scripts/publish.py"
