from exosynth.adapters import after_the_gate, logged, meta_analyses

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    meta_analyses(
        snakemake.input.studies,
        snakemake.input.vocabulary,
        {"sources": snakemake.params.sources, "synthesis": snakemake.params.synthesis},
        snakemake.output.effects,
        snakemake.output.pooled,
        snakemake.output.cumulative,
        snakemake.output.egger,
        snakemake.output.html,
        snakemake.output.figures,
        snakemake.output.problems,
        svg=snakemake.params.svg,
    )
