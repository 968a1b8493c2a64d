"""EndNote XML files (File > Export > XML) into references, with the standard library's parser.

Parsed through ``defusedxml`` (entity expansion and external entities refused: a library
file comes from outside). EndNote wraps every value in ``<style>`` elements and joins the
values of one field with carriage returns (``&#xD;``): a value is the text of all its
descendants, and multi-valued fields split at ``\\r``. ``accession-num`` is the PMID in
PubMed records, ``electronic-resource-num`` the DOI.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from exosynth.literature.references import (
    Reference,
    clean,
    entry_reference,
    normalize_doi,
    normalize_pmid,
    problem,
)
from exosynth.problems import Problem

FORMAT = "endnote_xml"


def is_endnote_xml(text: str) -> bool:
    head = text[:4000].lstrip()
    return head.startswith(("<?xml", "<xml")) and "<record" in text[:200000]


def read_endnote_xml(text: str, file: str) -> tuple[list[Reference], list[Problem]]:
    """Every ``<record>``; an XML error is one problem naming its line and column."""
    try:
        root = safe_fromstring(text.encode("utf-8"))
    except ParseError as err:
        line, column = err.position
        return [], [
            problem(
                file,
                f"XML that cannot be read at line {line}, column {column}: {err}",
                "the file may be cut off or edited by hand: export it again from EndNote",
                code="literature.unreadable",
                line=line,
            )
        ]
    except (DefusedXmlException, ValueError) as err:
        return [], [
            problem(
                file,
                f"XML refused: {err}",
                "export the library again from EndNote (entity declarations are not read)",
                code="literature.unreadable",
            )
        ]
    records = root.findall(".//record")
    references = [_reference(r, file, i) for i, r in enumerate(records, start=1)]
    if not references:
        return [], [
            problem(
                file,
                "no <record> element found",
                "export the library as EndNote XML",
                code="literature.empty",
            )
        ]
    return references, []


def _text(element: Element | None) -> str | None:
    return None if element is None else "".join(element.itertext())


def _values(record: Element, path: str) -> list[str]:
    """Every value of a field: each element's text split at EndNote's carriage returns."""
    found: list[str] = []
    for element in record.findall(path):
        for part in re.split(r"\r\n?|\n", _text(element) or ""):
            value = clean(part)
            if value:
                found.append(value)
    return found


def _first(record: Element, *paths: str) -> str | None:
    for path in paths:
        values = _values(record, path)
        if values:
            return values[0]
    return None


def _reference(record: Element, file: str, index: int) -> Reference:
    accession = _first(record, "accession-num")
    pmid = normalize_pmid(accession) if accession and accession.isdigit() else None
    identifiers = [("record_number", v) for v in _values(record, "rec-number")]
    if accession and pmid is None:
        identifiers.append(("accession", accession))
    identifiers += [("pmc", v) for v in _values(record, "custom2") if v.startswith("PMC")]
    return entry_reference(
        file,
        index,
        None,
        FORMAT,
        tuple(_values(record, "contributors/authors/author")),
        year=_first(record, "dates/year"),
        title=_text(record.find("titles/title")),
        journal=_first(record, "periodical/full-title", "titles/secondary-title"),
        abstract=_text(record.find("abstract")),
        database=_first(record, "remote-database-provider", "remote-database-name"),
        doi=normalize_doi(_first(record, "electronic-resource-num")),
        pmid=pmid,
        key=_first(record, "rec-number"),
        identifiers=tuple(identifiers),
    )
