"""The record schema, checked fast, and its errors explained to people: field, line, fix."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

from exosynth.problems import Problem, field_path
from exosynth.studies.loading import line_of


# -- the JSON Schema -------------------------------------------------------------
class StudyValidator:
    """The record schema, checked fast, explained in full.

    jsonschema-rs answers "valid?" about 25x faster than jsonschema; only records it
    rejects (or cannot take, e.g. a YAML date) go to jsonschema, whose errors carry
    what the messages for people are built from. Both implement Draft 2020-12.
    """

    def __init__(self, schema: dict) -> None:
        jsonschema.Draft202012Validator.check_schema(schema)
        self.schema = schema
        self.explain = jsonschema.Draft202012Validator(schema)
        self._fast = jsonschema_rs.Draft202012Validator(schema)

    def is_valid(self, document: Any) -> bool:
        try:
            return self._fast.is_valid(document)
        except (ValueError, TypeError, OverflowError):  # a value JSON has no type for
            return False

    def iter_errors(self, document: Any) -> Iterator[jsonschema.ValidationError]:
        """Every error of a record the fast validator rejects; none for a record it accepts.

        A record is accepted only when both validators agree: if the fast one rejects it and
        the explainer finds nothing, that disagreement is itself an error, never an acceptance.
        """
        if self.is_valid(document):
            return iter(())
        errors = list(self.explain.iter_errors(document))
        return iter(errors or [self._disagreement(document)])

    def _disagreement(self, document: Any) -> jsonschema.ValidationError:
        """The fast validator's own first error, as the explainer would have reported it."""
        path: tuple[str | int, ...] = ()
        detail = "a value JSON has no type for"
        try:
            first = next(iter(self._fast.iter_errors(document)), None)
        except (ValueError, TypeError, OverflowError):  # the value it could not take at all
            first = None
        if first is not None:
            path, detail = tuple(first.instance_path), first.message
        return jsonschema.ValidationError(
            f"the two schema validators disagree: jsonschema-rs rejects it ({detail}), "
            "jsonschema finds no error",
            validator="disagreement",
            path=path,
            instance=document,
            schema=self.schema,
        )


def study_validator(schema_path: str | Path, today: dt.date | None = None) -> StudyValidator:
    """The record schema's validator; a paper's year may be at most the current year."""
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    year = schema["properties"]["citation"]["properties"]["year"]
    year["maximum"] = (today or dt.date.today()).year
    return StudyValidator(schema)


# -- reading one file ------------------------------------------------------------
FieldPath = tuple[str | int, ...]


def invalid_path(error: jsonschema.ValidationError) -> FieldPath | None:
    """The value an error makes unusable; a missing or unknown key spoils no other value."""
    if error.validator in ("required", "additionalProperties"):
        return None
    return tuple(error.absolute_path)


# -- the schema check, with messages for people ------------------------------------
_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping of fields",
    "array": "a list",
    "null": "empty (null)",
    "number": "a number",
}


# Stable codes of the schema's keywords (README: problem codes).
_SCHEMA_CODES = {
    "type": "schema.type",
    "pattern": "schema.pattern",
    "minimum": "schema.range",
    "maximum": "schema.range",
    "minLength": "schema.length",
    "maxLength": "schema.length",
    "maxItems": "schema.items",
    "anyOf": "schema.any_of",
    "exclusiveMinimum": "schema.range",
}


def schema_problems(
    path: str, text: str, document: dict, validator: StudyValidator
) -> list[Problem]:
    """Every schema error of one record as a Problem with field, line and a hint."""
    return problems_of(path, text, list(validator.iter_errors(document)))


def problems_of(path: str, text: str, errors: list[jsonschema.ValidationError]) -> list[Problem]:
    problems: list[Problem] = []
    for error in errors:
        parts = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            # A key a patternProperties entry matches is not unknown: that entry reports it.
            patterned = [re.compile(p) for p in error.schema.get("patternProperties", {})]
            unknown = {
                key
                for key in set(error.instance) - set(known)
                if not any(p.search(str(key)) for p in patterned)
            }
            for key in sorted(unknown, key=str):
                key_path = (*parts, key)
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = (
                    f'did you mean "{close[0]}"?'
                    if close
                    else f"remove it; known fields here: {', '.join(known)}"
                )
                problems.append(
                    Problem(
                        path,
                        line_of(text, key_path),
                        field_path(key_path),
                        f"unknown field {key!r}",
                        hint,
                        code="schema.unknown_field",
                    )
                )
            continue
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            wanted = error.schema.get("properties", {}).get(missing, {})
            problems.append(
                Problem(
                    path,
                    line_of(text, parts),
                    field_path((*parts, missing)),
                    f"required field {missing!r} is missing",
                    wanted.get("x-hint", f"add `{missing}:` (see README: the record format)"),
                    code="schema.required",
                )
            )
            continue
        custom = error.schema.get("x-problem") if isinstance(error.schema, dict) else None
        if custom and error.validator in ("enum", "not"):
            # The schema's own words for this refusal (a judgement, a summed score).
            words = {"value": _value_words(error.instance), "field": field_path(parts)}
            problems.append(
                Problem(
                    path,
                    line_of(text, parts),
                    field_path(parts) or "(record)",
                    custom["message"].format(**words),
                    custom["hint"].format(**words),
                    code=custom["code"],
                )
            )
            continue
        problems.append(
            Problem(
                path,
                line_of(text, parts),
                field_path(parts) or "(record)",
                *_describe(error),
                code=_SCHEMA_CODES.get(str(error.validator), f"schema.{error.validator}"),
            )
        )
    return problems


def _type_hint(value: Any, expected: list[str], wanted: str) -> str:
    """The fix for a value of the wrong type, where the value shows what was meant."""
    hint = f"write {wanted}"
    if "boolean" in expected and value in ("+", "-"):
        hint = "write true for + and false for -"
    elif "integer" in expected and isinstance(value, str) and value.strip().isdigit():
        hint = f"write the number without quotes: {value.strip()}"
    elif "number" in expected and isinstance(value, str) and _SCIENTIFIC.fullmatch(value):
        mantissa, exponent = value.lower().split("e")
        hint = (
            f"write {float(mantissa)}e{int(exponent):+d}: YAML reads {value} (no dot, no "
            "sign in the exponent) as text"
        )
    elif isinstance(value, dt.date) and "integer" in expected:
        hint = "write the year only, e.g. 2018"
    elif isinstance(value, dt.date | int | float | bool) and "string" in expected:
        hint = f'put the text in quotes: "{value}"'
    return hint


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    value, schema, kind = error.instance, error.schema, error.validator
    name = field_path(tuple(error.absolute_path)).split(".")[-1]
    if kind == "type":
        expected = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        if value is None:
            return "is empty", f"fill in {name} ({wanted})"
        hint = _type_hint(value, expected, wanted)
        return f"{_show(value)} is {_kind(value)}, expected {wanted}", hint
    if kind == "pattern":
        return f"{_show(value)} is not a valid {name}", _PATTERN_HINTS.get(
            name, f"match {schema['pattern']}"
        )
    if kind == "disagreement":  # see StudyValidator.iter_errors
        return error.message, (
            "retype the value: it likely holds an invisible character (a trailing newline, "
            "a control character) that one validator lets through"
        )
    if kind in ("minimum", "maximum", "exclusiveMinimum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        span = (
            f"greater than {schema['exclusiveMinimum']}"
            if kind == "exclusiveMinimum"
            else f"from {low} to {high}"
            if low is not None and high is not None
            else (f"at least {low}" if low is not None else f"at most {high}")
        )
        return f"{_show(value)} is out of range", f"{name} must be {span}"
    if kind in ("minLength", "maxLength"):
        return (
            ("is empty", f"fill in {name}")
            if kind == "minLength"
            else (f"is {len(value)} characters long", f"shorten it to {schema['maxLength']}")
        )
    if kind == "maxItems":
        return f"has {len(value)} entries", f"at most {schema['maxItems']}"
    if kind == "anyOf" and name == "cited_in":
        return (
            "names no review: give the DOI or the web address of the review it is cited in",
            "write cited_in: {doi: 10.xxxx/..., ref: N} or cited_in: {url: https://..., ref: N}",
        )
    return error.message, "see README: the record format"


_PATTERN_HINTS = {
    "id": "use lower-case letters, digits and hyphens: first author, year, optional suffix "
    "(damania-2018, zhang-2018b)",
    "doi": "a DOI looks like 10.1016/j.stem.2018.01.001 (a https://doi.org/ link is fine too)",
    "pmid": "a PubMed id is digits only, e.g. 29625071",
    "model_type": "use a model type code from config/vocabulary.yaml",
}


# 1e10, 2E9: numbers to people, text to YAML 1.1 (it wants a dot and a signed exponent).
_SCIENTIFIC = re.compile(r"[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+")


def _value_words(value: Any) -> str:
    """A value as the author wrote it, where YAML read yes/no/on/off as true or false."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads an unquoted yes, no, on or off as true/false)"
    return _show(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
