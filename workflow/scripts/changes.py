from exosynth.adapters import logged, write_changes

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    write_changes(
        snakemake.input.baseline,
        {
            "studies.csv": snakemake.input.studies,
            "trials.csv": snakemake.input.trials,
            "translation_gap.csv": snakemake.input.translation_gap,
            "synthesis/pooled.csv": snakemake.input.pooled,
        },
        snakemake.params.baseline,
        {"sources": snakemake.params.sources},
        snakemake.output.csv,
        snakemake.output.headlines,
        snakemake.output.md,
        snakemake.output.html,
    )
