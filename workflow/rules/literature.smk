# Literature in: the baseline's tables, which rule workbook compares this build's with (the
# changes since the baseline of config/config.yaml; exosynth.literature). Rule workbook also
# draws the PRISMA flow. Included from the Snakefile; its helpers (BASELINE, baseline_inputs,
# inbox_fingerprint) are in common.smk.
rule baseline:
    """The baseline's results tables: the review's, a folder's, or raw/ at a git commit built."""
    input:
        baseline_inputs,
    output:
        directory("results/interim/baseline"),
    log:
        "results/logs/baseline.log",
    benchmark:
        "results/benchmarks/baseline.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        baseline=BASELINE,
        commit=lambda wildcards: baseline_commit(BASELINE),
    script:
        "../scripts/baseline.py"
