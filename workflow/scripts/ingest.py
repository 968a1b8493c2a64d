from exosynth.adapters import ingest_shard, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    ingest_shard(
        snakemake.params.raw_dir,
        int(snakemake.wildcards.shard),
        snakemake.params.shards,
        snakemake.input.schema,
        snakemake.output.records,
        snakemake.output.problems,
        cache_file=snakemake.params.cache,
    )
