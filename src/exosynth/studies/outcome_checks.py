"""Checks of a record's ``outcomes`` block beyond its schema: one rule table, every problem at once.

The schema checks each value's type; these rules check what an effect size needs (DESIGN.md,
"Outcomes, quality and dose"). A rule breaking the record's contract is an error (a treated
group without a control, ``sd`` and ``sem`` both, a negative SD, n < 2, no direction, a model
index out of range); a number the paper does not give is a warning, since the study stays in
the tables and only its effect size is empty; so is a sham equal to the control, which leaves
the normalized mean difference without a denominator. Values of the wrong type are left to
the schema's messages. Lines are looked up only for records with a problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from exosynth.problems import ERROR, WARNING, Problem, field_path
from exosynth.studies.loading import line_of

STAGE = "ingest"
DIRECTIONS = ("lower_is_better", "higher_is_better")
FieldParts = tuple[str | int, ...]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Found:
    """A rule that fired: where (the field's path), and the values its words need."""

    path: FieldParts
    values: dict[str, Any]


@dataclass(frozen=True)
class OutcomeRule:
    """One check of one outcome entry: code, severity, words, and where it fires."""

    code: str
    severity: str
    message: str
    hint: str
    fires: Callable[[FieldParts, dict[str, Any], int | None], Iterator[Found]]


def _groups(entry: dict[str, Any]) -> Iterator[tuple[FieldParts, dict[str, Any]]]:
    """(relative path, group) of each group of an entry that is a mapping."""
    for role in ("sham", "control"):
        if isinstance(entry.get(role), dict):
            yield (role,), entry[role]
    treated = entry.get("treated")
    if isinstance(treated, list):
        for index, group in enumerate(treated):
            if isinstance(group, dict):
                yield ("treated", index), group


def _no_control(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    if entry.get("treated") and entry.get("control") is None:
        yield Found((*where, "control"), {})


def _no_treated(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    if entry.get("control") is not None and not entry.get("treated"):
        yield Found((*where, "treated"), {})


def _no_direction(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    if entry.get("direction") is None:
        yield Found((*where, "direction"), {})


def _sd_and_sem(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    for path, group in _groups(entry):
        if group.get("sd") is not None and group.get("sem") is not None:
            yield Found((*where, *path), {"group": field_path(path)})


def _negative_spread(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    for path, group in _groups(entry):
        for name in ("sd", "sem"):
            if _number(group.get(name)) and group[name] < 0:
                yield Found((*where, *path, name), {"name": name, "value": group[name]})


def _too_few(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    for path, group in _groups(entry):
        if _number(group.get("n")) and group["n"] < 2:
            yield Found((*where, *path, "n"), {"value": group["n"]})


def _missing(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    for path, group in _groups(entry):
        needed = ("mean",) if path == ("sham",) else ("n", "mean", "sd")
        for name in needed:
            given = group.get(name) is not None or (name == "sd" and group.get("sem") is not None)
            if not given:
                shown = "sd (or sem)" if name == "sd" else name
                yield Found((*where, *path, name), {"name": shown, "group": field_path(path)})


def _sham_is_control(where: FieldParts, entry: dict[str, Any], _: int | None) -> Iterator[Found]:
    sham, control = entry.get("sham"), entry.get("control")
    if (
        isinstance(sham, dict)
        and isinstance(control, dict)
        and _number(sham.get("mean"))
        and _number(control.get("mean"))
        and sham["mean"] == control["mean"]
    ):
        yield Found((*where, "sham", "mean"), {"value": sham["mean"]})


def _model_index(where: FieldParts, entry: dict[str, Any], models: int | None) -> Iterator[Found]:
    model = entry.get("model")
    if _number(model) and isinstance(model, int) and model >= (models or 0):
        yield Found((*where, "model"), {"value": model, "models": models or 0})


RULES: tuple[OutcomeRule, ...] = (
    OutcomeRule(
        "outcome.no_control",
        ERROR,
        "treated groups without a control group",
        "add `control: {{n: ..., mean: ..., sd: ...}}`: the disease group given vehicle or nothing",
        _no_control,
    ),
    OutcomeRule(
        "outcome.no_treated",
        ERROR,
        "a control group without treated groups",
        "add `treated:` with one entry per EV group (label, n, mean, sd or sem)",
        _no_treated,
    ),
    OutcomeRule(
        "outcome.no_direction",
        ERROR,
        "no direction: which way a benefit moves the outcome is not said",
        "add `direction: lower_is_better` (infarct volume, creatinine) or "
        "`direction: higher_is_better` (ejection fraction, survival)",
        _no_direction,
    ),
    OutcomeRule(
        "outcome.sd_and_sem",
        ERROR,
        "{group} gives both sd and sem",
        "keep the one the paper reports (the other is computed: SD = SEM x sqrt(n))",
        _sd_and_sem,
    ),
    OutcomeRule(
        "outcome.negative_spread",
        ERROR,
        "{name} is {value}, below 0",
        "give the {name} as the paper reports it (a spread is never negative)",
        _negative_spread,
    ),
    OutcomeRule(
        "outcome.too_few_animals",
        ERROR,
        "n is {value}: a group needs at least 2 animals for a standard deviation",
        "check n in the paper (animals in the group at this timepoint)",
        _too_few,
    ),
    OutcomeRule(
        "outcome.model_out_of_range",
        ERROR,
        "model {value} points to no in_vivo entry (the record has {models})",
        "model is the index of the in_vivo entry, counted from 0",
        _model_index,
    ),
    OutcomeRule(
        "outcome.missing_number",
        WARNING,
        "{group} has no {name}: this comparison gets no effect size",
        "give the {name} from the paper (text, table or figure); the study stays in the tables",
        _missing,
    ),
    OutcomeRule(
        "outcome.sham_equals_control",
        WARNING,
        "the sham's mean equals the control's ({value}): no normalized mean difference",
        "check both means in the paper; Hedges' g is still computed",
        _sham_is_control,
    ),
)


def outcome_problems(path: str, text: str, document: dict[str, Any]) -> list[Problem]:
    """Every problem of the record's outcome entries, in the order of the entries."""
    entries = document.get("outcomes")
    if not isinstance(entries, list):
        return []
    in_vivo = document.get("in_vivo")
    models = len(in_vivo) if isinstance(in_vivo, list) else 0
    found: list[tuple[OutcomeRule, Found]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        for rule in RULES:
            found += [(rule, hit) for hit in rule.fires(("outcomes", index), entry, models)]
    return [
        Problem(
            file=path,
            line=line_of(text, hit.path),
            field=field_path(hit.path),
            message=rule.message.format(**hit.values),
            hint=rule.hint.format(**hit.values),
            stage=STAGE,
            code=rule.code,
            severity=rule.severity,
        )
        for rule, hit in found
    ]
