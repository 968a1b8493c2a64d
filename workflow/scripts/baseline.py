from exosynth.adapters import logged, materialize_baseline

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    materialize_baseline(snakemake.params.baseline, snakemake.params.commit, snakemake.output[0])
