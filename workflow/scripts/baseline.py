from exosynth.adapters import logged, materialize_baseline

with logged(snakemake.log[0], snakemake.rule):
    materialize_baseline(snakemake.params.baseline, snakemake.params.commit, snakemake.output[0])
