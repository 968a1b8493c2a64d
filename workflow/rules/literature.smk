# Literature in: the PRISMA flow from the drafts of raw/inbox/ and their import logs, and the
# baseline's tables that rule tables compares this build's with (the changes since the baseline
# of config/config.yaml; exosynth.literature). Included from the Snakefile after rule validate;
# its helpers (BASELINE, inbox_fingerprint, baseline_inputs) are in common.smk.
rule prisma:
    """The PRISMA 2020 flow: counts in the PRISMA2020 data layout and the flow diagram."""
    input:
        studies=STUDY_TABLE,
        ledger=rules.validate.output.ledger,
        report=rules.validate.output.report,
    output:
        # SVG as the other figures: only with figures: {svg: true} (FIGURE_FORMATS, common.smk).
        **({"svg": "results/figures/prisma_flow.svg"} if "svg" in FIGURE_FORMATS else {}),
        csv="results/prisma.csv",
        png=report(
            "results/figures/prisma_flow.png",
            caption="../report/prisma_flow.rst",
            category="Literature",
            labels={"figure": "PRISMA flow", "format": "PNG"},
        ),
        problems="results/interim/prisma.problems.json",
    log:
        "results/logs/prisma.log",
    benchmark:
        "results/benchmarks/prisma.tsv"
    # Rule tables (the workbook) waits for its CSV: started right after the gate.
    priority: 5
    threads: 1
    resources:
        mem_mb=1000,
    params:
        raw_dir=RAW_DIR,
        inbox=inbox_fingerprint,
        on_invalid=config["on_invalid"],
        sources=config["sources"],
        literature=config["literature"],
        svg=config["figures"]["svg"],
    script:
        "../scripts/prisma.py"


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
