from exosynth.rules import draw_figures, logged

with logged(snakemake.log[0], snakemake.rule):
    draw_figures(
        snakemake.input.studies,
        {"sources": snakemake.params.sources},
        snakemake.params.top_conditions,
        dict(snakemake.output.items()),
        trials_in=snakemake.input.trials,
    )
