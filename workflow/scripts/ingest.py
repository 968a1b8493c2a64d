from exosynth.rules import ingest_shard, logged

with logged(snakemake.log[0], snakemake.rule):
    ingest_shard(
        snakemake.input.files,
        snakemake.input.schema,
        snakemake.output.records,
        snakemake.output.problems,
    )
