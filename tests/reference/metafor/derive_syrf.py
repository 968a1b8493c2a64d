"""Derive the group table groups_syrf.csv from SyRF's quantitative export (run once, by hand).

    cd tests/reference/metafor && python derive_syrf.py
reads ../shared/literature/emma-wilson+syrf_userguide/quantitative_data_example.csv
(CC-BY 4.0) and writes our own derived numbers: one row per group of one comparison set
(study x outcome id x time), in the long layout of make_reference.R. Roles: the disease model
given vehicle is the control, the healthy animals given vehicle the sham, the disease model
given the drug a treated group (healthy + drug cohorts are left out). Sets with two vehicle
controls are left out (which drug group each control serves is not in the export). Sources
are assigned to studies in turn (the data are about ketamine, not MSC-EVs) so that the
subgroup test has three sources to compare.
"""

from __future__ import annotations

import csv

from group_table import SOURCES, shared_literature, write_groups

SHARED = shared_literature("emma-wilson+syrf_userguide")


def main() -> None:
    with (SHARED / "quantitative_data_example.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sets: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        key = (row["StudyId"], row["OutcomeId"], row["TimeInMinute"])
        sets.setdefault(key, []).append(row)
    studies = sorted({key[0] for key in sets})
    out: list[dict[str, object]] = []
    entries: dict[str, int] = {}
    for key in sorted(sets, key=lambda k: (k[0], sets[k][0]["OutcomeLabel"], float(k[2]), k[1])):
        cohorts = sets[key]
        control = [
            c
            for c in cohorts
            if c["IsTreatmentControl"] == "TRUE" and c["IsDiseaseModelControl"] == "FALSE"
        ]
        sham = [
            c
            for c in cohorts
            if c["IsTreatmentControl"] == "TRUE" and c["IsDiseaseModelControl"] == "TRUE"
        ]
        treated = [
            c
            for c in cohorts
            if c["IsTreatmentControl"] == "FALSE" and c["IsDiseaseModelControl"] == "FALSE"
        ]
        if len(control) != 1 or not treated or len(sham) > 1:
            continue
        study = key[0]
        entry = entries.get(study, 0)
        entries[study] = entry + 1
        first = cohorts[0]
        base = {
            "dataset": "syrf",
            "condition": "depression",
            "analysis": first["OutcomeLabel"].strip().lower(),
            "study_id": study[:8],
            "source": SOURCES[studies.index(study) % 3],
            "year": first["Year"],
            "entry": entry,
            "outcome": first["OutcomeLabel"].strip(),
            "timepoint": f"{float(key[2]):g} min",
            "direction": "lower_is_better"
            if first["GreaterIsWorse"] == "TRUE"
            else "higher_is_better",
            "sem": "",
        }
        groups = [("sham", "", sham[0]) for _ in sham[:1]] + [("control", "", control[0])]
        groups += [("treated", i, c) for i, c in enumerate(treated)]
        for role, arm, cohort in groups:
            out.append(
                base
                | {
                    "role": role,
                    "arm": arm,
                    "label": cohort["CohortLabel"].strip(),
                    "n": cohort["NumberOfAnimals"],
                    "mean": cohort["OutcomeAverage"],
                    "sd": cohort["OutcomeError"],
                }
            )
    write_groups("groups_syrf.csv", out)


if __name__ == "__main__":
    main()
