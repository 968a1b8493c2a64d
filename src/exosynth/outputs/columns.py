"""The column dictionary: each published column's heading and meaning, shared by every output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from exosynth.outputs.words import Words

TABLE_COLUMNS = (
    "Condition",
    "In vitro study",
    "In vivo study (animal model / clinical use)",
    "Results",
    "Ref.",
)
TRANSLATION_GAP_SHEET = "Translation gap"
STUDIES_SHEET = "Studies"
TRIALS_SHEET = "Registered trials"
ABOUT_SHEET = "About"
ADDED_COLUMN = "Added since the review"  # the table sheets' mark of papers not in the review
YES, NO, NOT_REPORTED = "yes", "no", "NR"  # the one way a true/false value is shown to readers
PERCENT = "0.0%"  # shares are numbers (0.1) shown as 10.0%


@dataclass(frozen=True)
class Column:
    """A column of a CSV output as readers meet it: its heading in words and what it means."""

    label: str
    meaning: str
    number_format: str | None = None  # Excel number format; None: as the value comes
    # The kind of code the column holds (a map of exosynth.outputs.words): readers see words.
    values: str | None = None
    several: bool = False  # ";"-joined codes, each shown in words
    # For analysts more than readers: the workbook groups the column and folds it away (one
    # click shows it); folded, it does not print.
    detail: bool = False


# The one mapping from CSV column names to headings (workbook, HTML) and to the About sheet's
# data dictionary. A frame gaining a column (e.g. trial counts in the translation gap) gains
# an entry here; tests fail on a column without one.
COLUMNS: dict[str, dict[str, Column]] = {
    "translation_gap.csv": {
        "source": Column(
            "MSC source",
            "source code; the workbook shows its label from the config",
            values="source",
        ),
        "n_studies": Column("Studies", "included studies of the source"),
        "n_in_vitro": Column("In vitro", "studies with in vitro work"),
        "n_animal": Column("Animal", "studies with any animal model"),
        "n_clinical": Column("Clinical", "studies with use in people"),
        "clinical_share": Column(
            "Clinical share", "n_clinical / n_studies; empty without studies", PERCENT
        ),
        "clinical_share_ci_low": Column(
            "95% CI low", "lower bound of the clinical share's Wilson 95% interval", PERCENT
        ),
        "clinical_share_ci_high": Column(
            "95% CI high", "upper bound of the clinical share's Wilson 95% interval", PERCENT
        ),
        "translation_gap": Column(
            "Translation gap", "1 - clinical_share: the share that never reached people", PERCENT
        ),
        "n_in_vitro_nr": Column(
            "In vitro NR", "studies whose in vitro work is not reported (never counted as none)"
        ),
        "n_trials": Column("MSC-EV trials", "registered trials of MSC-EV products"),
        "n_trials_phase1": Column(
            "MSC-EV trials in phase 1", "MSC-EV trials in early phase 1, phase 1 or phase 1/2"
        ),
        "n_trials_phase2_plus": Column(
            "MSC-EV trials in phase 2 or later", "MSC-EV trials in phase 2, 2/3, 3 or 4"
        ),
        "n_trials_phase3_plus": Column(
            "MSC-EV trials in phase 3 or later", "MSC-EV trials in phase 3 or 4"
        ),
        "n_trials_no_phase": Column(
            "MSC-EV trials without a phase", "MSC-EV trials with no phase or not applicable"
        ),
        "n_secretome_trials": Column(
            "Secretome trials (not EV)", "trials of conditioned medium, secretome or lysate"
        ),
        "first_trial_year": Column(
            "First MSC-EV trial registered", "year the source's first MSC-EV trial was posted"
        ),
    },
    "trials.csv": {
        "trial_id": Column("Trial", "ClinicalTrials.gov id, NCT followed by 8 digits"),
        "title": Column("Title", "the trial's title as registered"),
        "ev_class": Column(
            "Product class",
            "msc_ev, msc_secretome or other (ev_rule says why)",
            values="ev_class",
        ),
        "source": Column(
            "MSC source",
            "source code, or unspecified where no tissue is named",
            values="source",
        ),
        "source_basis": Column(
            "Source from",
            "registry (text), product (list) or decision (the author's)",
            values="source_basis",
        ),
        "phase": Column(
            "Phase",
            "phase code (phase1, phase1_2, ...); empty where none given",
            values="phase",
        ),
        "status": Column("Status", "the registry's status in lower snake case", values="status"),
        "study_type": Column("Study type", "interventional, observational, ...", values="code"),
        "enrollment": Column("Enrollment", "participants, as registered"),
        "start_date": Column("Start", "start date, as precise as registered (YYYY-MM or date)"),
        "first_posted": Column("First posted", "date first posted"),
        "last_update": Column("Last update", "date of the last update posted", detail=True),
        "conditions": Column("Conditions", "conditions, '|'-joined"),
        "interventions": Column("Interventions", "interventions, '|'-joined"),
        "sponsor": Column("Sponsor", "the lead sponsor"),
        "secondary_ids": Column("Other ids", "secondary ids, '|'-joined", detail=True),
        "raw_files": Column("Exports", "every export file the trial was found in", detail=True),
        "first_submitted": Column(
            "First submitted", "date first submitted, where given", detail=True
        ),
        "primary_completion_date": Column(
            "Primary completion",
            "primary completion date (actual or anticipated), where given",
            detail=True,
        ),
        "completion_date": Column(
            "Completion", "study completion date (actual or anticipated), where given", detail=True
        ),
        "phase_registry": Column(
            "Phase as registered", "the phase as the export wrote it", detail=True
        ),
        "ev_rule": Column(
            "Class rule",
            "the config/trials.yaml rule that set the class",
            values="code",
            detail=True,
        ),
        "source_term": Column("Source named as", "the words that named the source", detail=True),
        "decision_reason": Column("Author's decision", "the reason of a decision, if any"),
    },
    "studies.csv": {
        "id": Column("Study id", "the record's id, its file name under raw/<source>/"),
        "source": Column(
            "MSC source",
            "source code (bone_marrow, adipose, umbilical_cord, ...)",
            values="source",
        ),
        "table": Column("Table", "table number from config/config.yaml", detail=True),
        "condition": Column("Condition", "disease or condition as the table shows it"),
        "in_vitro": Column(
            "In vitro", "true/false in the CSV, yes/no in the workbook (NR: not reported)"
        ),
        "in_vivo": Column("Animal models", "animal models with their species, '; '-joined"),
        "species": Column(
            "Species",
            "species codes, ';'-joined; human: use in people",
            values="species",
            several=True,
        ),
        "strain": Column("Strain", "strains or descriptors (nude, Sprague-Dawley), ';'-joined"),
        "model_type": Column(
            "Model type",
            "model type codes, ';'-joined; clinical: use in people",
            values="model_type",
            several=True,
        ),
        "stage": Column("Highest stage", "in_vitro < animal < clinical", values="stage"),
        "clinical_patients": Column("Patients", "patients treated; empty if no use in people"),
        "results": Column("Results", "main result as the table shows it"),
        "first_author": Column("First author", "surname of the first author"),
        "year": Column("Year", "year of publication"),
        "ref": Column("Ref. in review", "number in the review's reference list"),
        "doi": Column("DOI", "the paper's DOI", detail=True),
        "pmid": Column("PMID", "the paper's PubMed id", detail=True),
        "raw_file": Column("Raw file", "the record file the row came from", detail=True),
        "source_donor": Column(
            "MSC donor",
            "species the MSC came from (donor_species, or the source spelling)",
            values="species",
            detail=True,
        ),
        "model_induction": Column(
            "Model induction",
            "how disease models were induced (chemical, surgical...), ';'-joined",
            values="code",
            several=True,
            detail=True,
        ),
        "cited_in": Column(
            "Cited in",
            "for a paper known from another review's table: that review (DOI or URL)",
            detail=True,
        ),
        "cited_in_ref": Column(
            "Ref. there", "the paper's number in that review's table", detail=True
        ),
        "review_row": Column(
            "Row in review", "row in the review's table; empty: added since the review", detail=True
        ),
        "condition_group": Column(
            "Condition group",
            "the condition's group (conditions: in config/vocabulary.yaml); a condition no "
            "group claims is its own group. The analyses, maps and figures count by it",
        ),
    },
    "synthesis/effects.csv": {
        "study_id": Column("Study id", "the record's id"),
        "source": Column("MSC source", "source code; the workbook shows its label"),
        "condition": Column("Condition group", "the condition's group (config/vocabulary.yaml)"),
        "outcome": Column("Outcome", "the outcome as the paper names it"),
        "timepoint": Column("Timepoint", "as written in the record"),
        "treated": Column("Treated group", "the EV group's label (group 1, 2 ... if none)"),
        "n_control": Column("Control n", "animals in the control group"),
        "n_control_shared": Column(
            "Control n used", "control n divided by the treated groups it serves", "0.00"
        ),
        "n_treated": Column("Treated n", "animals in the treated group"),
        "smd": Column("Hedges' g", "standardized mean difference, positive: benefit", "0.000"),
        "smd_var": Column("Variance of g", "large-sample variance (metafor's default)", "0.0000"),
        "nmd": Column(
            "Normalized mean difference (%)", "share of the injury removed (needs a sham)", "0.0"
        ),
        "nmd_se": Column("SE of the normalized mean difference", "in percentage points", "0.0"),
    },
    "synthesis/pooled.csv": {
        "condition": Column("Condition group", "the condition's group (config/vocabulary.yaml)"),
        "outcome": Column("Outcome", "the outcome's synonym group, else its folded name"),
        "source": Column("MSC source", "source code or all; the workbook shows labels"),
        "measure": Column("Effect measure", "smd: Hedges' g; nmd: normalized mean difference"),
        "method": Column("Method", "REML or DL (DerSimonian-Laird) random effects"),
        "k_studies": Column("Studies", "studies pooled"),
        "k_comparisons": Column("Comparisons", "treated-vs-control comparisons pooled"),
        "estimate": Column("Pooled estimate", "random-effects estimate", "0.000"),
        "se": Column("Standard error", "of the pooled estimate", "0.000"),
        "ci_low": Column("95% CI low", "lower bound of the 95% confidence interval", "0.000"),
        "ci_high": Column("95% CI high", "upper bound of the 95% confidence interval", "0.000"),
        "p": Column("p", "two-sided p of the pooled estimate", "0.0000"),
        "tau2": Column("tau\u00b2", "between-study variance; empty for one comparison", "0.000"),
        "i2": Column("I\u00b2 (%)", "share of variation due to heterogeneity", "0.0"),
        "q": Column("Q", "Cochran's Q", "0.00"),
        "q_p": Column("p of Q", "p of the test of heterogeneity", "0.0000"),
        "pi_low": Column("95% prediction low", "prediction interval, lower bound", "0.000"),
        "pi_high": Column("95% prediction high", "prediction interval, upper bound", "0.000"),
        "subgroup_q": Column("Q between sources", "test of subgroup differences", "0.00"),
        "subgroup_df": Column("df between sources", "sources with an estimate - 1"),
        "subgroup_p": Column("p between sources", "p of the subgroup test", "0.0000"),
    },
}


def detail_headings(columns: Mapping[str, Column]) -> set[str]:
    """The headings of the columns for analysts (``Column.detail``), folded in the workbook."""
    return {c.label for c in columns.values() if c.detail}


def in_words(
    frame: pl.DataFrame, columns: Mapping[str, Column], words: Words | None = None
) -> tuple[pl.DataFrame, list[str | None]]:
    """A frame headed in words (:data:`COLUMNS`), codes in words (:mod:`exosynth.outputs.words`),
    with its number formats.

    Every column whose entry names the kind of code it holds is shown in words; a column
    without an entry keeps its name and values (a frame from elsewhere, e.g. a test's).
    """
    words = words or Words()
    coded = [c for c in frame.columns if c in columns and columns[c].values]
    if coded and frame.height:
        frame = frame.with_columns(
            words.column(frame[c].cast(pl.String), columns[c].values or "code",
                         several=columns[c].several)
            for c in coded
        )  # fmt: skip
    formats = [columns[c].number_format if c in columns else None for c in frame.columns]
    return frame.rename({c: columns[c].label for c in frame.columns if c in columns}), formats
