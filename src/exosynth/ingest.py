"""Ingest: read raw study records safely and check each against the JSON Schema.

Every problem of every file is collected; nothing stops at the first error.
Every file becomes one record row: an accepted one, or a rejected one that still
carries each field the schema accepted (and lists the fields it did not), so the
later stages check the vocabulary and the other records of a rejected file in the
same build instead of in the next round.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import jsonschema_rs
import polars as pl
import yaml

from exosynth.corpus import discover_raw_files, shard_of
from exosynth.problems import Problem, field_path
from exosynth.settings import DuplicateKeyError, UniqueKeyLoader

__all__ = [
    "discover_raw_files",
    "ingest",
    "parse_study",
    "read_study",
    "shard_of",
    "study_validator",
]

# LibYAML is about 7x faster than the pure-Python parser; fall back only where it is missing.
try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

# A study record is a few hundred bytes; anything far larger is not one and is not parsed.
MAX_RECORD_BYTES = 256 * 1024
MAX_NESTING = 20

IN_VIVO_DTYPE = pl.List(
    pl.Struct({"model": pl.String, "species": pl.String, "model_type": pl.String})
)
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "raw_file": pl.String(),
    "sha256": pl.String(),
    "accepted": pl.Boolean(),
    # The file held a mapping of fields: later stages check what it holds, accepted or not.
    "parsed": pl.Boolean(),
    "id": pl.String(),
    "source": pl.String(),
    "review_row": pl.Int64(),
    "donor_species": pl.String(),
    "first_author": pl.String(),
    "year": pl.Int64(),
    "ref": pl.Int64(),
    "doi": pl.String(),
    "pmid": pl.String(),
    "title": pl.String(),
    "condition": pl.String(),
    "in_vitro": pl.Boolean(),
    "in_vivo": IN_VIVO_DTYPE,
    "clinical_patients": pl.Int64(),
    "results": pl.String(),
    # Known only from another review's table: that review's DOI or URL, the paper's ref there.
    "cited_in_doi": pl.String(),
    "cited_in_url": pl.String(),
    "cited_in_ref": pl.Int64(),
    # Fields whose values the schema rejected (dropped from this row): "in_vitro",
    # "citation" and "citation.doi", "in_vivo" for anything under in_vivo, ...
    "invalid_fields": pl.List(pl.String()),
}


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


@dataclass
class Parsed:
    """One raw file as read: the mapping (``None`` if there is none), its problems, and the
    paths of the values the schema rejected (a rejected record's other fields stay usable)."""

    document: dict | None
    problems: list[Problem] = field(default_factory=list)
    invalid: frozenset[FieldPath] = frozenset()

    @property
    def accepted(self) -> bool:
        return self.document is not None and not any(p.is_error for p in self.problems)


def read_study(
    path: str, data: bytes, validator: StudyValidator
) -> tuple[dict | None, list[Problem]]:
    """Parse and check one raw file: the record, or ``None`` and every problem found."""
    parsed = parse_study(path, data, validator)
    return (parsed.document if parsed.accepted else None), parsed.problems


def parse_study(path: str, data: bytes, validator: StudyValidator) -> Parsed:
    """Parse and check one raw file, keeping whatever parsed even when something is wrong."""
    text, problem = _decode(path, data)
    if problem:
        return Parsed(None, [problem])
    document, problem = _parse(path, text)
    if problem:
        return Parsed(None, [problem])
    if document is None:
        return Parsed(
            None,
            [
                Problem(
                    path,
                    None,
                    "",
                    "file is empty (no fields, only blanks or comments)",
                    "fill in the record (`exosynth new SOURCE ID` writes one) or delete the file",
                    code="file.empty",
                )
            ],
        )
    if not isinstance(document, dict):
        kind = type(document).__name__
        return Parsed(
            None,
            [
                Problem(
                    path,
                    1,
                    "",
                    f"a study record is a mapping of fields, this file holds {kind}",
                    "keep one `field: value` per line (`exosynth new SOURCE ID` writes a record)",
                    code="file.not_mapping",
                )
            ],
        )
    errors = list(validator.iter_errors(document))  # fast for valid records
    problems = _problems_of(path, text, errors)
    invalid = frozenset(_invalid_path(error) for error in errors) - {None}
    stem = os.path.splitext(os.path.basename(path))[0]  # noqa: PTH119, PTH122 (no Path per file)
    if (
        isinstance(document.get("id"), str)
        and document["id"] != stem
        and not any(p.field == "id" for p in problems)
    ):
        problems.append(
            Problem(
                path,
                _line_of(text, ("id",)),
                "id",
                f"id {document['id']!r} differs from the file name {stem!r}",
                f"rename the file to {document['id']}.yaml or set `id: {stem}`",
                code="file.id_mismatch",
            )
        )
    problem = _identity_problem(path, text, document)
    if problem:
        problems.append(problem)
    return Parsed(document, problems, invalid)  # type: ignore[arg-type]


# The four ways a paper can be identified, for the message of a record with none of them.
IDENTITY_HINT = (
    "identify the paper in one of four ways: citation.first_author with citation.year; "
    "citation.doi; citation.pmid; or, for a paper known only from another review's table, "
    "citation.cited_in: {doi: <that review's DOI>, ref: <the paper's number there>} "
    "(url: <the table's address> in place of doi)"
)


def _identity_problem(path: str, text: str, document: dict) -> Problem | None:
    """A record must say which paper it is; a value given but invalid is a schema problem."""
    citation = document.get("citation")
    citation = citation if isinstance(citation, dict) else {}

    def given(name: str) -> bool:
        return citation.get(name) is not None

    if (given("first_author") and given("year")) or any(
        given(name) for name in ("doi", "pmid", "cited_in")
    ):
        return None
    partial = [name for name in ("first_author", "year") if given(name)]
    what = (
        f"only citation.{partial[0]} is given, which does not identify the paper"
        if partial
        else "nothing identifies the paper"
    )
    return Problem(
        path,
        _line_of(text, ("citation",)) if "citation" in document else None,
        "citation",
        what,
        IDENTITY_HINT,
        code="citation.unidentified",
    )


def _invalid_path(error: jsonschema.ValidationError) -> FieldPath | None:
    """The value an error makes unusable; a missing or unknown key spoils no other value."""
    if error.validator in ("required", "additionalProperties"):
        return None
    return tuple(error.absolute_path)


def _decode(path: str, data: bytes) -> tuple[str, Problem | None]:
    if len(data) > MAX_RECORD_BYTES:
        return "", Problem(
            path,
            None,
            "",
            f"file is {len(data):,} bytes; a study record is at most {MAX_RECORD_BYTES:,}",
            "is this really a study record? split or shorten it",
            code="file.too_large",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return "", Problem(
            path,
            line,
            "",
            f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})",
            "save the file as UTF-8 in your editor",
            code="file.encoding",
        )
    return text.removeprefix("\ufeff"), None


class _RecordLoader(UniqueKeyLoader):
    """The safe LibYAML loader, refusing duplicate keys (a copy-paste slip in a record) and
    numbers not written plainly (023 would become 19)."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_number_forms(node)  # before any number is built: 023 must not become 19
        return super().construct_document(node)


class NumberFormError(yaml.constructor.ConstructorError):
    """A number written in a YAML 1.1 form (leading zero, hex, octal, base 60) that parsers read
    as another number than the one written, or as text: it never silently becomes a number."""

    def __init__(
        self, field: str, key: str, value: str, *, reading: str, plain: str, mark: Any
    ) -> None:
        super().__init__(None, None, f"{value!r} {reading}", mark)
        self.field, self.key, self.value, self.plain = field, key, value, plain


_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# Unquoted text that YAML 1.2 (or a person) reads as a number: 0o17, or 08 and 09 (not octal).
_TEXT_NUMBER = re.compile(r"[-+]?0(?:[oO][0-7_]+|[0-9_]*[89][0-9_]*)")


def _number_form(value: str, tag: str) -> tuple[str, str] | None:
    """How YAML reads a number not written plainly, and the plain form; None for a plain one."""
    sign = "-" if value.startswith("-") else ""
    digits = value.lstrip("+-").replace("_", "")
    if tag in (_INT_TAG, _FLOAT_TAG) and ":" in digits:
        total = 0.0 if tag == _FLOAT_TAG else 0
        for part in digits.split(":"):
            total = total * 60 + (float(part) if tag == _FLOAT_TAG else int(part))
        return f"is a base-60 number to YAML 1.1 (read as {sign}{total})", f"{sign}{total}"
    if tag == _INT_TAG and not _PLAIN_INT.fullmatch(value):
        lowered = digits.lower()
        for prefix, base, name in (("0x", 16, "hexadecimal"), ("0b", 2, "binary")):
            if lowered.startswith(prefix):
                number = f"{sign}{int(lowered[2:], base)}"
                return f"is a {name} number (read as {number})", number
        if lowered.startswith("0") and lowered != "0":
            octal = f"{sign}{int(lowered, 8)}"
            return (
                f"has a leading zero, so YAML 1.1 reads it as the octal number {octal}",
                f"{sign}{int(lowered, 10)}",
            )
        return "is written with digit separators", f"{sign}{int(lowered, 10)}"
    if tag == _STR_TAG and _TEXT_NUMBER.fullmatch(value):
        lowered = digits.lower()
        if lowered.startswith("0o"):
            number = f"{sign}{int(lowered[2:], 8)}"
            return f"is an octal number to YAML 1.2 (read as {number}), text to YAML 1.1", number
        return "has a leading zero, so YAML reads it as text", f"{sign}{int(lowered, 10)}"
    return None


def _check_number_forms(root: yaml.Node) -> None:
    """Refuse every unquoted number not written as plain decimal digits, naming its field."""
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, yaml.MappingNode):
            stack.extend((value, (*parts, key.value)) for key, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*parts, i)) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.ScalarNode) and not node.style:  # quoted text stays text
            found = _number_form(node.value, node.tag)
            if found:
                key = next((str(p) for p in reversed(parts) if isinstance(p, str)), "")
                raise NumberFormError(
                    field_path(parts),
                    key,
                    node.value,
                    reading=found[0],
                    plain=found[1],
                    mark=node.start_mark,
                )


def _parse(path: str, text: str) -> tuple[Any, Problem | None]:
    # The event scan costs a second parse, so only files that could hold an alias or deep
    # flow nesting get it (block nesting is bounded by MAX_RECORD_BYTES of indentation).
    if "*" in text or "&" in text or text.count("[") + text.count("{") > MAX_NESTING:
        problem = _structure_problem(path, text)
        if problem:
            return None, problem
    try:
        return yaml.load(text, Loader=_RecordLoader), None
    except NumberFormError as err:
        quote = f'or quote it if it is text: `{err.key}: "{err.value}"`' if err.key else ""
        return None, Problem(
            path,
            _mark_line(err),
            err.field,
            err.problem,
            f"write the plain number: `{err.key}: {err.plain}`" + (f", {quote}" if quote else ""),
            code="yaml.number_form",
        )
    except DuplicateKeyError as err:
        key = err.problem.split("'")[1] if "'" in err.problem else ""
        return None, Problem(
            path,
            _mark_line(err),
            key,
            err.problem,
            "keep one of the two lines: YAML would silently use the last one",
            code="yaml.duplicate_key",
        )
    except yaml.constructor.ConstructorError as err:
        if err.problem and "unhashable key" in err.problem:
            return None, Problem(
                path,
                _mark_line(err),
                "",
                "a key that is a list or mapping",
                "keys are plain field names such as `condition:`",
                code="yaml.key",
            )
        tag = f" {err.problem}" if err.problem else ""
        return None, Problem(
            path,
            _mark_line(err),
            "",
            f"YAML tag not allowed:{tag}",
            "remove the !tag: a study record holds plain text, numbers, "
            "true/false, lists and mappings",
            code="yaml.tag",
        )
    except yaml.composer.ComposerError as err:
        if "expected a single document" in str(err):
            return None, Problem(
                path,
                _mark_line(err),
                "",
                "several YAML documents in one file",
                "keep one paper per file: move the part after `---` into a file of its own",
                code="yaml.documents",
            )
        return None, Problem(
            path,
            _mark_line(err),
            "",
            f"YAML error: {_yaml_reason(err)}",
            "fix the YAML syntax at that line",
            code="yaml.syntax",
        )
    except yaml.YAMLError as err:
        return None, Problem(
            path,
            _mark_line(err),
            "",
            f"malformed YAML: {_yaml_reason(err)}",
            "check indentation, colons and quotes at that line",
            code="yaml.syntax",
        )
    except RecursionError:
        return None, Problem(
            path,
            None,
            "",
            "YAML nested too deeply",
            "a study record is at most a few levels deep",
            code="yaml.nesting",
        )


def _structure_problem(path: str, text: str) -> Problem | None:
    """Anchors and aliases (they can expand to millions of nodes) and deep nesting are refused.

    Checked here rather than left to LibYAML, whose own nesting limit depends on the version
    PyYAML was built with.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return Problem(
                    path,
                    event.start_mark.line + 1,
                    "",
                    "YAML anchors and aliases (&name, *name) are not allowed",
                    "write the value out in full where it is used",
                    code="yaml.alias",
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    return Problem(
                        path,
                        event.start_mark.line + 1,
                        "",
                        f"YAML nested more than {MAX_NESTING} levels deep",
                        "a study record is at most a few levels deep",
                        code="yaml.nesting",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None  # reported with its line by the parse proper
    return None


def _mark_line(err: yaml.MarkedYAMLError) -> int | None:
    """The line to look at: where an unclosed quote or bracket opened, else where it broke."""
    mark = err.problem_mark or err.context_mark
    if err.context_mark and err.problem and "end of stream" in err.problem:
        mark = err.context_mark
    return mark.line + 1 if mark else None


def _yaml_reason(err: yaml.MarkedYAMLError) -> str:
    return " ".join(part for part in (err.context, err.problem) if part) or str(err)


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
}


def schema_problems(
    path: str, text: str, document: dict, validator: StudyValidator
) -> list[Problem]:
    """Every schema error of one record as a Problem with field, line and a hint."""
    return _problems_of(path, text, list(validator.iter_errors(document)))


def _problems_of(path: str, text: str, errors: list[jsonschema.ValidationError]) -> list[Problem]:
    problems: list[Problem] = []
    for error in errors:
        parts = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = sorted(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(known), key=str):
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
                        _line_of(text, key_path),
                        field_path(key_path),
                        f"unknown field {key!r}",
                        hint,
                        code="schema.unknown_field",
                    )
                )
            continue
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            problems.append(
                Problem(
                    path,
                    _line_of(text, parts),
                    field_path((*parts, missing)),
                    f"required field {missing!r} is missing",
                    f"add `{missing}:` (see README: the record format)",
                    code="schema.required",
                )
            )
            continue
        problems.append(
            Problem(
                path,
                _line_of(text, parts),
                field_path(parts) or "(record)",
                *_describe(error),
                code=_SCHEMA_CODES.get(str(error.validator), f"schema.{error.validator}"),
            )
        )
    return problems


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    value, schema, kind = error.instance, error.schema, error.validator
    name = field_path(tuple(error.absolute_path)).split(".")[-1]
    if kind == "type":
        expected = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
        if value is None:
            return "is empty", f"fill in {name} ({wanted})"
        hint = f"write {wanted}"
        if "boolean" in expected and value in ("+", "-"):
            hint = "write true for + and false for -"
        elif "integer" in expected and isinstance(value, str) and value.strip().isdigit():
            hint = f"write the number without quotes: {value.strip()}"
        elif isinstance(value, dt.date) and "integer" in expected:
            hint = "write the year only, e.g. 2018"
        elif isinstance(value, dt.date | int | float | bool) and "string" in expected:
            hint = f'put the text in quotes: "{value}"'
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
    if kind in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        span = (
            f"from {low} to {high}"
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


def _line_of(text: str, parts: Sequence[str | int]) -> int | None:
    """The line of a field, found by walking the YAML node tree (done for invalid files only)."""
    try:
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node else None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# -- many files ------------------------------------------------------------------
def to_row(
    path: str, digest: str, record: dict | None, invalid: frozenset[FieldPath] = frozenset()
) -> dict[str, Any]:
    """One file as a flat row of :data:`RECORD_SCHEMA`, every value the schema accepted.

    ``invalid`` holds the paths of the values the schema rejected: they are left null (a
    value of the wrong type would not even fit the column) and listed in ``invalid_fields``.
    ``accepted`` is set by :func:`ingest`.
    """
    if record is None:
        return {"raw_file": path, "sha256": digest, "accepted": False, "parsed": False}

    def ok(*parts: str | int) -> bool:
        return not any(parts[: len(bad)] == bad for bad in invalid)

    def value(mapping: Any, *parts: str | int) -> Any:
        """The value at ``parts`` if every step exists and no rejected value is on the way."""
        current = mapping
        for depth, part in enumerate(parts):
            if not isinstance(current, dict) or not ok(*parts[: depth + 1]):
                return None
            current = current.get(part)
        return current

    models = []
    if isinstance(record.get("in_vivo"), list) and ok("in_vivo"):
        for index, entry in enumerate(record["in_vivo"]):
            # A rejected entry stays as an empty one: in_vivo[N] keeps its N in messages.
            usable = isinstance(entry, dict) and ok("in_vivo", index)
            models.append(
                {
                    key: entry.get(key) if usable and ok("in_vivo", index, key) else None
                    for key in ("model", "species", "model_type")
                }
            )
    pmid = value(record, "citation", "pmid")
    return {
        "raw_file": path,
        "sha256": digest,
        "accepted": False,  # set by ingest, which knows every problem of the file
        "parsed": True,
        "id": value(record, "id"),
        "source": value(record, "source"),
        "review_row": value(record, "review_row"),
        "donor_species": value(record, "donor_species"),
        "first_author": value(record, "citation", "first_author"),
        "year": value(record, "citation", "year"),
        "ref": value(record, "citation", "ref"),
        "doi": value(record, "citation", "doi"),
        "pmid": None if pmid is None else str(pmid),
        "title": value(record, "citation", "title"),
        "condition": value(record, "condition"),
        "in_vitro": value(record, "in_vitro"),
        "in_vivo": models,
        "clinical_patients": value(record, "clinical", "patients"),
        "results": value(record, "results"),
        "cited_in_doi": value(record, "citation", "cited_in", "doi"),
        "cited_in_url": value(record, "citation", "cited_in", "url"),
        "cited_in_ref": value(record, "citation", "cited_in", "ref"),
        "invalid_fields": _invalid_fields(invalid),
    }


def _invalid_fields(invalid: frozenset[FieldPath]) -> list[str]:
    """``in_vivo[0].species`` -> "in_vivo"; ``citation.doi`` -> "citation", "citation.doi"."""
    names: set[str] = set()
    for parts in invalid:
        if not parts:
            continue
        names.add(str(parts[0]))
        if len(parts) > 1 and isinstance(parts[1], str):
            names.add(f"{parts[0]}.{parts[1]}")
    return sorted(names)


def read_raw(paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """Each file's bytes, read unbuffered in one call (a third of ``Path.read_bytes``'s time)."""
    for path in paths:
        with open(path, "rb", buffering=0) as handle:  # noqa: PTH123 (no Path per file)
            yield path, handle.read()


def _parse_files(
    files: Iterable[tuple[str, bytes]], validator: StudyValidator
) -> Iterator[tuple[dict[str, Any], list[Problem]]]:
    """Each file's row of :data:`RECORD_SCHEMA` and its problems."""
    for path, data in files:
        parsed = parse_study(path, data, validator)
        row = to_row(path, hashlib.sha256(data).hexdigest(), parsed.document, parsed.invalid)
        row["accepted"] = parsed.accepted
        yield row, parsed.problems


def ingest(
    files: Iterable[tuple[str, bytes]], validator: StudyValidator
) -> tuple[pl.DataFrame, list[Problem]]:
    """A row for every file (accepted or not, with every field that parsed) and the problems."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for row, found in _parse_files(files, validator):
        rows.append(row)
        problems.extend(found)
    frame = pl.DataFrame(rows, schema=RECORD_SCHEMA)
    return frame.sort("raw_file"), problems


# -- the parse cache -------------------------------------------------------------
# Each file's row and problems as the last build parsed them, with the file's size and time and
# what the parse depended on besides the bytes (the parser key). A file whose size and time are
# unchanged, or whose bytes hash to the same digest, is not parsed again.
CACHE_SCHEMA: dict[str, pl.DataType] = {
    **RECORD_SCHEMA,
    "size": pl.Int64(),
    "mtime_ns": pl.Int64(),
    "problems": pl.String(),  # the file's problems as JSON; null when it has none
    "parser": pl.String(),
}


def parser_key(validator: StudyValidator) -> str:
    """A digest of what a file's parse depends on besides its bytes.

    The schema as checked (with this year as the latest year a paper may have), the code
    that parses and checks a record, and the versions of the parsers: a change of any of
    them parses every file again, so a cached row is always the row a clean build gives.
    """
    from importlib.metadata import version  # noqa: PLC0415 (only here)

    from exosynth import corpus, problems, settings  # noqa: PLC0415 (cycle-free, light)

    digest = hashlib.sha256(json.dumps(validator.schema, sort_keys=True).encode("utf-8"))
    for module in (__file__, problems.__file__, settings.__file__, corpus.__file__):
        digest.update(Path(module).read_bytes())
    for package in ("pyyaml", "jsonschema", "jsonschema-rs", "polars"):
        digest.update(f"{package}={version(package)};".encode())
    return digest.hexdigest()


def empty_cache() -> pl.DataFrame:
    return pl.DataFrame(schema=CACHE_SCHEMA)


def read_cache(*paths: str | Path) -> pl.DataFrame:
    """The cached rows of the files given (missing or unreadable ones count as empty)."""
    frames = []
    for path in paths:
        try:
            frames.append(pl.read_parquet(path).cast(CACHE_SCHEMA))  # type: ignore[arg-type]
        except (OSError, pl.exceptions.PolarsError):  # no cache yet, or a torn one: parse again
            continue
    return pl.concat(frames) if frames else empty_cache()


class Ingested(NamedTuple):
    records: pl.DataFrame
    problems: list[Problem]
    cache: pl.DataFrame
    parsed: int  # files read and parsed; the others came from the cache


def ingest_cached(
    files: Sequence[tuple[str, int, int]],
    validator: StudyValidator,
    cache: pl.DataFrame,
    *,
    keep_cache: bool = True,
) -> Ingested:
    """:func:`ingest` of ``files`` (path, size, mtime_ns), parsing only what the cache lacks.

    Returns the records and problems (the same as :func:`ingest` of the files' bytes) and
    the new cache. A file is taken from the cache when its size and time are those cached,
    or else when its bytes have the cached digest (a touched file); every other file is
    read and parsed. Rows of another parser key are never used. ``keep_cache=False`` (a
    reader that writes no cache) returns an empty one.
    """
    key = parser_key(validator)
    paths, sizes, mtimes = zip(*files, strict=True) if files else ((), (), ())
    listing = pl.DataFrame(
        {"raw_file": paths, "size": sizes, "mtime_ns": mtimes},
        schema={"raw_file": pl.String(), "size": pl.Int64(), "mtime_ns": pl.Int64()},
    )
    cached = cache.filter(pl.col("parser") == key).unique("raw_file", keep="last")
    joined = listing.join(
        cached.select("raw_file", "size", "mtime_ns", "sha256"),
        on="raw_file",
        how="left",
        suffix="_cached",
    )
    same = (pl.col("size") == pl.col("size_cached")) & (
        pl.col("mtime_ns") == pl.col("mtime_ns_cached")
    )
    same = same.fill_null(False)
    unchanged = joined.filter(same)["raw_file"]
    changed = joined.filter(~same)
    digests = dict(zip(changed["raw_file"].to_list(), changed["sha256"].to_list(), strict=True))
    touched: list[str] = []  # same bytes, new time: the cached row, with the new time
    fresh: list[tuple[str, bytes]] = []
    for path, data in read_raw(digests):
        if digests[path] == hashlib.sha256(data).hexdigest():
            touched.append(path)
        else:
            fresh.append((path, data))
    rows, problems, problem_texts = [], [], []
    for row, found in _parse_files(fresh, validator):
        rows.append(row)
        problems.extend(found)
        problem_texts.append(json.dumps([asdict(p) for p in found]) if found else None)
    parsed = pl.DataFrame(rows, schema=RECORD_SCHEMA).with_columns(
        pl.Series("problems", problem_texts, dtype=pl.String())
    )
    kept = pl.concat([unchanged, pl.Series("raw_file", touched, dtype=pl.String())])
    reused = cached.join(kept.to_frame(), on="raw_file", how="semi")
    for text in reused["problems"].drop_nulls().to_list():
        problems.extend(Problem(**p) for p in json.loads(text))
    records = pl.concat(
        [reused.select(list(RECORD_SCHEMA)), parsed.select(list(RECORD_SCHEMA))]
    ).sort("raw_file")
    if not keep_cache:
        return Ingested(records, problems, empty_cache(), len(fresh))
    new_cache = (
        pl.concat(
            [
                reused.select([*RECORD_SCHEMA, "problems"]),
                parsed.select([*RECORD_SCHEMA, "problems"]),
            ]
        )
        .join(listing, on="raw_file", how="left")
        .with_columns(pl.lit(key).alias("parser"))
        .select(list(CACHE_SCHEMA))
        .sort("raw_file")
    )
    return Ingested(records, problems, new_cache, len(fresh))
