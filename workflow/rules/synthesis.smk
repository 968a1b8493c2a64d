# Effect sizes and random-effects meta-analyses of the records' outcome data (issue 21).


rule synthesis:
    """Effect sizes (Hedges' g, normalized mean difference) and random-effects meta-analyses
    per condition group and outcome, overall and per source, with their figures."""
    input:
        studies=STUDY_TABLE,
        ledger=rules.validate.output.ledger,
        vocabulary=VOCABULARY,
    output:
        effects="results/synthesis/effects.csv",
        pooled="results/synthesis/pooled.csv",
        cumulative="results/synthesis/cumulative.csv",
        egger="results/synthesis/egger.csv",
        html=report(
            "results/synthesis/meta_analysis.html",
            caption="../report/meta_analysis.rst",
            category="Meta-analysis",
        ),
        figures=report(
            directory("results/figures/meta_analysis"),
            patterns=["{name}.png"],
            caption="../report/meta_analysis_figures.rst",
            category="Meta-analysis",
        ),
        # What only the arithmetic finds, for the validation report (rule validation_report).
        problems="results/interim/synthesis.problems.json",
    log:
        "results/logs/synthesis.log",
    benchmark:
        "results/benchmarks/synthesis.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        report=VALIDATION_REPORT,
        on_invalid=config["on_invalid"],
        sources=config["sources"],
        synthesis=config["synthesis"],
        # Switching SVG off re-runs the job, which clears the folder of the earlier SVGs.
        svg=config["figures"]["svg"],
    script:
        "../scripts/synthesis.py"
