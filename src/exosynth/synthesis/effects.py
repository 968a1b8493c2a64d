"""Effect sizes: one Hedges' g (and normalized mean difference) per treated-vs-control comparison.

The numbers follow R's ``metafor::escalc(measure = "SMD")`` with its defaults (DESIGN.md,
"Outcomes, quality and dose"):

- Hedges' g with the exact bias correction ``c(m) = exp(lgamma(m/2) - log(sqrt(m/2)) -
  lgamma((m-1)/2))``, ``m = n1 + n2 - 2``, and the large-sample variance ``1/n1 + 1/n2 +
  g^2 / (2 (n1 + n2))`` (``vtype = "LS"``);
- group 1 is the control when lower is better and the treated group when higher is better,
  so a benefit is positive;
- a control serving k treated groups counts n / k animals in every comparison it serves, in
  the effect and its variance alike, not rounded; SD = SEM x sqrt(n) with the group's own n;
- the normalized mean difference ``100 (control - treated) / (control - sham)`` and its SE
  from the control's and the treated group's SDs (the sham's SD is not used).

Why not ``statsmodels.stats.meta_analysis.effectsize_smd``: it uses the approximate
correction ``1 - 3 / (4 N - 9)`` and the variance ``N / (n1 n2) + g^2 / (2 (N - 3.94))``,
so it does not agree with metafor to 1e-6 (and it would add statsmodels and pandas to the
build). The exact correction needs only ``math.lgamma`` from the standard library.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import polars as pl

from exosynth.problems import WARNING, Problem, field_path

STAGE = "effects"
LOWER = "lower_is_better"
HIGHER = "higher_is_better"
DIRECTIONS = (LOWER, HIGHER)

# results/synthesis/effects.csv (DESIGN.md output contract), in this order.
EFFECT_COLUMNS = (
    "study_id",
    "source",
    "condition",
    "outcome",
    "timepoint",
    "treated",
    "n_control",
    "n_control_shared",
    "n_treated",
    "smd",
    "smd_var",
    "nmd",
    "nmd_se",
)

# The long frame of groups that compute_effects reads: one row per sham, control or treated
# group of one outcome entry of one study.
GROUP_SCHEMA: dict[str, Any] = {
    "study_id": pl.String,
    "source": pl.String,
    "condition": pl.String,
    "year": pl.Int64,
    "raw_file": pl.String,
    "entry": pl.Int64,
    "outcome": pl.String,
    "timepoint": pl.String,
    "direction": pl.String,
    "primary": pl.Boolean,
    "role": pl.String,
    "arm": pl.Int64,
    "label": pl.String,
    "n": pl.Float64,
    "mean": pl.Float64,
    "sd": pl.Float64,
    "sem": pl.Float64,
}

# effects.csv's columns plus what pooling needs to place a comparison (not written to the CSV).
EFFECT_SCHEMA: dict[str, Any] = {
    "study_id": pl.String,
    "source": pl.String,
    "condition": pl.String,
    "outcome": pl.String,
    "timepoint": pl.String,
    "treated": pl.String,
    "n_control": pl.Float64,
    "n_control_shared": pl.Float64,
    "n_treated": pl.Float64,
    "smd": pl.Float64,
    "smd_var": pl.Float64,
    "nmd": pl.Float64,
    "nmd_se": pl.Float64,
    "year": pl.Int64,
    "raw_file": pl.String,
    "entry": pl.Int64,
    "arm": pl.Int64,
    "direction": pl.String,
    "primary": pl.Boolean,
}

ROLES = ("sham", "control", "treated")


def hedges_correction(m: float) -> float:
    """metafor's exact small-sample correction ``c(m)`` for ``m`` degrees of freedom (m > 1)."""
    return math.exp(math.lgamma(m / 2) - math.log(math.sqrt(m / 2)) - math.lgamma((m - 1) / 2))


class Arm(NamedTuple):
    """One group's numbers for an effect: mean, SD and the n it counts (divided if shared)."""

    mean: float
    sd: float
    n: float


def hedges_g(group1: Arm, group2: Arm) -> tuple[float, float]:
    """Hedges' g of group 1 minus group 2 and its large-sample variance, as escalc's SMD."""
    n1, n2 = group1.n, group2.n
    m = n1 + n2 - 2
    sd_pooled = math.sqrt(((n1 - 1) * group1.sd**2 + (n2 - 1) * group2.sd**2) / m)
    g = hedges_correction(m) * (group1.mean - group2.mean) / sd_pooled
    return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))


def nmd(control: Arm, treated: Arm, sham_mean: float) -> tuple[float, float]:
    """Normalized mean difference (percent of the injury the treatment removed) and its SE."""
    span = control.mean - sham_mean
    value = 100 * (control.mean - treated.mean) / span
    se = math.sqrt(
        (100 * control.sd / abs(span)) ** 2 / control.n
        + (100 * treated.sd / abs(span)) ** 2 / treated.n
    )
    return value, se


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def outcome_groups(studies: pl.DataFrame) -> pl.DataFrame:
    """The ``outcomes`` blocks of a study table as a long frame of groups (GROUP_SCHEMA).

    ``studies`` has the interim study table's ``id, source, condition, year, raw_file`` and
    ``outcomes`` (the block as JSON text, or null); ``condition`` should already hold the
    condition group's label. A value of the wrong type reads as missing (the schema reports it).
    """
    rows: list[dict[str, Any]] = []
    if "outcomes" not in studies.columns:
        return pl.DataFrame(schema=GROUP_SCHEMA)
    with_outcomes = studies.filter(pl.col("outcomes").is_not_null())
    for study in with_outcomes.iter_rows(named=True):
        entries = json.loads(study["outcomes"])
        if not isinstance(entries, list):
            continue
        for entry_index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            base = {
                "study_id": study["id"],
                "source": study["source"],
                "condition": study["condition"],
                "year": study.get("year"),
                "raw_file": study.get("raw_file"),
                "entry": entry_index,
                "outcome": _text(entry.get("outcome")),
                "timepoint": _text(entry.get("timepoint")),
                "direction": _text(entry.get("direction")),
                "primary": entry.get("primary") if isinstance(entry.get("primary"), bool) else None,
            }
            treated = entry.get("treated")
            groups: list[tuple[str, int | None, Any]] = [
                ("sham", None, entry.get("sham")),
                ("control", None, entry.get("control")),
            ]
            if isinstance(treated, list):
                groups += [("treated", i, group) for i, group in enumerate(treated)]
            for role, arm, group in groups:
                if not isinstance(group, dict):
                    continue
                rows.append(
                    base
                    | {
                        "role": role,
                        "arm": arm,
                        "label": _text(group.get("label")),
                        "n": _number(group.get("n")),
                        "mean": _number(group.get("mean")),
                        "sd": _number(group.get("sd")),
                        "sem": _number(group.get("sem")),
                    }
                )
    return (
        pl.DataFrame(rows, schema=GROUP_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=GROUP_SCHEMA)
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _sd(group: Mapping[str, Any]) -> float | None:
    """The group's SD, from its SEM with its own n where only the SEM is given."""
    if group["sd"] is not None:
        return group["sd"]
    if group["sem"] is not None and group["n"] is not None:
        return group["sem"] * math.sqrt(group["n"])
    return None


def _missing(group: Mapping[str, Any] | None) -> list[str]:
    """The fields a group lacks for an effect size (``sd`` stands for ``sd or sem``)."""
    if group is None:
        return ["n", "mean", "sd"]
    missing = [name for name in ("n", "mean") if group[name] is None]
    if group["sd"] is None and group["sem"] is None:
        missing.append("sd")
    return missing


def _warn(
    study: Mapping[str, Any], where: list[str | int], message: str, hint: str, code: str
) -> Problem:
    return Problem(
        file=study["raw_file"] or study["study_id"] or "",
        line=None,
        field=field_path(["outcomes", study["entry"], *where]),
        message=message,
        hint=hint,
        stage=STAGE,
        code=code,
        severity=WARNING,
    )


def _entry_effects(
    entry: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The comparisons of one outcome entry (its groups), and what keeps an effect from them."""
    by_role: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES}
    for group in entry:
        by_role[group["role"]].append(group)
    head = entry[0]
    treated = sorted(by_role["treated"], key=lambda g: g["arm"])
    control = by_role["control"][0] if by_role["control"] else None
    sham = by_role["sham"][0] if by_role["sham"] else None
    problems: list[Problem] = []
    k = len(treated)
    control_missing = _missing(control)
    if control is None:
        problems.append(
            _warn(
                head,
                ["control"],
                "treated groups without a control group: no effect size",
                "add the control group (n, mean, sd or sem) the treated groups are compared with",
                "outcome.no_control",
            )
        )
    else:
        problems += [
            _warn(
                head,
                ["control", name],
                f"the control group has no {_number_name(name)}: no effect size",
                f"give the control's {_number_name(name)} from the paper, or leave the "
                "outcome out if the paper does not report it",
                "outcome.missing_number",
            )
            for name in control_missing
        ]
    direction = head["direction"]
    if direction not in DIRECTIONS:
        problems.append(
            _warn(
                head,
                ["direction"],
                "no direction: the sign of the effect is unknown",
                "add direction: lower_is_better or higher_is_better",
                "outcome.no_direction",
            )
        )
    sham_ok = sham is not None and sham["mean"] is not None
    rows: list[dict[str, Any]] = []
    for group in treated:
        missing = _missing(group)
        problems += [
            _warn(
                head,
                ["treated", group["arm"], name],
                f"a treated group has no {_number_name(name)}: no effect size",
                f"give the group's {_number_name(name)} from the paper",
                "outcome.missing_number",
            )
            for name in missing
        ]
        n_control = control["n"] if control is not None else None
        shared = n_control / k if n_control is not None else None
        row = {
            "study_id": head["study_id"],
            "source": head["source"],
            "condition": head["condition"],
            "outcome": head["outcome"],
            "timepoint": head["timepoint"],
            "treated": group["label"] or f"group {group['arm'] + 1}",
            "n_control": n_control,
            "n_control_shared": shared,
            "n_treated": group["n"],
            "smd": None,
            "smd_var": None,
            "nmd": None,
            "nmd_se": None,
            "year": head["year"],
            "raw_file": head["raw_file"],
            "entry": head["entry"],
            "arm": group["arm"],
            "direction": direction,
            "primary": head["primary"],
        }
        rows.append(row)
        if missing or control is None or control_missing or shared is None:
            continue
        sd_c, sd_t = _sd(control), _sd(group)
        if sd_c is None or sd_t is None:  # not reached: _missing checked them
            continue
        c_arm = Arm(control["mean"], sd_c, shared)
        t_arm = Arm(group["mean"], sd_t, group["n"])
        if shared + t_arm.n <= 3 or (sd_c == 0 and sd_t == 0):
            problems.append(
                _warn(
                    head,
                    ["treated", group["arm"]],
                    "too few animals or no spread (SD 0) for Hedges' g: no effect size",
                    "check n and SD of the control and this group",
                    "outcome.degenerate",
                )
            )
            continue
        if direction in DIRECTIONS:
            first, second = (c_arm, t_arm) if direction == LOWER else (t_arm, c_arm)
            row["smd"], row["smd_var"] = hedges_g(first, second)
        if sham_ok and sham is not None and sham["mean"] != control["mean"]:
            row["nmd"], row["nmd_se"] = nmd(c_arm, t_arm, sham["mean"])
    return rows, problems


def _number_name(name: str) -> str:
    return {"n": "n", "mean": "mean", "sd": "sd or sem"}[name]


def compute_effects(groups: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """One row per treated group of every outcome entry (EFFECT_SCHEMA), and the warnings.

    A comparison without the numbers for an effect keeps its row, with empty effect cells,
    and a warning names the record and the field.
    """
    entries: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for group in groups.iter_rows(named=True):
        entries.setdefault((group["study_id"], group["entry"]), []).append(group)
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for key in sorted(entries, key=lambda k: (k[0] or "", k[1])):
        entry_rows, entry_problems = _entry_effects(entries[key])
        rows += entry_rows
        problems += entry_problems
    frame = (
        pl.DataFrame(rows, schema=EFFECT_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=EFFECT_SCHEMA)
    )
    return frame, problems


def effects_table(effects: pl.DataFrame) -> pl.DataFrame:
    """effects.csv: the contract columns; the groups' own n as whole numbers (the schema's)."""
    return effects.select(EFFECT_COLUMNS).with_columns(
        pl.col("n_control", "n_treated").round().cast(pl.Int64)
    )
