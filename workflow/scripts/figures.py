from exosynth.adapters import after_the_gate, draw_figures, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    draw_figures(
        snakemake.input.studies,
        {"sources": snakemake.params.sources},
        snakemake.params.top_conditions,
        dict(snakemake.output.items()),
        trials_in=snakemake.input.trials,
        vocabulary_in=snakemake.input.vocabulary,
    )
