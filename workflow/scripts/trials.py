from exosynth.adapters import build_registered_trials, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    build_registered_trials(
        exports=list(snakemake.input.exports),
        decisions=list(snakemake.input.decisions),
        decisions_schema=snakemake.input.decisions_schema,
        trial_vocabulary=snakemake.input.trial_vocabulary,
        trial_vocabulary_schema=snakemake.input.trial_vocabulary_schema,
        vocabulary=snakemake.input.vocabulary,
        vocabulary_schema=snakemake.input.vocabulary_schema,
        config={"sources": snakemake.params.sources},
        csv_out=snakemake.output.csv,
        parquet_out=snakemake.output.parquet,
        problems_out=snakemake.output.problems,
        ledger_out=snakemake.output.ledger,
    )
