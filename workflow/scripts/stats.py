from exosynth.adapters import after_the_gate, compute_statistics, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    compute_statistics(
        snakemake.input.studies,
        {"sources": snakemake.params.sources},
        snakemake.output.translation_gap,
        snakemake.output.species,
        snakemake.output.model_types,
        snakemake.output.gap_map,
        snakemake.output.time_to_translation,
        translation_gap_html_out=snakemake.output.translation_gap_html,
        trials_in=snakemake.input.trials,
        time_to_trial_out=snakemake.output.time_to_trial,
        data_cutoff=snakemake.params.data_cutoff,
        trials_html_out=snakemake.output.trials_html,
        vocabulary_in=snakemake.input.vocabulary,
    )
