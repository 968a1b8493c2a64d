from exosynth.rules import logged, write_workbook_file

with logged(snakemake.log[0], snakemake.rule):
    write_workbook_file(
        snakemake.input.studies,
        snakemake.input.ledger,
        {"sources": snakemake.params.sources, "review": snakemake.params.review},
        snakemake.output.xlsx,
        trials_in=snakemake.input.trials,
    )
