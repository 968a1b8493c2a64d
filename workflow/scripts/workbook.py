from exosynth.adapters import after_the_gate, build_workbook, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    # The report it names is its own last output (written after the gate passed).
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.output.report_md)
    build_workbook(
        dict(snakemake.input.items()),
        {
            "sources": snakemake.params.sources,
            "review": snakemake.params.review,
            "synthesis": snakemake.params.synthesis,
            "baseline": snakemake.params.baseline,
            "literature": snakemake.params.literature,
        },
        dict(snakemake.output.items()),
        snakemake.params.raw_dir,
        on_invalid=snakemake.params.on_invalid,
        svg=snakemake.params.svg,
        figure_cache=snakemake.params.figure_cache,
    )
