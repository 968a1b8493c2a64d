from exosynth.rules import logged, publish_studies

with logged(snakemake.log[0], snakemake.rule):
    publish_studies(
        snakemake.input.studies,
        snakemake.input.ledger,
        snakemake.input.report,
        snakemake.params.on_invalid,
        snakemake.output.csv,
        snakemake.output.parquet,
    )
