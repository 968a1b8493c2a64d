"""Safe loading of one raw file: bytes to text to YAML, every way it can fail a problem."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import yaml

from exosynth.problems import Problem, field_path
from exosynth.settings import DuplicateKeyError, UniqueKeyLoader

# LibYAML is about 7x faster than the pure-Python parser; fall back only where it is missing.
try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

# A study record is a few hundred bytes; anything far larger is not one and is not parsed.
MAX_RECORD_BYTES = 256 * 1024
MAX_NESTING = 20


def decode_text(path: str, data: bytes) -> tuple[str, Problem | None]:
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


def parse_yaml(path: str, text: str) -> tuple[Any, Problem | None]:
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


def line_of(text: str, parts: Sequence[str | int]) -> int | None:
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


def read_raw(paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """Each file's bytes, read unbuffered in one call (a third of ``Path.read_bytes``'s time)."""
    for path in paths:
        with open(path, "rb", buffering=0) as handle:  # noqa: PTH123 (no Path per file)
            yield path, handle.read()
