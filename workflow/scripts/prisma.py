from exosynth.adapters import after_the_gate, build_prisma, logged

with logged(snakemake.log[0], snakemake.rule, exit_when_done=True):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.params.report)
    build_prisma(
        snakemake.params.raw_dir,
        snakemake.input.studies,
        {"sources": snakemake.params.sources, "literature": snakemake.params.literature},
        snakemake.output.csv,
        snakemake.output.png,
        dict(snakemake.output.items()).get("svg"),  # only with figures: {svg: true}
        snakemake.output.problems,
    )
