# exosynth: raw study records -> validated, normalized studies -> statistics, tables, figures.
from snakemake.utils import min_version

min_version("9.12")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/trials.smk"


# `snakemake --report results/report.html`: this text, then every output marked report().
report: "workflow/report/workflow.rst"


wildcard_constraints:
    shard=r"\d+",


rule all:
    input:
        "results/validation_report.md",
        "results/validation_report.html",
        "results/studies.csv",
        "results/studies.parquet",
        "results/summary.json",
        "results/summary.rst",
        "results/translation_gap.csv",
        "results/translation_gap.html",
        "results/trials.csv",
        "results/trials.parquet",
        "results/trials.html",
        expand("results/tables/table{n}.{ext}", n=TABLES, ext=["csv", "md", "html"]),
        "results/exosynth.xlsx",
        expand(
            "results/figures/{name}.{ext}",
            name=[*WORKBOOK_FIGURES, *FIGURES],
            ext=[*FIGURE_FORMATS, "csv"],
        ),
        "results/figures/trial_timeline_note.rst",
        expand("results/quality/{name}.csv", name=QUALITY_NUMBERS),
        "results/quality/sensitivity.html",
        "results/quality/summary.md",
        expand("results/figures/{name}.{ext}", name=QUALITY_FIGURES, ext=[*FIGURE_FORMATS, "csv"]),
        "results/prisma.csv",
        expand("results/figures/prisma_flow.{ext}", ext=FIGURE_FORMATS),
        "results/changes.csv",
        "results/changes.md",
        "results/evidence_map.html",
        expand("results/synthesis/{name}.csv", name=SYNTHESIS_TABLES),
        "results/synthesis/meta_analysis.html",
        META_FIGURES,


rule ingest:
    """Parse each raw file of one shard safely and check it against the JSON Schema."""
    input:
        schema="schemas/study.schema.json",
    output:
        records="results/interim/ingest/shard-{shard}.parquet",
        problems="results/interim/ingest/shard-{shard}.problems.json",
    log:
        "results/logs/ingest/shard-{shard}.log",
    benchmark:
        "results/benchmarks/ingest/shard-{shard}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        raw_dir=RAW_DIR,
        shards=len(SHARDS),
        # The raw files enter as one digest per shard, not as 100,000 inputs (README).
        raw_files=shard_fingerprint,
        # Each file's row as last parsed: only the files whose bytes changed are parsed again.
        # Not an output (Snakemake removes a job's outputs before it runs); deleting it only
        # costs the time of a full parse.
        cache=f"{PARSE_CACHE}/shard-{{shard}}.parquet",
    script:
        "workflow/scripts/ingest.py"


rule validate:
    """Check the records against each other, map them to codes (one row per study), and write
    the ledger of files read, included and rejected, with every problem, by file.

    One job for the stages validate, normalize and ledger (a rule is a unit of caching, not
    of logic: each stage stays a module of its own). It succeeds with invalid records too,
    so the ledger survives a failed build; the gate is rule publish, the report the last
    stage of rule workbook (with what the stages after the gate found).
    """
    input:
        shards=expand("results/interim/ingest/shard-{shard}.parquet", shard=SHARDS),
        problems=expand("results/interim/ingest/shard-{shard}.problems.json", shard=SHARDS),
        vocabulary=VOCABULARY,
        vocabulary_schema="schemas/vocabulary.schema.yaml",
        trial_problems="results/interim/trials.problems.json",
        trial_ledger="results/interim/trials.ledger.json",
    output:
        # The ledger: the end of a failed build keeps it, with the report (onerror below).
        ledger="results/validation.json",
        studies=STUDY_TABLE,
    log:
        "results/logs/validate.log",
    benchmark:
        "results/benchmarks/validate.tsv"
    threads: 2
    resources:
        mem_mb=2000,
    params:
        raw_dir=RAW_DIR,
        sources=config["sources"],
        # The ledger counts the drafts of raw/inbox/ (added or removed ones rerun it).
        drafts=lambda wildcards: draft_count(RAW_DIR),
    script:
        "workflow/scripts/validate.py"


rule publish:
    """The gate: publish the study table and the build's summary, or stop the build.

    The rules after it read the study table beside it, not after it (so an added paper waits
    for one job start less); when the gate stops a build, onerror removes all they wrote.
    """
    input:
        studies=STUDY_TABLE,
        ledger=rules.validate.output.ledger,
        # The summary counts the registered trials too (written before rule validate).
        trials="results/trials.parquet",
    output:
        csv="results/studies.csv",
        parquet="results/studies.parquet",
        # The terminal's last line (onsuccess) and the HTML report's front page.
        summary="results/summary.json",
        front_page="results/summary.rst",
    log:
        "results/logs/publish.log",
    benchmark:
        "results/benchmarks/publish.tsv"
    # Started first of the jobs it runs beside: a failing gate stops the build at once (and the
    # rules beside it stop at their start, rules.after_the_gate).
    priority: 10
    threads: 1
    resources:
        mem_mb=1000,
    params:
        report=VALIDATION_REPORT,
        on_invalid=config["on_invalid"],
        sources=config["sources"],
        review=config["review"],
    script:
        "workflow/scripts/publish.py"


rule workbook:
    """The reviewer workbook (a sheet per table, the translation gap, the studies, risk of
    bias, vesicles and dosing, effect sizes and meta-analyses, the PRISMA flow, the changes,
    About), the files its sheets come from (the statistics, Tables 1..N, the PRISMA flow, the
    effect sizes and meta-analyses with their figures, the changes since the baseline), then
    the validation report with what these stages found.

    One job for seven stages, in this order (the changes read the translation gap and the
    pooled estimates, the workbook the changes, the flow and the meta-analyses, the report
    their problems): a rule is a unit of caching, not of logic, each stage stays a module of
    its own, and at a small corpus a job start costs more than their work.
    """
    input:
        studies=STUDY_TABLE,
        ledger=rules.validate.output.ledger,
        trials="results/trials.parquet",
        # The words of sources without a table and of species; the condition groups.
        vocabulary=VOCABULARY,
        # The changes compare the published tables with the baseline's.
        baseline="results/interim/baseline",
        published=rules.publish.output.csv,
        trials_csv="results/trials.csv",
        # The record files' SHA-256 (the Provenance sheet), as parsed: no file read again.
        shards=rules.validate.input.shards,
    output:
        # The PRISMA flow diagram as SVG too, only with figures: {svg: true} (FIGURE_FORMATS).
        **({"prisma_svg": "results/figures/prisma_flow.svg"} if "svg" in FIGURE_FORMATS else {}),
        # The evidence gap map figure, the workbook's picture too
        **figure_outputs(WORKBOOK_FIGURES),
        # Effect sizes and random-effects meta-analyses of the records' outcome data, per
        # condition group and outcome, overall and per source (exosynth.synthesis).
        **{name: f"results/synthesis/{name}.csv" for name in SYNTHESIS_TABLES},
        # The statistics
        translation_gap="results/translation_gap.csv",
        translation_gap_html=statistic("results/translation_gap.html", "translation_gap"),
        species=statistic("results/stats/species_by_source.csv", "species_by_source"),
        model_types=statistic("results/stats/model_type_by_source.csv", "model_type_by_source"),
        gap_map=statistic("results/stats/evidence_gap_map.csv", "evidence_gap_map_table"),
        time_to_translation=statistic(
            "results/stats/time_to_translation.csv", "time_to_translation"
        ),
        time_to_trial=statistic("results/stats/time_to_trial.csv", "time_to_trial"),
        # The registered trials as a table in the HTML report, in words.
        trials_html=report(
            "results/trials.html",
            caption="workflow/report/trials.rst",
            category="Tables",
            subcategory="Registered trials",
        ),
        # Tables 1..N with the review's columns: CSV for analysts, Markdown for manuscripts.
        tables_csv=expand("results/tables/table{n}.csv", n=TABLES),
        tables_md=expand("results/tables/table{n}.md", n=TABLES),
        tables_html=[evidence_table(n) for n in TABLES],
        # The PRISMA 2020 flow from the drafts of raw/inbox/ and their import logs: counts in
        # the PRISMA2020 data layout and the diagram.
        prisma_csv="results/prisma.csv",
        prisma_png=report(
            "results/figures/prisma_flow.png",
            caption="workflow/report/prisma_flow.rst",
            category="Literature",
            labels={"figure": "PRISMA flow", "format": "PNG"},
        ),
        prisma_problems="results/interim/prisma.problems.json",
        # Effect sizes and meta-analyses (tables above): their page, and a forest, cumulative
        # (and funnel) plot per analysis.
        meta_html=report(
            "results/synthesis/meta_analysis.html",
            caption="workflow/report/meta_analysis.rst",
            category="Meta-analysis",
        ),
        meta_figures=report(
            directory(META_FIGURES),
            patterns=["{name}.png"],
            caption="workflow/report/meta_analysis_figures.rst",
            category="Meta-analysis",
        ),
        # What only the arithmetic finds, for the validation report.
        synthesis_problems="results/interim/synthesis.problems.json",
        # Studies and trials added, removed and edited since the baseline; headline numbers.
        changes_csv="results/changes.csv",
        changes_headlines="results/changes_headlines.csv",
        changes_md="results/changes.md",
        changes_html=report(
            "results/changes.html",
            caption="workflow/report/changes.rst",
            category="Literature",
            labels={"table": "changes since the baseline"},
        ),
        xlsx="results/exosynth.xlsx",
        # The workbook's SHA-256: the next build keeps a copy edited in place (onstart).
        digest="results/interim/exosynth.xlsx.sha256",
        # The validation report: the ledger of rule validate and what the stages above found
        # (the drafts' screening, the PRISMA sums, the meta-analyses' notes). A stopped build
        # writes it from the ledger alone (onerror below). The Markdown report is the
        # terminal's pointer; Snakemake's report shows the HTML one in the page.
        report_md=VALIDATION_REPORT,
        report_html=report(
            "results/validation_report.html",
            caption="workflow/report/validation_report.rst",
            category="Validation",
        ),
    log:
        "results/logs/workbook.log",
    benchmark:
        "results/benchmarks/workbook.tsv"
    # Waits for the gate's published table (the changes read it): started right after it.
    priority: 5
    threads: 1
    resources:
        mem_mb=2000,
    params:
        on_invalid=config["on_invalid"],
        # Titles, footnotes and the review as params: editing them in the config rebuilds
        # the tables (and removes those of a source no longer configured).
        sources=config["sources"],
        review=config["review"],
        synthesis=config["synthesis"],
        baseline=BASELINE,
        literature=config["literature"],
        raw_dir=RAW_DIR,
        # The drafts and import logs of raw/inbox/: a decision re-draws the flow.
        inbox=inbox_fingerprint,
        svg=config["figures"]["svg"],
        # The pictures an added paper does not change: the flow diagram, the meta-analyses'.
        figure_cache=FIGURE_CACHE,
    script:
        "workflow/scripts/workbook.py"


rule figures:
    """Figures of the evidence from the study table, the quality of the studies (risk of
    bias (SYRCLE), EV characterisation, dose and route per study and source, the translation
    gap over the studies at low risk of bias beside all, with robvis-style figures; each
    figure's numbers as CSV), and the evidence map: one self-contained page to explore
    studies and registered trials.

    One job for the three stages (each a module of its own): the first two draw with
    matplotlib, whose import costs more than the quality stage's work at a small corpus, and
    a job start costs more than the evidence map's page.
    """
    input:
        studies=STUDY_TABLE,
        ledger=rules.validate.output.ledger,
        trials="results/trials.parquet",
        # The words of species and of sources without a table; the condition groups and
        # outcome synonyms of the low-risk meta-analyses, and of the map's trials.
        vocabulary=VOCABULARY,
    output:
        **figure_outputs(FIGURES),
        **{name: f"results/quality/{name}.csv" for name in QUALITY_NUMBERS},
        **figure_outputs(QUALITY_FIGURES, category="Quality"),
        # What the trial timeline leaves off its time axis, included by its caption.
        trial_timeline_note="results/figures/trial_timeline_note.rst",
        # The quality of the studies (exosynth.synthesis.quality)
        sensitivity_html=report(
            "results/quality/sensitivity.html",
            caption="workflow/report/sensitivity.rst",
            category="Quality",
        ),
        summary_md="results/quality/summary.md",
        evidence_map=report(
            "results/evidence_map.html",
            caption="workflow/report/evidence_map.rst",
            category="Evidence map",
        ),
    log:
        "results/logs/figures.log",
    benchmark:
        "results/benchmarks/figures.tsv"
    # The longest job beside the gate at a small corpus (matplotlib): started first after it.
    priority: 5
    threads: 1
    resources:
        mem_mb=1000,
    params:
        report=VALIDATION_REPORT,
        on_invalid=config["on_invalid"],
        sources=config["sources"],
        # The review's citation heads the evidence map.
        review=config["review"],
        top_conditions=config["figures"]["top_conditions"],
        # The items that define low risk of bias colour the map too: a change re-runs it.
        quality=config["quality"],
        synthesis=config["synthesis"],
        # Switching SVG off re-runs the job, which removes the SVGs of the earlier builds.
        svg=config["figures"]["svg"],
        # The quality figures' pictures an added paper does not change.
        figure_cache=FIGURE_CACHE,
    script:
        "workflow/scripts/figures.py"


# Literature in: the baseline of the changes (rule workbook compares this build with it).
include: "workflow/rules/literature.smk"


# -- the end of a build (helpers in workflow/rules/common.smk) ----------------------------
onstart:
    # A workbook edited in place since the build wrote it is kept aside, never overwritten.
    from exosynth.adapters import keep_edited_workbook

    kept = keep_edited_workbook(rules.workbook.output.xlsx, rules.workbook.output.digest)
    if kept:
        print(kept, file=sys.stderr, flush=True)
        say_last(kept)


onsuccess:
    say_summary()
    cancel_rate_timers()


onerror:
    # A failed build leaves no deliverable, none from this build nor from an earlier one, so
    # results/ never mixes old and new; the validation report stays when it is current.
    from exosynth.adapters import clean_after_failure, keep_edited_workbook

    # Before removing an edited workbook: kept aside (by onstart, unless it failed before)
    kept = keep_edited_workbook(
        rules.workbook.output.xlsx, rules.workbook.output.digest, only_new=True
    )
    if kept:
        say_last(kept)
    say_last(
        clean_after_failure(
            deliverables(),
            [str(p) for p in validation_report()],
            [str(p) for p in rules.validate.input],
            config["on_invalid"],
            [rules.workbook.output.prisma_problems, rules.workbook.output.synthesis_problems],
        )
    )
    cancel_rate_timers()
