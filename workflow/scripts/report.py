from exosynth.rules import logged, write_report

with logged(snakemake.log[0], snakemake.rule):
    write_report(
        snakemake.input.records,
        snakemake.input.studies,
        snakemake.input.problems,
        snakemake.params.raw_dir,
        snakemake.output.report,
        snakemake.output.ledger,
        html_out=snakemake.output.html,
        on_invalid=snakemake.params.on_invalid,
        trial_problems_in=snakemake.input.trial_problems,
        trial_ledger_in=snakemake.input.trial_ledger,
    )
