from exosynth.adapters import logged, publish_studies

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    publish_studies(
        snakemake.input.studies,
        snakemake.input.ledger,
        snakemake.params.report,
        snakemake.params.on_invalid,
        snakemake.output.csv,
        snakemake.output.parquet,
        config={"sources": snakemake.params.sources, "review": snakemake.params.review},
        summary_out=snakemake.output.summary,
        front_page_out=snakemake.output.front_page,
        trials_in=snakemake.input.trials,
    )
