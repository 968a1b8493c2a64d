from exosynth.adapters import after_the_gate, logged, write_evidence_map

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    write_evidence_map(
        snakemake.input.studies,
        snakemake.input.trials,
        {
            "sources": snakemake.params.sources,
            "review": snakemake.params.review,
            "quality": snakemake.params.quality,
        },
        snakemake.output.html,
        vocabulary_in=snakemake.input.vocabulary,
    )
