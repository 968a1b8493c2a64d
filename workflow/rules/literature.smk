# Literature in: the PRISMA flow from the drafts of raw/inbox/ and their import logs, and what
# changed since the baseline of config/config.yaml (exosynth.literature). Included from the
# Snakefile after rule validate; its helpers (BASELINE, inbox_fingerprint, baseline_inputs) are
# in common.smk.
rule prisma:
    """The PRISMA 2020 flow: counts in the PRISMA2020 data layout and the flow diagram."""
    input:
        studies=STUDY_TABLE,
        ledger=rules.validate.output.ledger,
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
    threads: 1
    resources:
        mem_mb=1000,
    params:
        report=VALIDATION_REPORT,
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


rule changes:
    """Studies and trials added, removed and edited since the baseline; headline numbers."""
    input:
        baseline=rules.baseline.output[0],
        studies="results/studies.csv",
        trials="results/trials.csv",
        translation_gap="results/translation_gap.csv",
        # The pooled estimates (rule synthesis), compared where the baseline has them too.
        pooled="results/synthesis/pooled.csv",
    output:
        csv="results/changes.csv",
        headlines="results/changes_headlines.csv",
        md="results/changes.md",
        html=report(
            "results/changes.html",
            caption="../report/changes.rst",
            category="Literature",
            labels={"table": "changes since the baseline"},
        ),
    log:
        "results/logs/changes.log",
    benchmark:
        "results/benchmarks/changes.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        baseline=BASELINE,
        sources=config["sources"],
    script:
        "../scripts/changes.py"
