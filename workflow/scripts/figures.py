from exosynth.adapters import after_the_gate, draw_figures_and_quality, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    draw_figures_and_quality(
        dict(snakemake.input.items()),
        {
            "sources": snakemake.params.sources,
            "review": snakemake.params.review,
            "quality": snakemake.params.quality,
            "synthesis": snakemake.params.synthesis,
        },
        snakemake.params.top_conditions,
        dict(snakemake.output.items()),
        figure_cache=snakemake.params.figure_cache,
    )
