from exosynth.rules import logged, validate_shards

with logged(snakemake.log[0], snakemake.rule):
    validate_shards(snakemake.input.shards, snakemake.output.records, snakemake.output.problems)
