#!/usr/bin/env bash
# Mutation testing of the stage modules with mutmut 3 (not part of CI: it takes minutes per module).
#
#   pip install -e ".[test,mutation]"
#   tools/mutation.sh                      # every stage module
#   tools/mutation.sh synthesis/gap studies/validate   # only these (paths under src/exosynth/)
#
# Each module is mutated in a scratch copy of the project (mutmut writes mutants/ next to the
# sources) and every mutant runs against the fast unit tests of that module only, never the
# end-to-end tests (they start Snakemake in a subprocess, where mutmut cannot switch mutants).
# Prints one line per module: killed, survived, timed out, no tests, other; the survivors are
# listed below it (`mutmut show <name>` in the scratch copy shows a diff). MUTATION_KEEP=1 keeps
# the scratch copies; MUTATION_CHILDREN (default 2) is how many mutants run at once;
# MUTATION_ONLY='exosynth.synthesis.gap.x_wilson_interval*' limits the run to mutants matching the globs
# (a full module takes about 10 s per mutant on a loaded 2-core machine: pytest starts afresh
# and the session fixtures build the study table of the 26 real records each time).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
children="${MUTATION_CHILDREN:-2}"
"$python" -m mutmut --version >/dev/null 2>&1 || {
  echo "mutmut is not installed: $python -m pip install -e \".[mutation]\"" >&2
  exit 2
}

# The unit tests of each stage module (a module's own test file, plus the files that test it
# through its functions on small frames).
declare -A TESTS=(
  [synthesis/gap]="tests/test_stats.py tests/test_trials.py"  # trial counts: tested with the trials
  [studies/normalize]="tests/test_normalize.py"
  [studies/validate]="tests/test_validate.py"
  [vocabulary]="tests/test_normalize.py tests/test_vocabulary.py"
  [source_grammar]="tests/test_normalize.py tests/test_vocabulary.py"  # vocabulary's until split
  [outputs/tables]="tests/test_export.py"
  [outputs/workbook]="tests/test_export.py"
  [outputs/ledger]="tests/test_report.py"
  [studies/records]="tests/test_ingest.py tests/test_properties.py"
  [studies/loading]="tests/test_ingest.py tests/test_properties.py"
  [studies/schema_messages]="tests/test_ingest.py tests/test_properties.py"
)
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(synthesis/gap studies/validate outputs/ledger vocabulary
  source_grammar studies/normalize outputs/tables outputs/workbook studies/records studies/loading
  studies/schema_messages)

scratch_root="$(mktemp -d "${TMPDIR:-/tmp}/exosynth-mutation.XXXXXX")"
[ "${MUTATION_KEEP:-0}" = 1 ] || trap 'rm -rf "$scratch_root"' EXIT

printf '%-11s %7s %8s %9s %8s %6s %7s %s\n' module mutants killed survived "timed out" "no tests" other score
for module in "${modules[@]}"; do
  [ -n "${TESTS[$module]+x}" ] || { echo "unknown module: $module" >&2; exit 2; }
  work="$scratch_root/${module//\//-}"
  mkdir -p "$work"
  # The project as it is on disk (uncommitted edits included), without outputs and caches.
  (cd "$repo" && tar --exclude=./.venv --exclude=./results --exclude=./mutants \
      --exclude=./.snakemake --exclude=.git --exclude=__pycache__ --exclude=.pytest_cache \
      --exclude=.ruff_cache -cf - .) | tar -xf - -C "$work"
  tests=()
  for file in ${TESTS[$module]}; do [ -f "$work/$file" ] && tests+=("\"$file\""); done
  [ ${#tests[@]} -gt 0 ] || tests=("\"tests/test_$module.py\"")
  selection="$(IFS=,; echo "${tests[*]}")"
  cat >>"$work/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["src/"]
only_mutate = ["src/exosynth/$module.py"]
pytest_add_cli_args = ["-m", "not e2e", "-p", "no:cacheprovider", "-q", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
pytest_add_cli_args_test_selection = [$selection]
also_copy = ["config/", "schemas/", "raw/", "workflow/", "Snakefile"]
# polars's thread pool does not survive a fork once it has run a query (the child hangs and
# counts as a timeout), so mutants are forked from a server that has only imported libraries.
process_isolation = "forkserver"
# mutmut times a test's call, not its fixtures: a mutant whose test needs the session's study
# table would time out at mutmut's default limit (15x the call) though it only waits for setup.
timeout_constant = 60.0
timeout_multiplier = 2.0
forkserver_warmup = "import"
preload_modules_file = "$work/preload.txt"
EOF
  printf '%s\n' polars pandera.polars jsonschema jsonschema_rs yaml xlsxwriter openpyxl \
    >"$work/preload.txt"
  (cd "$work" && "$python" -m mutmut run --max-children "$children" ${MUTATION_ONLY:-} >"$work/mutmut.log" 2>&1) || {
    echo "$module: mutmut failed, see $work/mutmut.log (MUTATION_KEEP=1 keeps it)" >&2
    tail -20 "$work/mutmut.log" >&2
    continue
  }
  (cd "$work" && "$python" -m mutmut results --all true >"$work/results.txt" 2>&1) || true
  "$python" - "$module" "$work/results.txt" ${MUTATION_ONLY:-} <<'EOF'
import collections, fnmatch, sys
module, path, only = sys.argv[1], sys.argv[2], sys.argv[3:]
status = collections.Counter()
survivors = []
for line in open(path, encoding="utf-8"):
    name, _, verdict = line.strip().rpartition(": ")
    if not name or (only and not any(fnmatch.fnmatch(name, glob) for glob in only)):
        continue
    status[verdict] += 1
    if verdict == "survived":
        survivors.append(name)
total = sum(status.values())
killed, survived = status["killed"], status["survived"]
timeout, no_tests = status["timeout"], status["no tests"]
other = total - killed - survived - timeout - no_tests
tested = killed + survived + timeout
score = f"{100 * (killed + timeout) / tested:.1f}%" if tested else "-"
print(f"{module:<11} {total:7} {killed:8} {survived:9} {timeout:9} {no_tests:8} {other:6} {score:>7}")
for name in survivors:
    print(f"    survived: {name}")
EOF
done
