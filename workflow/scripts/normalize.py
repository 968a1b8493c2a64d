from exosynth.rules import logged, normalize_records

with logged(snakemake.log[0], snakemake.rule):
    normalize_records(
        snakemake.input.records,
        snakemake.input.vocabulary,
        snakemake.input.vocabulary_schema,
        {"sources": snakemake.params.sources},
        snakemake.params.raw_dir,
        snakemake.output.studies,
        snakemake.output.problems,
    )
