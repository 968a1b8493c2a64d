"""Configuration and controlled vocabularies, validated against their schemas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """A configuration or vocabulary file that does not match its schema."""


def _with_defaults(validator_class: type[jsonschema.protocols.Validator]) -> type:
    """A validator that also fills in the schema's defaults, as the Snakemake docs recommend."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator: Any, properties: dict, instance: Any, schema: dict) -> Any:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_against(document: Any, schema_path: str | Path, what: str) -> Any:
    """Check ``document`` against a schema, filling in defaults; raise listing every error."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        lines = [f"  {'.'.join(map(str, e.path)) or '(top level)'}: {e.message}" for e in errors]
        raise ConfigError(f"{what} does not match {schema_path}:\n" + "\n".join(lines))
    return document


# LibYAML is about 7x faster than the pure-Python parser; fall back only where it is missing.
try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one mapping: YAML parsers keep the last value silently."""


class UniqueKeyLoader(SafeLoader):
    """The safe loader, refusing a key given twice (a copy-paste slip: the second `rat:` would
    silently replace the first). Records, the config and the vocabulary are all read with it."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)
        # Fewer keys than key nodes: one was given twice. Comparing sizes keeps the check off
        # the path of valid files.
        if len(mapping) < len(node.value):
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise DuplicateKeyError(
                        None, None, f"field {key_node.value!r} is given twice", key_node.start_mark
                    )
                seen.add(key)
        return mapping


def load_yaml(path: str | Path) -> Any:
    """A config or vocabulary file; a key given twice stops here, naming the file and line."""
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except DuplicateKeyError as err:
        line = f":{err.problem_mark.line + 1}" if err.problem_mark else ""
        raise ConfigError(
            f"{path}{line}: {err.problem.replace('field', 'key', 1)}; "
            "keep one of the two (YAML would silently use the last)"
        ) from None


@dataclass(frozen=True)
class SourceTable:
    """An MSC source that gets a table of its own."""

    key: str
    table: int
    label: str
    title: str
    footnote: tuple[tuple[str, str], ...]
    in_review: bool = True  # False: a table added to the review's (review.tables)

    @property
    def heading(self) -> str:
        return f"Table {self.table} {self.title}"

    @property
    def footnote_text(self) -> str:
        return "; ".join(f"{abbr}: {meaning}" for abbr, meaning in self.footnote) + (
            "." if self.footnote else ""
        )


def source_tables(config: dict) -> list[SourceTable]:
    """The configured sources in table order; table numbers must be unique."""
    review_tables = (config.get("review") or {}).get("tables")
    tables = [
        SourceTable(
            key=key,
            table=entry["table"],
            label=entry.get("label", key.replace("_", " ").capitalize()),
            title=entry["title"],
            footnote=tuple((a, m) for a, m in entry.get("footnote", [])),
            in_review=review_tables is None or entry["table"] in review_tables,
        )
        for key, entry in config["sources"].items()
    ]
    numbers = [t.table for t in tables]
    if len(set(numbers)) != len(numbers):
        raise ConfigError(f"config sources: table numbers must be unique, got {sorted(numbers)}")
    return sorted(tables, key=lambda t: t.table)
