from exosynth.adapters import after_the_gate, build_prisma, logged

with logged(snakemake.log[0], snakemake.rule):
    after_the_gate(snakemake.input.ledger, snakemake.params.on_invalid, snakemake.input.report)
    build_prisma(
        snakemake.params.raw_dir,
        snakemake.input.studies,
        {"sources": snakemake.params.sources, "literature": snakemake.params.literature},
        snakemake.output.csv,
        snakemake.output.png,
        snakemake.output.svg,
        snakemake.output.problems,
    )
