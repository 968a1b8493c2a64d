"""The ``exosynth`` command: check records before a build, and start a new one.

``exosynth check FILE...`` runs every check a build runs (schema, the other records
of ``raw/``, vocabularies) on the named files and prints the build's messages;
``exosynth new SOURCE ID`` writes an empty record with every field explained.

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
    found = sorted_problems([*problems, *rest.problems, *cross, *terms])
    wanted = set(named)
    return [p for p in found if p.file in wanted], sum(p.file not in wanted for p in found)


def _run_check(args: argparse.Namespace) -> int:
    from exosynth.problems import errors, plural, warnings  # noqa: PLC0415

    problems, elsewhere = check(args.files, args.config)
    for problem in problems:
        print(problem.render())
    n_errors, n_warnings = len(errors(problems)), len(warnings(problems))
    files = plural(len({os.path.realpath(f) for f in args.files}), "file")
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
"""

_EXAMPLES = {
    "bone_marrow": "bone marrow, BM-MSC, hBMSC-Exos",
    "adipose": "adipose tissue, ADSC, Human AD MSC",
    "umbilical_cord": "umbilical cord, hUC-MSCs, UCMSC-Ex",
}


def new_record(source: str, record_id: str, config_path: str = CONFIG) -> Path:
    """Write ``<raw_dir>/<source>/<id>.yaml`` with every field explained; never overwrite."""
    config = _load_config(config_path)
    sources = config["sources"]
    if source not in sources:
        raise UsageError(
            f"unknown source {source!r}: use one of {', '.join(sources)} "
            f"(the sources of {config_path}; a new one needs its entry there first)"
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
    target.parent.mkdir(parents=True, exist_ok=True)
    label = sources[source].get("label", source.replace("_", " "))
    text = TEMPLATE.format(
        path=target.as_posix(),
        id_line=f"id: {record_id}",
        label=label,
        examples=_EXAMPLES.get(source, label),
    )
    with target.open("x", encoding="utf-8") as handle:  # "x": refuse a file made meanwhile
        handle.write(text)
    return target


def _run_new(args: argparse.Namespace) -> int:
    target = new_record(args.source, args.id, args.config)
    print(f"wrote {target.as_posix()}: fill it in, then run: exosynth check {target.as_posix()}")
    return 0


# -- the command ---------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="exosynth",
        description="Check study records before a build, or start a new one. Run it in the "
        "project folder; `snakemake` builds the outputs.",
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
