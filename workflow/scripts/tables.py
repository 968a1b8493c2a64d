from exosynth.adapters import after_the_gate, logged, write_tables

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    write_tables(
        snakemake.input.studies,
        {"sources": snakemake.params.sources, "review": snakemake.params.review},
        snakemake.output.csv,
        snakemake.output.md,
        snakemake.output.html,
    )
