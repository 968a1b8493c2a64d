from exosynth.rules import logged, write_tables

with logged(snakemake.log[0], snakemake.rule):
    write_tables(
        snakemake.input.studies,
        {"sources": snakemake.params.sources, "review": snakemake.params.review},
        snakemake.output.csv,
        snakemake.output.md,
        snakemake.output.html,
    )
