# Registered trials: the registry exports of raw/trials/ (exosynth.trials), the second evidence
# stream of the translation gap. Included from the Snakefile after common.smk.
import os

from exosynth.corpus import TRIAL_DECISIONS, TRIALS_FOLDER, trial_export_files
from exosynth.trials.classify import TrialVocabulary

# The trial vocabularies are checked against their schema before any rule runs, like
# config/vocabulary.yaml (a bad pattern or a spelling claimed twice stops the run here).
TRIAL_VOCABULARY = "config/trials.yaml"
_trial_terms = load_yaml(TRIAL_VOCABULARY)  # duplicate keys refused, as in every config file
validate(_trial_terms, "../../schemas/trials.schema.yaml")
TrialVocabulary.from_mapping(_trial_terms)

TRIALS_DIR = os.path.join(RAW_DIR, TRIALS_FOLDER)
TRIAL_DECISIONS_FILE = os.path.join(TRIALS_DIR, TRIAL_DECISIONS)
# A few exports at most: each is an input, so adding or editing one rebuilds the trials.
TRIAL_EXPORTS = trial_export_files(RAW_DIR)


rule trials:
    """Registry exports read by their header or JSON shape: one normalized row per trial."""
    input:
        exports=TRIAL_EXPORTS,
        decisions=[TRIAL_DECISIONS_FILE] if os.path.isfile(TRIAL_DECISIONS_FILE) else [],
        decisions_schema="schemas/trial_decisions.schema.yaml",
        trial_vocabulary=TRIAL_VOCABULARY,
        trial_vocabulary_schema="schemas/trials.schema.yaml",
        vocabulary=VOCABULARY,
        vocabulary_schema="schemas/vocabulary.schema.yaml",
    output:
        # Shown in the HTML report as results/trials.html (rule workbook), in words.
        csv="results/trials.csv",
        parquet="results/trials.parquet",
        problems="results/interim/trials.problems.json",
        ledger="results/interim/trials.ledger.json",
    log:
        "results/logs/trials.log",
    benchmark:
        "results/benchmarks/trials.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        sources=config["sources"],
    script:
        "../scripts/trials.py"
