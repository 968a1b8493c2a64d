"""Codes into words for readers: the one place a code of a CSV becomes the words of a sheet.

The CSV and Parquet files, and the data dictionary, keep the codes (``bone_marrow``,
``phase1_2``, ``not_yet_recruiting``); the workbook, the HTML pages and the figures show
the words of this module. A column of :data:`exosynth.outputs.columns.COLUMNS` names the kind
of code it holds (``Column.values``) and :func:`Words.column` turns it into words, so a sheet
added later shows words by naming its columns' kinds, not by a map of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

ALL = "all"
ALL_SOURCES = "All sources"  # the label of the translation gap's "all" row
UNSPECIFIED = "unspecified"
UNSPECIFIED_WORDS = "Source not named"  # a trial whose registry text names no tissue
LIST_SEPARATOR = ";"  # studies.csv joins several codes with ";"
SHOWN_SEPARATOR = "; "

STAGES = {"in_vitro": "In vitro", "animal": "Animal", "clinical": "Clinical (people)"}
EV_CLASSES = {
    "msc_ev": "MSC-EV",
    "msc_secretome": "MSC secretome (not EV)",
    "other": "Other (not MSC-EV)",
}
SOURCE_BASES = {
    "registry": "Registry text",
    "product": "Product list",
    "decision": "Author's decision",
}
PHASES = {
    "early_phase1": "Early phase 1",
    "phase1": "Phase 1",
    "phase1_2": "Phase 1/2",
    "phase2": "Phase 2",
    "phase2_3": "Phase 2/3",
    "phase3": "Phase 3",
    "phase4": "Phase 4",
    "not_applicable": "Not applicable",
}
STATUSES = {"active_not_recruiting": "Active, not recruiting"}  # the rest: in plain words
MODEL_TYPES = {
    "xenograft": "Tumour or xenograft",
    "wound": "Wound",
    "bone_defect": "Bone or cartilage defect",
    "ex_vivo": "Ex vivo organ or tissue",
    "disease_model": "Disease model",
    "clinical": "Use in people",
    "unclassified": "Unclassified",
}
# Words kept upper case when a code is put into words (msc_cell_therapy: MSC cell therapy).
_ACRONYMS = {"msc": "MSC", "ev": "EV", "evs": "EVs", "ipsc": "iPSC", "esc": "ESC"}


def plain(code: str) -> str:
    """A code in plain words: ``not_yet_recruiting`` -> "Not yet recruiting"."""
    words = [_ACRONYMS.get(w, w) for w in code.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Words:
    """The words of every code a reader may meet, for one build's config and vocabulary."""

    sources: Mapping[str, str] = field(default_factory=dict)
    species: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Mapping[str, Any], vocabulary: Mapping[str, Any] | None = None) -> Words:
        """From the config's source labels (they win) and the vocabulary's labels.

        ``vocabulary`` is config/vocabulary.yaml as read (only its ``sources`` and ``species``
        labels are used); without it, codes outside the config are put in plain words.
        """
        vocabulary = vocabulary or {}
        sources = {
            code: entry.get("label", plain(code))
            for code, entry in (vocabulary.get("sources") or {}).items()
        }
        sources.update(
            {
                code: entry.get("label", plain(code))
                for code, entry in (config.get("sources") or {}).items()
            }
        )
        sources.update({ALL: ALL_SOURCES, UNSPECIFIED: UNSPECIFIED_WORDS})
        species = {
            code: entry.get("label", plain(code))
            for code, entry in (vocabulary.get("species") or {}).items()
        }
        return cls(sources=sources, species=species)

    def maps(self) -> dict[str, Mapping[str, str]]:
        """Each kind of code (``Column.values``) and its words."""
        return {
            "source": self.sources,
            "species": self.species,
            "stage": STAGES,
            "model_type": MODEL_TYPES,
            "ev_class": EV_CLASSES,
            "source_basis": SOURCE_BASES,
            "phase": PHASES,
            "status": STATUSES,
            "code": {},
        }

    def word(self, kind: str, code: str) -> str:
        """One code of ``kind`` in words (a code no map knows: in plain words)."""
        return self.maps()[kind].get(code) or plain(code)

    def column(self, series: pl.Series, kind: str, *, several: bool = False) -> pl.Series:
        """A column of codes of ``kind`` in words; ``several``: ";"-joined codes, each in words.

        Nulls stay null. Each distinct code is looked up once, not per row.
        """
        if several:
            parts = series.str.split(LIST_SEPARATOR).list.eval(pl.element().str.strip_chars())
            return (
                pl.DataFrame({"row": pl.int_range(series.len(), eager=True), "codes": parts})
                .explode("codes")
                .with_columns(codes=self.column(parts.explode(), kind))
                .group_by("row", maintain_order=True)
                .agg(pl.col("codes").drop_nulls().str.join(SHOWN_SEPARATOR))
                .with_columns(
                    codes=pl.when(series.is_null()).then(None).otherwise(pl.col("codes"))
                )["codes"]
                .alias(series.name)
            )
        known = self.maps()[kind]
        distinct = series.drop_nulls().unique().to_list()
        mapping = {code: known.get(code) or plain(code) for code in distinct}
        return series.replace_strict(mapping, default=None, return_dtype=pl.String)


def words_of_codes(codes: list[str], words: Mapping[str, str]) -> list[str]:
    """Codes of a figure's legend or axis in words (a code without words: in plain words)."""
    return [words.get(c) or plain(c) for c in codes]
