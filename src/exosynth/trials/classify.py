"""What a trial tests: the trial vocabulary (config/trials.yaml), its EV class and MSC source."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from exosynth.trials.shape import UNSPECIFIED, RegistryRecord
from exosynth.vocabulary import SourceMatch, Vocabulary

if TYPE_CHECKING:  # polars is imported where frames are built: the Snakefile reads this module
    pass


# -- the vocabulary of config/trials.yaml ------------------------------------------------------
def fold_code(text: str) -> str:
    """The form codes are compared in: "Phase 1", "PHASE1" -> "phase 1", "phase1"."""
    return " ".join(re.sub(r"[\s_,\-]+", " ", text).split()).casefold()


@dataclass(frozen=True)
class EvRule:
    name: str
    ev_class: str
    description: str
    study_type: tuple[str, ...]
    matches: tuple[str, ...]
    with_: tuple[str, ...]
    without: tuple[str, ...]
    product: bool


@dataclass(frozen=True)
class Product:
    name: str
    source: str
    pattern: re.Pattern[str]
    documented: str


@dataclass
class TrialVocabulary:
    """config/trials.yaml as lookup tables and compiled patterns."""

    phases: dict[str, str]
    phase_pairs: dict[frozenset[str], str]
    statuses: dict[str, str]
    study_types: dict[str, str]
    patterns: dict[str, re.Pattern[str]]
    rules: list[EvRule]
    products: list[Product]
    source_spellings: list[tuple[re.Pattern[str], str]]
    raw: dict = field(repr=False, default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: dict) -> TrialVocabulary:
        def table(entries: dict[str, list[str]], where: str) -> dict[str, str]:
            found: dict[str, str] = {}
            for code, spellings in entries.items():
                for spelling in [code, *spellings]:
                    key = fold_code(spelling)
                    if found.get(key, code) != code:
                        raise ValueError(
                            f"config/trials.yaml {where}: {spelling!r} is listed for both "
                            f"{found[key]!r} and {code!r}"
                        )
                    found[key] = code
            return found

        patterns = {
            name: re.compile("|".join(f"(?:{p})" for p in items), re.IGNORECASE)
            for name, items in raw["patterns"].items()
        }
        rules = []
        for entry in raw["ev_rules"]:
            when = entry["when"]
            for group in [
                *when.get("matches", []),
                *when.get("with", []),
                *when.get("without", []),
            ]:
                if group not in patterns:
                    raise ValueError(
                        f"config/trials.yaml ev_rules.{entry['name']}: no pattern list {group!r}"
                    )
            rules.append(
                EvRule(
                    name=entry["name"],
                    ev_class=entry["class"],
                    description=" ".join(entry["description"].split()),
                    study_type=tuple(when.get("study_type", [])),
                    matches=tuple(when.get("matches", [])),
                    with_=tuple(when.get("with", [])),
                    without=tuple(when.get("without", [])),
                    product=bool(when.get("product")),
                )
            )
        products = [
            Product(
                name=name,
                source=entry["source"],
                pattern=_words([name, *entry["spellings"]]),
                documented=" ".join(entry["documented"].split()),
            )
            for name, entry in raw["products"].items()
        ]
        spellings = [
            (_words(words), code) for code, words in (raw.get("source_spellings") or {}).items()
        ]
        return cls(
            phases=table(raw["phases"], "phases"),
            phase_pairs={frozenset(pair): code for code, pair in raw["phase_pairs"].items()},
            statuses=table(raw["statuses"], "statuses"),
            study_types=table(raw["study_types"], "study_types"),
            patterns=patterns,
            rules=rules,
            products=products,
            source_spellings=spellings,
            raw=raw,
        )

    @property
    def phase_codes(self) -> list[str]:
        return [*dict.fromkeys(self.phases.values()), *self.phase_pairs.values()]


def _words(spellings: Iterable[str]) -> re.Pattern[str]:
    """Any of the spellings as a whole word (not inside a longer word), case-insensitive."""
    alternatives = sorted({re.escape(s.casefold()) for s in spellings}, key=len, reverse=True)
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(alternatives)})(?![a-z0-9])", re.IGNORECASE)


# -- the MSC source named in free text ---------------------------------------------------------
SourceFinder = Callable[[str], SourceMatch | None]


def source_finder(vocabulary: Vocabulary) -> SourceFinder:
    """The source grammar's free-text finder (``Vocabulary.find_source``): one tissue or None."""
    return vocabulary.find_source


_CLAUSE = re.compile(r"\s*(?:\band\b|\bor\b|\bwith\b|\bversus\b|\bvs\b\.?|[,;+|/]|\s-\s)\s*", re.I)


def _clauses(text: str) -> list[str]:
    """A title or intervention cut at "and", "or", "with", commas...: each product apart."""
    return [c for c in _CLAUSE.split(text) if c and c.strip()]


def _name(intervention: str) -> str:
    """``Biological: MSC-Exos`` -> ``MSC-Exos``: the type is not part of the product's name."""
    kind, sep, name = intervention.partition(": ")
    return name if sep and len(kind) < 30 else intervention


@dataclass
class Classified:
    ev_class: str
    ev_rule: str
    source: str
    source_basis: str
    source_term: str


def _first_rule(
    terms: TrialVocabulary, joined: str, study_type: str, product: Product | None
) -> tuple[str, str]:
    """The name and class of the first rule of config/trials.yaml whose condition holds."""
    found = {name for name, pattern in terms.patterns.items() if pattern.search(joined)}
    has = found.__contains__  # each pattern list searched once per trial, not once per rule
    for rule in terms.rules:
        held = (
            (not rule.study_type or study_type in rule.study_type)
            and (not rule.product or product is not None)
            and all(has(g) for g in rule.matches)
            and (not rule.with_ or any(has(g) for g in rule.with_))
            and not any(has(g) for g in rule.without)
        )
        if held:
            return rule.name, rule.ev_class
    return "no_rule", "other"  # the vocabulary's last rule holds always; never leave one unclassed


# The pattern lists whose clauses may name a class's tissue: for an EV trial the clause with
# the EVs, not a comparator arm of cells from another tissue. Other classes: any clause.
_BEARING = {"msc_ev": ("ev",), "msc_secretome": ("secretome", "ev_enriched_cells", "ev")}


def _source_in(
    texts: Sequence[str], groups: Sequence[str], terms: TrialVocabulary, find_source: SourceFinder
) -> tuple[str, str] | None:
    """The source code and the clause naming it: the first clause that names one tissue."""
    patterns = [terms.patterns[g] for g in groups if g in terms.patterns]
    for clause in (c for text in texts for c in _clauses(text)):
        if patterns and not any(p.search(clause) for p in patterns):
            continue
        found = find_source(clause)
        if found is not None:
            return found.source, clause.strip()
        for pattern, code in terms.source_spellings:
            if pattern.search(clause):
                return code, clause.strip()
    return None


def classify(
    record: RegistryRecord,
    study_type: str,
    terms: TrialVocabulary,
    find_source: SourceFinder,
    forced_class: str | None = None,
) -> Classified:
    """The EV class (the first rule of config/trials.yaml that holds) and the MSC source.

    The source: a tissue the registry text names in a clause about the class's product
    (title and interventions first, the brief summary after the product list), else the
    product list for a named MSC-EV product, else ``unspecified``: never a guess.
    """
    texts = [record.title, *(_name(i) for i in record.interventions)]
    if not record.interventions and record.summary:
        texts.append(record.summary)  # an export without interventions: the summary says what
    joined = "\n".join(texts)
    product = next((p for p in terms.products if p.pattern.search(joined)), None)
    if forced_class is None:
        rule_name, ev_class = _first_rule(terms, joined, study_type, product)
    else:
        rule_name, ev_class = "decision", forced_class
    groups = _BEARING.get(ev_class, ())
    found = _source_in(texts, groups, terms, find_source)
    if found:
        return Classified(ev_class, rule_name, found[0], "registry", found[1])
    if product is not None and ev_class == "msc_ev":
        return Classified(ev_class, rule_name, product.source, "product", product.name)
    if record.summary and record.summary not in texts:
        found = _source_in([record.summary], groups, terms, find_source)
        if found:
            return Classified(ev_class, rule_name, found[0], "registry", found[1])
    return Classified(ev_class, rule_name, UNSPECIFIED, "", "")
