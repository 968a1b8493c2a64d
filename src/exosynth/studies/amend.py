"""Edit fields of a record file in place, keeping its comments and layout (ruamel.yaml).

What a reviewer's returned workbook asks to change lands here: each edit names a record
file, a field path (``citation.doi``) and the new value, and carries the digest of the file
the workbook was built from. A file whose bytes no longer have that digest is never touched:
the edit is refused with the reason. ``field_line`` says where a field is written.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap


@dataclass(frozen=True, slots=True)
class FieldEdit:
    """One field of one record to set: ``value`` is already of the field's type."""

    raw_file: str  # as the study table names it (relative to the project)
    field: str  # dotted path: condition, citation.doi, clinical.patients
    value: Any
    digest: str  # SHA-256 of the file's bytes when the workbook was built


@dataclass(frozen=True, slots=True)
class EditOutcome:
    edit: FieldEdit
    applied: bool
    reason: str  # why not, or what was done


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (the ingest's digest)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the author wrote on one
    yaml.indent(mapping=2, sequence=2, offset=0)
    # null stays written as null (ruamel would leave the value empty)
    yaml.representer.add_representer(
        type(None),
        lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null"),
    )
    return yaml


def field_line(text: str, field: str) -> int | None:
    """The 1-based line where ``field`` (or the nearest written parent of it) is written.

    None when the file is not a mapping or not even the field's first key is written.
    """
    try:
        document = _yaml().load(text)
    except Exception:  # a file ruamel cannot read has no line to give
        return None
    line = None
    node = document
    for key in field.split("."):
        if not isinstance(node, CommentedMap) or key not in node:
            break
        line = node.lc.key(key)[0] + 1
        node = node[key]
    return line


def _set(document: CommentedMap, field: str, value: Any) -> None:
    *parents, last = field.split(".")
    node = document
    for key in parents:
        if not isinstance(node.get(key), CommentedMap):
            node[key] = CommentedMap()
        node = node[key]
    node[last] = value


def apply_edits(root: Path, edits: list[FieldEdit]) -> list[EditOutcome]:
    """Apply ``edits`` file by file; a file changed since its digest was taken is refused
    whole, and so is one that is missing or no longer a mapping. Returns one outcome per edit,
    in the order given.
    """
    outcomes: dict[int, EditOutcome] = {}
    by_file: dict[str, list[int]] = {}
    for i, edit in enumerate(edits):
        by_file.setdefault(edit.raw_file, []).append(i)
    for raw_file, indexes in sorted(by_file.items()):
        path = root / raw_file
        refusal = None
        if not path.is_file():
            refusal = f"{raw_file} no longer exists"
        else:
            digests = {edits[i].digest for i in indexes}
            if digests != {file_digest(path)}:
                refusal = (
                    f"{raw_file} changed since the workbook was built (its SHA-256 differs "
                    "from the one recorded in the workbook): rebuild, hand out the new "
                    "workbook, or make this edit by hand"
                )
        document = None
        if refusal is None:
            yaml = _yaml()
            document = yaml.load(path.read_text(encoding="utf-8"))
            if not isinstance(document, CommentedMap):
                refusal = f"{raw_file} does not hold a mapping"
        if refusal is not None or document is None:
            for i in indexes:
                outcomes[i] = EditOutcome(edits[i], False, refusal or "")
            continue
        for i in indexes:
            _set(document, edits[i].field, edits[i].value)
            outcomes[i] = EditOutcome(edits[i], True, f"{edits[i].field} set")
        out = io.StringIO()
        yaml.dump(document, out)
        path.write_text(out.getvalue(), encoding="utf-8")
    return [outcomes[i] for i in range(len(edits))]
