"""The ``exosynth`` command: check records before a build, and start a new one.

``exosynth check FILE...`` runs every check a build runs (schema, the other records
of ``raw/``, vocabularies) on the named files and prints the build's messages, and says of a
draft in ``raw/inbox/`` what it still lacks; ``exosynth new SOURCE ID`` writes an empty record
with every field explained; ``exosynth import FILE...`` turns reference files (RIS, PubMed,
BibTeX, EndNote XML, screening tools' tables) into drafts in ``raw/inbox/``.
BibTeX, EndNote XML, screening tools' tables) into drafts in ``raw/inbox/``;
``exosynth review-returned WORKBOOK [--apply]`` reads a reviewer's returned workbook against
the current build and, with ``--apply``, writes the accepted edits into the records.

A thin layer over the stage functions. It imports only what checking needs (no
Snakemake, no pandera, no xlsxwriter): a check is meant to answer in about a second.
Paths are the project's, as Snakemake sees them: run it in the project folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONFIG = "config/config.yaml"
CONFIG_SCHEMA = "schemas/config.schema.yaml"
STUDY_SCHEMA = "schemas/study.schema.json"
VOCABULARY_SCHEMA = "schemas/vocabulary.schema.yaml"


class UsageError(Exception):
    """Something about the command line or the project folder, said to the user as is."""


def _project_path(name: str) -> str:
    """A file's path as the build names it: relative to the project folder where possible."""
    path = os.path.relpath(os.path.abspath(name))  # noqa: PTH100 (posix strings, as discovered)
    return Path(path if not path.startswith("..") else os.path.abspath(name)).as_posix()  # noqa: PTH100


def _load_yaml(path: str | Path) -> object:
    """A YAML file through LibYAML (the vocabulary takes the pure-Python parser 0.3 s)."""
    import yaml  # noqa: PLC0415

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)


def _load_config(config_path: str) -> dict:
    from exosynth.settings import validate_against  # noqa: PLC0415

    if not Path(config_path).is_file():
        raise UsageError(
            f"{config_path} not found: run exosynth in the project folder (where the Snakefile "
            "is), or pass --config"
        )
    return validate_against(_load_yaml(config_path), CONFIG_SCHEMA, config_path)


def _load_vocabulary(path: str) -> object:
    """The vocabulary, checked against its schema as the build checks it before any rule.

    jsonschema-rs answers "valid?" in milliseconds; only an invalid vocabulary goes to
    :func:`exosynth.settings.validate_against` (pure-Python jsonschema, 0.2 s here), whose
    error lists every problem. The vocabulary's schema defaults are not needed: the
    vocabulary reads its optional parts with defaults of its own.
    """
    import jsonschema_rs  # noqa: PLC0415

    from exosynth.settings import validate_against  # noqa: PLC0415
    from exosynth.vocabulary import Vocabulary  # noqa: PLC0415

    document = _load_yaml(path)
    if not jsonschema_rs.Draft202012Validator(_load_yaml(VOCABULARY_SCHEMA)).is_valid(document):
        validate_against(document, VOCABULARY_SCHEMA, path)  # raises, naming every error
    try:
        return Vocabulary.from_mapping(document)  # type: ignore[arg-type]
    except ValueError as err:  # a spelling claimed by two codes, as the build says it
        raise UsageError(str(err)) from err


# -- check ---------------------------------------------------------------------------
def _build_name(file: str, listing: Sequence[tuple[str, int, int]]) -> str:
    """A named file of raw/ goes by the name the build gives it, however it was typed.

    Only the files of raw/ with the same file name are resolved (resolving all 100,000
    took 7 s); a file outside raw/ keeps its project path.
    """
    real = os.path.realpath(file)
    name = os.path.basename(real)  # noqa: PTH119 (posix strings, as scanned)
    for path, _, _ in listing:
        if path.endswith(name) and os.path.realpath(path) == real:
            return path
    return _project_path(file)


def check(files: Sequence[str], config_path: str = CONFIG) -> tuple[list, int]:
    """Every problem a build finds in ``files``, checked together with the rest of raw/.

    Returns the problems of the named files (errors and warnings, sorted as the report
    sorts them) and how many problems it found in other files on the way: those of their
    schema and YAML, and the cross-record and vocabulary problems of the files that share a
    key with a named one (a lower bound of what the build reports for them).
    """
    import polars as pl  # noqa: PLC0415

    from exosynth.corpus import PARSE_CACHE, scan_raw_files  # noqa: PLC0415
    from exosynth.problems import sorted_problems  # noqa: PLC0415
    from exosynth.settings import source_tables  # noqa: PLC0415
    from exosynth.studies import normalize  # noqa: PLC0415
    from exosynth.studies.loading import read_raw  # noqa: PLC0415
    from exosynth.studies.parse_cache import ingest, ingest_cached, read_cache  # noqa: PLC0415
    from exosynth.studies.quality_blocks import located  # noqa: PLC0415
    from exosynth.studies.schema_messages import study_validator  # noqa: PLC0415
    from exosynth.studies.validate import sharing_a_key, validate_records  # noqa: PLC0415

    config = _load_config(config_path)
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    raw_dir = config["raw_dir"]
    listing = scan_raw_files(raw_dir) if Path(raw_dir).is_dir() else []
    named = sorted({_build_name(f, listing) for f in files})
    vocabulary = _load_vocabulary(config["vocabulary"])
    validator = study_validator(STUDY_SCHEMA)
    # The named files are parsed; the rest of raw/ comes from the last build's parse cache
    # where the files are unchanged (at 100,000 papers, parsing them all took 40 s).
    mine, problems = ingest(read_raw(named), validator)
    cache = read_cache(*sorted(Path(PARSE_CACHE).glob("shard-*.parquet")))
    skipped = set(named)
    rest = ingest_cached(
        [f for f in listing if f[0] not in skipped], validator, cache, keep_cache=False
    )
    # Only the records that share a key with a named one can share a problem with it: the
    # rest is not checked against the others or the vocabulary again (the build does that).
    related = sharing_a_key(pl.concat([mine, rest.records]).sort("raw_file"), named)
    related, cross = validate_records(related)
    *_, terms = normalize.check(
        related, vocabulary, source_tables(config), Path(raw_dir).as_posix()
    )
    terms = located(terms, lambda raw_file: Path(raw_file).read_text(encoding="utf-8"))
    found = sorted_problems([*problems, *rest.problems, *cross, *terms])
    wanted = set(named)
    return [p for p in found if p.file in wanted], sum(p.file not in wanted for p in found)


def _is_draft(file: str, raw_dir: str) -> bool:
    from exosynth.corpus import INBOX_FOLDER  # noqa: PLC0415

    inbox = os.path.realpath(Path(raw_dir) / INBOX_FOLDER)
    return os.path.realpath(file).startswith(inbox + os.sep)


def check_drafts(files: Sequence[str], config: dict) -> list[str]:
    """What each draft of ``raw/inbox/`` still lacks, one line each (a draft never fails)."""
    from exosynth.literature.screening import draft_state, what_is_missing  # noqa: PLC0415

    lines: list[str] = []
    reasons = config["literature"]["exclusion_reasons"]
    for file in files:
        name = _project_path(file)
        try:
            document = _load_yaml(file)
        except Exception as err:  # any YAML error is said, not raised
            document = f"cannot be read: {err}"
        _, problems = draft_state(name, document, reasons)
        lines += [p.render() for p in problems]
        if isinstance(document, dict):
            lines += [f"{name}: draft: {todo}" for todo in what_is_missing(document)]
    return lines


def _run_check(args: argparse.Namespace) -> int:
    from exosynth.problems import errors, plural, warnings  # noqa: PLC0415

    config = _load_config(args.config)
    drafts = [f for f in args.files if _is_draft(f, config["raw_dir"])]
    if drafts:
        for line in check_drafts(drafts, config):
            print(line)
        print(
            f"exosynth check: {plural(len(drafts), 'draft')} (drafts are never tabulated and "
            "never fail a build)",
            file=sys.stderr,
        )
    records = [f for f in args.files if f not in drafts]
    if not records:
        return 0
    problems, elsewhere = check(records, args.config)
    for problem in problems:
        print(problem.render())
    n_errors, n_warnings = len(errors(problems)), len(warnings(problems))
    files = plural(len({os.path.realpath(f) for f in records}), "file")
    if problems:
        kinds = ", ".join(
            part
            for part in (
                plural(n_errors, "error") if n_errors else "",
                plural(n_warnings, "warning") if n_warnings else "",
            )
            if part
        )
        summary = f"{plural(len(problems), 'problem')} ({kinds}) in {files}"
    else:
        summary = f"no problems in {files}"
    print(f"exosynth check: {summary}", file=sys.stderr)
    if elsewhere:
        print(
            f"  (the rest of raw/ has at least {plural(elsewhere, 'problem')} of its own: "
            "run snakemake to see them all)",
            file=sys.stderr,
        )
    if n_errors:
        print("  errors keep a record out of the build: fix them and check again", file=sys.stderr)
    return 1 if n_errors else 0


# -- new -----------------------------------------------------------------------------
TEMPLATE = """\
# An exosynth study record (README: "The record format"), written by `exosynth new`.
# Fill in what the paper, or the table you take it from, says. Where the source does not
# say, leave the value empty: in_vitro and results then print NR. Then run
#   exosynth check {path}
{id_line:<24} # = the file name: lower-case first author, year, optional suffix
source:                  # MSC source as the paper writes it ({label}: e.g. {examples})
# donor_species:         # species the MSC came from, where the paper says (human, rat, ...)
citation:                # identifies the paper: first_author + year, or doi, or pmid, or cited_in
  first_author:          # surname of the first author as cited (Smith)
  year:                  # year of publication
  doi:                   # 10.xxxx/... or a https://doi.org/ link
  pmid:                  # PubMed id, digits only
  title:                 # title of the paper
  # cited_in:            # for a paper known only from another review's table:
  #   doi:               #   that review's DOI,
  #   url:               #   or the web address of its table (one of the two),
  #   ref:               #   and the paper's number in that review's reference list
  # ref:                 # only for the review's own papers: number in its reference list
condition:               # disease or condition as the table shows it
in_vitro:                # true (+) or false (-); empty: not reported
in_vivo:                 # one entry per animal model; delete the entry for no animal work
- model:                 # the animal model as written, without the species
  species:               # as written: Rat, Nude mice, SD rats, C57BL/6 mice, ...
  # model_type:          # only where the vocabulary cannot tell it from the model text
clinical:                # use in people; empty if there was none, else:
  # patients:            #   the number of patients treated
results:                 # main result as the table shows it; empty: not reported
# review_row:            # only for the review's own papers: the row in its table
# outcomes:              # optional, for effect sizes and meta-analysis: one entry per
#                        # outcome and timepoint of one experiment (uncomment and fill in)
# - outcome:             # as the paper names it (infarct volume, serum creatinine)
#   unit:                # optional (% of hemisphere, mg/dL)
#   timepoint:           # optional, as written (28 d)
#   primary: true        # optional: the entry analyses use when several timepoints are given
#   direction:           # lower_is_better or higher_is_better: which way a benefit moves it
#   model: 0             # optional: the in_vivo entry (counted from 0)
#   sham:                # optional healthy group (enables the normalized mean difference)
#     n:                 #   animals, mean, and sd or sem (not both)
#     mean:
#     sd:
#   control:             # the disease group given vehicle or nothing
#     n:
#     mean:
#     sd:                # or sem: (SD = SEM x sqrt(n))
#   treated:             # one entry per EV group sharing this control
#   - label:             # optional name of the group (100 ug EV)
#     n:
#     mean:
#     sem:               # or sd: (one of the two)
# From the full text, where you assess it (each block optional; uncomment to fill in):
# risk_of_bias:          # SYRCLE, each item low, high or unclear; no summed score
#   sequence_generation:         # low / high / unclear, or {{judgement: low, support: "..."}}
#   baseline_characteristics:    # groups similar at baseline
#   allocation_concealment:      # allocation concealed
#   random_housing:              # animals housed at random
#   blinding_caregivers:         # caregivers and investigators blinded
#   random_outcome_assessment:   # animals picked at random for outcome assessment
#   blinding_assessors:          # outcome assessors blinded
#   incomplete_outcome_data:     # incomplete outcome data addressed
#   selective_reporting:         # free of selective outcome reporting
#   other_bias:                  # free of other sources of bias
# ev:                    # how the vesicles were made and characterised (MISEV); empty: NR
#   isolation:           # ultracentrifugation, density gradient, SEC, precipitation, TFF, ...
#   centrifugation:      # settings as written (100,000 g, 70 min), for centrifugation only
#   particles:           # how particles were counted (NTA, TRPS, ...)
#   size:                # how the size was measured (NTA, DLS, TEM, ...)
#   markers_positive:    # a list: [CD63, CD81, TSG101]
#   markers_negative:    # a list: [calnexin]
#   imaging:             # TEM, cryo-EM, AFM, ...
# dose:                  # per administration, as the paper gives it:
#   value:               #   the number (100, 1e10)
#   unit:                #   ug protein, particles, cell equivalents, ml conditioned medium
#   per_kg:              #   true for a dose per kg body weight (or write /kg after the unit)
# route:                 # intravenous, intraperitoneal, local, intranasal, inhaled, ...
"""

_EXAMPLES = {
    "bone_marrow": "bone marrow, BM-MSC, hBMSC-Exos",
    "adipose": "adipose tissue, ADSC, Human AD MSC",
    "umbilical_cord": "umbilical cord, hUC-MSCs, UCMSC-Ex",
}


def _examples(source: str, label: str, vocabulary: dict) -> str:
    """Spellings of a source for the template's comment: curated, else the vocabulary's."""
    if source in _EXAMPLES:
        return _EXAMPLES[source]
    entry = (vocabulary.get("sources") or {}).get(source) or {}
    spellings = [*entry.get("tissue", [])[:2]]
    spellings += [f"{a.upper()}-MSC" for a in entry.get("abbreviations", [])[:1]]
    spellings += [a.upper() for a in entry.get("cell_abbreviations", [])[:1]]
    return ", ".join(spellings) or label


def _in_words(label: str) -> str:
    """A label inside a sentence: "Placenta" -> "placenta"; "Wharton's jelly", "iPSC" kept."""
    first = label.split(" ", 1)[0]
    if "'" in first or first[1:2].isupper() or first[:1].islower():
        return label
    return label[:1].lower() + label[1:]


def config_entry(source: str, label: str, table: int) -> str:
    """The config entry of a source given its own table, as YAML text under ``sources:``."""
    title = f"Exosomes derived from {_in_words(label)} mesenchymal stem cells"
    return (
        f"  {source}:  # added by `exosynth new`: edit the title and footnote as you like\n"
        f"    table: {table}\n"
        f"    label: {json.dumps(label, ensure_ascii=False)}\n"
        f"    title: {json.dumps(title, ensure_ascii=False)}\n"
        "    footnote: []  # [abbreviation, meaning] pairs printed under the table\n"
    )


def add_source(config_path: str, source: str, label: str, table: int) -> None:
    """Write the source's entry at the end of the ``sources:`` block of the config file,
    keeping every other line (and comment) as it is; refuse where there is no such block."""
    lines = Path(config_path).read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if re.match(r"^sources:\s*(#.*)?$", line)]
    if len(starts) != 1:
        raise UsageError(
            f"{config_path} has no 'sources:' block to add {source!r} to: add its entry by "
            "hand (README: configuration)"
        )
    end = starts[0] + 1
    for i in range(starts[0] + 1, len(lines)):
        if lines[i].strip() and not lines[i].startswith((" ", "#")):
            break
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            end = i + 1
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, config_entry(source, label, table))
    Path(config_path).write_text("".join(lines), encoding="utf-8")


def new_record(source: str, record_id: str, config_path: str = CONFIG) -> Path:
    """Write ``<raw_dir>/<source>/<id>.yaml`` with every field explained; never overwrite.

    A source the vocabulary knows but the config has no table for gets its config entry
    first (:func:`add_source`), its table numbered next in line.
    """
    config = _load_config(config_path)
    sources = config["sources"]
    vocabulary = _load_yaml(config["vocabulary"]) if Path(config["vocabulary"]).is_file() else {}
    known = (vocabulary or {}).get("sources") or {}  # type: ignore[union-attr]
    if source not in sources and source not in known:
        raise UsageError(
            f"unknown source {source!r}: use one of {', '.join(sources)} (the sources of "
            f"{config_path}) or a source of {config['vocabulary']} "
            f"({', '.join(s for s in known if s not in sources)})"
        )
    schema = json.loads(Path(STUDY_SCHEMA).read_text(encoding="utf-8"))
    pattern = schema["properties"]["id"]["pattern"]
    if not re.fullmatch(pattern, record_id):
        raise UsageError(
            f"id {record_id!r} is not a valid id: lower-case letters, digits and hyphens, "
            "first author, year, optional suffix (smith-2021, smith-2021b)"
        )
    target = Path(config["raw_dir"]) / source / f"{record_id}.yaml"
    if target.exists():
        raise UsageError(f"{target.as_posix()} exists already: not overwritten")
    if source not in sources:
        label = known[source].get("label", source.replace("_", " ").capitalize())
        table = max((entry["table"] for entry in sources.values()), default=0) + 1
        add_source(config_path, source, label, table)
        config = _load_config(config_path)  # checked again: the entry must pass the schema
        print(
            f"added {source} to {config_path}: Table {table} ({label}); edit its title and "
            "footnote there if you like",
            file=sys.stderr,
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    label = config["sources"][source].get("label", source.replace("_", " "))
    text = TEMPLATE.format(
        path=target.as_posix(),
        id_line=f"id: {record_id}",
        label=label,
        examples=_examples(source, label, vocabulary or {}),  # type: ignore[arg-type]
    )
    with target.open("x", encoding="utf-8") as handle:  # "x": refuse a file made meanwhile
        handle.write(text)
    return target


def _run_new(args: argparse.Namespace) -> int:
    target = new_record(args.source, args.id, args.config)
    print(f"wrote {target.as_posix()}: fill it in, then run: exosynth check {target.as_posix()}")
    return 0


def review_returned(
    workbook: str, studies_path: str, out_dir: str, *, apply: bool = False
) -> tuple[Any, list[Path], list[str]]:
    """The changes of a returned workbook (with each field's line in its record file), the
    reports written, and the refusals of ``--apply`` (empty without it)."""
    import openpyxl  # noqa: PLC0415
    import polars as pl  # noqa: PLC0415

    from exosynth.outputs.returned import read_returned, write_reports  # noqa: PLC0415
    from exosynth.outputs.words import Words  # noqa: PLC0415
    from exosynth.studies.amend import field_line  # noqa: PLC0415

    if not Path(workbook).is_file():
        raise UsageError(f"{workbook} not found")
    if not Path(studies_path).is_file():
        raise UsageError(f"{studies_path} not found: build first (snakemake), then read it back")
    studies = pl.read_parquet(studies_path)
    try:
        book = openpyxl.load_workbook(workbook)
    except Exception as err:  # a file that is not an xlsx workbook is the user's to fix
        raise UsageError(f"{workbook} is not an Excel workbook (.xlsx): {err}") from err
    try:
        config = _load_config(CONFIG)
        vocabulary = (
            _load_yaml(config["vocabulary"]) if Path(config["vocabulary"]).is_file() else {}
        )
        changes = read_returned(book, studies, Words.of(config, vocabulary))  # type: ignore[arg-type]
    except ValueError as err:
        raise UsageError(f"{workbook}: {err}") from err
    texts: dict[str, str] = {}
    lines = []
    for raw_file, field in changes.select("raw_file", "field").iter_rows():
        if raw_file and field and raw_file not in texts and Path(raw_file).is_file():
            texts[raw_file] = Path(raw_file).read_text(encoding="utf-8")
        text = texts.get(raw_file or "")
        lines.append(field_line(text, field) if text is not None and field else None)
    changes = changes.with_columns(line=pl.Series(lines, dtype=pl.Int64))
    refused: list[str] = []
    if apply:
        changes, refused = _apply(changes, studies, book)
    return changes, write_reports(changes, workbook, Path(out_dir)), refused


def _apply(changes: Any, studies: Any, book: Any) -> tuple[Any, list[str]]:
    """Apply the accepted edits; each change's status says what became of it."""
    import polars as pl  # noqa: PLC0415

    from exosynth.outputs.returned import read_provenance, typed_value  # noqa: PLC0415
    from exosynth.studies.amend import FieldEdit, apply_edits  # noqa: PLC0415

    provenance = read_provenance(book)
    records = provenance.records if provenance else {}
    edits, where, status = [], [], list(changes.get_column("status"))
    for i, row in enumerate(changes.iter_rows(named=True)):
        if row["kind"] != "changed" or row["status"] != "accepted":
            continue
        dtype = studies.schema[row["column"]]
        value, problem = typed_value(row["column"], row["after"] or "", dtype)
        if problem:
            status[i] = f"not applied: {problem}"
            continue
        digest = records.get(row["study_id"], ("", ""))[1]
        edits.append(FieldEdit(row["raw_file"], row["field"], value, digest))
        where.append(i)
    outcomes = apply_edits(Path(), edits)
    refused = []
    for i, outcome in zip(where, outcomes, strict=True):
        status[i] = "applied" if outcome.applied else f"not applied: {outcome.reason}"
        if not outcome.applied:
            refused.append(f"{outcome.edit.raw_file} [{outcome.edit.field}]: {outcome.reason}")
    return changes.with_columns(status=pl.Series(status, dtype=pl.String)), refused


def _run_review_returned(args: argparse.Namespace) -> int:
    changes, written, refused = review_returned(
        args.workbook, args.studies, args.out, apply=args.apply
    )
    counts = dict(changes.group_by("kind").len().iter_rows())
    print(
        f"{args.workbook}: {counts.get('changed', 0)} changed cells, "
        f"{counts.get('comment', 0)} comments, {counts.get('row_added', 0)} rows added, "
        f"{counts.get('row_deleted', 0)} rows deleted -> {', '.join(p.as_posix() for p in written)}"
    )
    if not args.apply:
        return 0
    statuses = changes.filter(kind="changed").get_column("status").to_list()
    tried = [s for s in statuses if s == "applied" or s.startswith("not applied: ")]
    accepted = [s for s in tried if s == "applied" or "computed by the build" not in s]
    applied = statuses.count("applied")
    print(f"applied {applied} of {len(accepted)} accepted edits")
    for line in refused:
        print(f"not applied: {line}")
    return 1 if applied < len(accepted) else 0


# -- import --------------------------------------------------------------------------
def import_files(files: Sequence[str], config_path: str = CONFIG) -> list:
    """Each file's references into drafts in ``<raw_dir>/inbox/`` (exosynth.literature)."""
    from exosynth.corpus import INBOX_FOLDER  # noqa: PLC0415
    from exosynth.literature.importer import run_import  # noqa: PLC0415

    config = _load_config(config_path)
    vocabulary = _load_vocabulary(config["vocabulary"])
    raw_dir = config["raw_dir"]
    return run_import(
        [_project_path(f) for f in files],
        raw_dir,
        Path(raw_dir) / INBOX_FOLDER,
        vocabulary,  # type: ignore[arg-type]
        config["literature"]["exclusion_reasons"],
    )


def _run_import(args: argparse.Namespace) -> int:
    from exosynth.problems import errors, plural  # noqa: PLC0415

    reports = import_files(args.files, args.config)
    failed = 0
    for report in reports:
        for problem in report.problems:
            print(problem.render())
        if errors(report.problems):
            failed += 1
            continue
        if report.already is not None:
            print(f"{report.file}: imported before ({report.already}): nothing written")
            continue
        print(
            f"{report.file}: {report.format or 'refused'}: {plural(report.read, 'reference')} "
            f"read, {plural(len(report.duplicates), 'duplicate')}, "
            f"{plural(len(report.drafts), 'draft')} written"
        )
    print(
        "exosynth import: drafts are in raw/inbox/; decide each (screening.decision), and "
        "`exosynth check FILE` says what an included one still lacks",
        file=sys.stderr,
    )
    return 1 if failed else 0


# -- the command ---------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="exosynth",
        description="Check study records before a build, start a new one, or import reference "
        "files as drafts. Run it in the project folder; `snakemake` builds the outputs.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser(
        "check",
        help="run every check of a build on the named files",
        description="Run every check a build runs on the named files: the schema, the other "
        "records of raw/ (duplicate ids, DOIs, PMIDs, references and review rows) and the "
        "vocabularies. Prints the build's messages; exits 1 if there is an error, 0 if there "
        "are only warnings or none.",
    )
    check_cmd.add_argument("files", nargs="+", metavar="FILE", help="study record(s), YAML")
    check_cmd.add_argument("--config", default=CONFIG, help=f"configuration (default {CONFIG})")
    check_cmd.set_defaults(run=_run_check)
    new_cmd = commands.add_parser(
        "new",
        help="write an empty record with every field explained",
        description="Write <raw_dir>/SOURCE/ID.yaml: every field of a record, each explained "
        "in a comment, nothing filled in but the id. Refuses to overwrite a file.",
    )
    new_cmd.add_argument("source", metavar="SOURCE", help="source code: bone_marrow, adipose, ...")
    new_cmd.add_argument("id", metavar="ID", help="the record's id, e.g. smith-2021")
    new_cmd.add_argument("--config", default=CONFIG, help=f"configuration (default {CONFIG})")
    new_cmd.set_defaults(run=_run_new)
    returned_cmd = commands.add_parser(
        "review-returned",
        help="list a returned workbook's changes and comments; --apply writes the edits",
        description="Read a reviewer's returned workbook against the current build: every "
        "changed cell and cell comment with the record file, field and line it came from, "
        "rows added or deleted; written as Markdown and CSV. --apply writes the accepted "
        "edits into the records (comments and layout kept), never into a record changed "
        "since the workbook was built; exits 1 if an accepted edit could not be applied.",
    )
    returned_cmd.add_argument("workbook", metavar="WORKBOOK", help="the returned .xlsx")
    returned_cmd.add_argument(
        "--apply", action="store_true", help="write the accepted edits into the records"
    )
    returned_cmd.add_argument(
        "--studies",
        default="results/studies.parquet",
        help="the current build's study table (default results/studies.parquet)",
    )
    returned_cmd.add_argument(
        "--out", default="results/returned", help="folder of the reports (default results/returned)"
    )
    returned_cmd.set_defaults(run=_run_review_returned)
    import_cmd = commands.add_parser(
        "import",
        help="reference files into draft records in raw/inbox/",
        description="Read reference files (RIS, PubMed .nbib, BibTeX, EndNote XML, CSV/XLSX "
        "exports of screening tools; the format is told by the content) and write one draft "
        "record per reference into raw/inbox/, with a log per file. References already in "
        "raw/ or twice in the files are reported, not written; a file imported before writes "
        "nothing; no file is overwritten. Exits 1 if a file was refused.",
    )
    import_cmd.add_argument("files", nargs="+", metavar="FILE", help="reference file(s)")
    import_cmd.add_argument("--config", default=CONFIG, help=f"configuration (default {CONFIG})")
    import_cmd.set_defaults(run=_run_import)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    from exosynth.settings import ConfigError  # noqa: PLC0415

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, ConfigError) as err:
        print(f"exosynth {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
