from exosynth.adapters import after_the_gate, assess_quality, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    assess_quality(
        snakemake.input.studies,
        {
            "sources": snakemake.params.sources,
            "quality": snakemake.params.quality,
            "synthesis": snakemake.params.synthesis,
        },
        dict(snakemake.output.items()),
        vocabulary_in=snakemake.input.vocabulary,
    )
