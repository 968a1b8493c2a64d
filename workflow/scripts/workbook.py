from exosynth.adapters import after_the_gate, logged, write_workbook_file

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    write_workbook_file(
        snakemake.input.studies,
        snakemake.input.ledger,
        {
            "sources": snakemake.params.sources,
            "review": snakemake.params.review,
            "synthesis": snakemake.params.synthesis,
        },
        snakemake.output.xlsx,
        trials_in=snakemake.input.trials,
        vocabulary_in=snakemake.input.vocabulary,
        changes_in=snakemake.input.changes,
        prisma_in=snakemake.input.prisma,
        digest_out=snakemake.output.digest,
    )
