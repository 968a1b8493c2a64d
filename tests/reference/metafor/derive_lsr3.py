"""Derive groups_lsr3.csv from the GALENOS living review's arm-level sheet (run once, by hand).

    cd tests/reference/metafor && python derive_lsr3.py
reads ../shared/literature/galenos-project+LSR3_taar1_H/LSR3_H_2024-01-22.xlsx (CC-BY 4.0)
and writes our own derived table of the overall-symptom outcome (``overall_n``, ``_mean``,
``_sd``; lower is better): per study the placebo arm is the control, the TAAR1-agonist arms
(ulotaront, ralmitaront) the treated groups sharing it; active comparators (risperidone,
amisulpride) are left out. Arms without numbers stay, with empty cells (the sheet gives none
for four studies). Sources are assigned to studies in turn (group_table.py). Numbers
stored as text are read as numbers.
"""

from __future__ import annotations

import re

import openpyxl
from group_table import SOURCES, shared_literature, write_groups

SHEET = shared_literature("galenos-project+LSR3_taar1_H") / "LSR3_H_2024-01-22.xlsx"
AGONISTS = ("ulotaront", "ralmitaront")


def number(value: object) -> str:
    return "" if value in (None, "") else repr(float(value))


def main() -> None:
    rows = list(openpyxl.load_workbook(SHEET, read_only=True)["Sheet1"].iter_rows(values_only=True))
    header = {name: i for i, name in enumerate(rows[0]) if name}
    studies: dict[str, list[tuple]] = {}
    for row in rows[1:]:
        studies.setdefault(row[header["study_name"]], []).append(row)
    out: list[dict[str, object]] = []
    for index, (name, arms) in enumerate(studies.items()):
        study_id = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        base = {
            "dataset": "lsr3",
            "condition": "psychosis",
            "analysis": "overall symptoms",
            "study_id": study_id,
            "source": SOURCES[index % 3],
            "year": re.search(r"\((\d{4})\)", name).group(1),
            "entry": 0,
            "outcome": "overall symptoms",
            "timepoint": "",
            "direction": "lower_is_better",
            "sem": "",
        }
        control = [a for a in arms if a[header["drug_name"]] == "placebo"]
        treated = [a for a in arms if a[header["drug_name"]] in AGONISTS]
        groups = [("control", "", control[0])] + [("treated", i, a) for i, a in enumerate(treated)]
        for role, arm, values in groups:
            out.append(
                base
                | {
                    "role": role,
                    "arm": arm,
                    "label": values[header["arm_name"]],
                    "n": number(values[header["overall_n"]]),
                    "mean": number(values[header["overall_mean"]]),
                    "sd": number(values[header["overall_sd"]]),
                }
            )
    write_groups("groups_lsr3.csv", out)


if __name__ == "__main__":
    main()
