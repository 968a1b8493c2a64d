from exosynth.adapters import logged, write_validation_report

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    write_validation_report(
        snakemake.input.ledger,
        [snakemake.input.prisma, snakemake.input.synthesis],
        snakemake.output.md,
        snakemake.output.html,
        snakemake.params.on_invalid,
    )
