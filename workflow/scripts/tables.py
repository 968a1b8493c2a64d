from exosynth.adapters import after_the_gate, logged, write_tables_and_workbook

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.input.report)
    write_tables_and_workbook(
        dict(snakemake.input.items()),
        {
            "sources": snakemake.params.sources,
            "review": snakemake.params.review,
            "synthesis": snakemake.params.synthesis,
            "baseline": snakemake.params.baseline,
        },
        dict(snakemake.output.items()),
        data_cutoff=snakemake.params.review["data_cutoff"],
    )
