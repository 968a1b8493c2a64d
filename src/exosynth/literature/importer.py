"""``exosynth import FILE...``: reference files into drafts in the inbox, with a log per file.

For each file: read it (:mod:`exosynth.literature.read`), drop the references already in
``raw/`` (study records and drafts, by DOI, PMID or title + year + first author) or twice in
the files imported together, and write one draft per remaining reference. A log per file
(``<inbox>/imports/<file>.yaml``: its SHA-256, format, references read, duplicates with
what they repeat, drafts written) is what the PRISMA flow counts from. A file whose bytes
were imported before writes nothing; an existing file is never overwritten.

Screening-only exports (SyRF's wide screening file: decisions by StudyId, no bibliography)
give their decisions to the references of the same import that carry the same key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from exosynth.literature.drafts import Draft, draft_document, draft_id, render, slug, write_new
from exosynth.literature.duplicates import Duplicate, Known, deduplicate
from exosynth.literature.read import ReadFile, read_bytes
from exosynth.literature.references import (
    CONFLICT,
    Reference,
    combine_decisions,
    fold_text,
    normalize_doi,
    normalize_pmid,
    problem,
)
from exosynth.problems import WARNING, Problem
from exosynth.vocabulary import Vocabulary

IMPORTS = "imports"  # the logs' folder inside the inbox


@dataclass
class FileReport:
    """What importing one file did."""

    file: str
    sha256: str
    format: str | None
    read: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    already: str | None = None  # the log of an earlier import of the same bytes
    unidentified: int = 0  # references with nothing to identify them (not drafted)

    def log(self) -> dict:
        """The import log kept in the inbox (what PRISMA counts)."""
        databases = sorted({d.reference.database or "" for d in self.drafts} - {""})
        return {
            "file": Path(self.file).name,
            "sha256": self.sha256,
            "format": self.format,
            "database": databases[0] if len(databases) == 1 else None,
            "references_read": self.read,
            "duplicates_removed": len(self.duplicates),
            "not_identified": self.unidentified,
            "drafts_written": len(self.drafts),
            "drafts": [d.id for d in self.drafts],
            "duplicates": [
                {"record": d.reference.record, "of": d.of, "by": d.by} for d in self.duplicates
            ],
        }


def _identified(reference: Reference) -> bool:
    return bool(
        reference.title
        or reference.doi
        or reference.pmid
        or reference.first_author
        or any(kind == "openalex" for kind, _ in reference.identifiers)
    )


def known_works(raw_dir: str | Path) -> tuple[list[Known], set[str], dict[str, str]]:
    """Works already in ``raw_dir`` (study records and drafts, every YAML below it but
    ``trials/``; files named from the project folder, ``raw/...``), the ids taken, and the
    SHA-256 of files imported before -> their log."""
    works: list[Known] = []
    taken: set[str] = set()
    imported: dict[str, str] = {}
    root = Path(raw_dir)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and Path(dirpath, d) != root / "trials"
        )
        for name in sorted(filenames):
            if not name.endswith((".yaml", ".yml")) or name.startswith("."):
                continue
            path = Path(dirpath, name)
            try:
                document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue  # the build reports it
            if not isinstance(document, dict):
                continue
            if path.parent.name == IMPORTS and isinstance(document.get("sha256"), str):
                imported[document["sha256"]] = path.as_posix()
                continue
            taken.add(str(document.get("id") or path.stem))
            citation = document.get("citation")
            citation = citation if isinstance(citation, dict) else {}
            year = citation.get("year")
            works.append(
                Known(
                    file=path.relative_to(root.parent).as_posix(),
                    doi=normalize_doi(citation.get("doi")),
                    pmid=normalize_pmid(citation.get("pmid")),
                    title=citation.get("title") if isinstance(citation.get("title"), str) else None,
                    year=year if isinstance(year, int) else None,
                    first_author=citation.get("first_author")
                    if isinstance(citation.get("first_author"), str)
                    else None,
                )
            )
    return works, taken, imported


def _join_decisions(files: list[ReadFile]) -> None:
    """Give screening-only rows' decisions to the references with the same key."""
    decisions: dict[str, Reference] = {}
    for read in files:
        for reference in read.references:
            if reference.key and reference.reviewers and not _identified(reference):
                decisions[reference.key] = reference
    if not decisions:
        return
    for read in files:
        read.references = [
            replace(
                r,
                reviewers=r.reviewers + decisions[r.key].reviewers,
                decision=combine_decisions(r.reviewers + decisions[r.key].reviewers),
            )
            if r.key in decisions and _identified(r)
            else r
            for r in read.references
        ]


def _fresh(
    files: list[tuple[ReadFile, str]], imported: dict[str, str]
) -> tuple[list[FileReport], list[ReadFile]]:
    """A report per file, and the files not imported before (nor given twice now)."""
    reports: list[FileReport] = []
    fresh: list[ReadFile] = []
    for read, sha in files:
        report = FileReport(read.file, sha, read.format, problems=list(read.problems))
        reports.append(report)
        if sha in imported:
            report.already = imported[sha]
        elif sha in {r.sha256 for r in reports[:-1]}:
            report.already = "the same bytes given twice in this import"
        else:
            report.read = len(read.references)
            fresh.append(read)
    return reports, fresh


def _named_alike(known: list[Known]) -> dict[tuple[str, int], str]:
    """(first author, year) -> file, for known works with nothing else to compare by."""
    found: dict[tuple[str, int], str] = {}
    for work in known:
        if work.first_author and work.year and not (work.title or work.doi or work.pmid):
            found.setdefault((fold_text(work.first_author), work.year), work.file)
    return found


def _warnings(reference: Reference, near: dict[tuple[str, int], str]) -> list[Problem]:
    """What the author should look at in a draft about to be written."""
    found: list[Problem] = []
    alike = near.get((fold_text(reference.first_author), reference.year or 0))
    if alike:
        found.append(
            problem(
                reference.file,
                f"{reference.label}: {alike} has the same first author and year, and no title"
                " or identifier to compare; the draft is written",
                "if it is the same paper, exclude the draft with reason duplicate and add the"
                f" DOI to {alike}",
                code="literature.possible_duplicate",
                row=reference.record,
                severity=WARNING,
            )
        )
    if reference.decision == CONFLICT and not reference.reviewers:
        found.append(
            problem(
                reference.file,
                f"{reference.label} is in the file more than once with different decisions",
                "the draft is written undecided: decide it",
                code="literature.decision_conflict",
                row=reference.record,
                record=reference.key or "",
                severity=WARNING,
            )
        )
    return found


def plan_import(
    files: list[tuple[ReadFile, str]],
    *,
    known: list[Known],
    taken: set[str],
    imported: dict[str, str],
    vocabulary: Vocabulary,
    reasons: dict[str, str],
) -> list[FileReport]:
    """What importing these files (each with its SHA-256) writes: pure, nothing on disk."""
    reports, fresh = _fresh(files, imported)
    _join_decisions(fresh)
    by_file = {r.file: r for r in reports if r.already is None}
    pool: list[Reference] = []
    outcomes: dict[tuple[str, str], list[dict]] = {}
    for read in fresh:
        for reference in read.references:
            if _identified(reference):
                pool.append(reference)
            else:
                by_file[read.file].unidentified += 1
        for key, entries in read.outcomes.items():
            outcomes[(read.file, key)] = entries
    kept, duplicates = deduplicate(pool, known)
    for duplicate in duplicates:
        by_file[duplicate.reference.file].duplicates.append(duplicate)
    near = _named_alike(known)
    ids = set(taken)
    for reference in kept:
        by_file[reference.file].problems += _warnings(reference, near)
        new_id = draft_id(reference, ids)
        ids.add(new_id)
        document = draft_document(
            reference,
            new_id,
            vocabulary,
            reasons,
            outcomes.get((reference.file, reference.key or "")),
        )
        by_file[reference.file].drafts.append(Draft(new_id, reference, render(document)))
    for report in by_file.values():
        if report.unidentified:
            report.problems.append(
                problem(
                    report.file,
                    f"{report.unidentified} rows carry no title, DOI, PMID or author: not drafted",
                    "a screening export is joined to its references by their id: import it "
                    "together with the references export it belongs to",
                    code="literature.unidentified",
                    severity=WARNING,
                )
            )
    return reports


def log_path(inbox: Path, report: FileReport) -> Path:
    return (
        inbox / IMPORTS / f"{slug(Path(report.file).stem)[:60] or 'file'}-{report.sha256[:8]}.yaml"
    )


def run_import(
    paths: list[str],
    raw_dir: str | Path,
    inbox: str | Path,
    vocabulary: Vocabulary,
    reasons: dict[str, str],
) -> list[FileReport]:
    """Read, plan and write: drafts and logs that do not exist yet."""
    files: list[tuple[ReadFile, str]] = []
    for name in paths:
        try:
            data = Path(name).read_bytes()
        except OSError as err:
            read = ReadFile(
                name,
                None,
                problems=[
                    problem(
                        name,
                        f"cannot be read: {err.strerror or err}",
                        "check the path",
                        code="literature.unreadable",
                    )
                ],
            )
            files.append((read, ""))
            continue
        files.append((read_bytes(data, name), hashlib.sha256(data).hexdigest()))
    known, taken, imported = known_works(raw_dir)
    reports = plan_import(
        files, known=known, taken=taken, imported=imported, vocabulary=vocabulary, reasons=reasons
    )
    inbox_dir = Path(inbox)
    for report in reports:
        if report.already is not None or not report.sha256 or not report.read:
            continue
        written = [d for d in report.drafts if write_new(inbox_dir / f"{d.id}.yaml", d.text)]
        report.drafts = written
        text = yaml.safe_dump(report.log(), sort_keys=False, allow_unicode=True, width=100)
        write_new(log_path(inbox_dir, report), text)
    return reports
