from exosynth.adapters import check_records, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    check_records(
        snakemake.input.shards,
        snakemake.input.problems,
        snakemake.input.vocabulary,
        snakemake.input.vocabulary_schema,
        {"sources": snakemake.params.sources},
        snakemake.params.raw_dir,
        snakemake.output.studies,
        snakemake.output.ledger,
        trial_problems_in=snakemake.input.trial_problems,
        trial_ledger_in=snakemake.input.trial_ledger,
        drafts=snakemake.params.drafts,
    )
