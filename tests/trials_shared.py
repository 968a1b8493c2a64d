"""Registry exports for the trials tests: where the real ones and the fixtures are, one build.

The real exports are read from ``../shared/trials/`` (tests that need them skip, saying why,
where it is absent); the project's own small fixtures are in tests/data/trials/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_dir

from exosynth.trials.classify import TrialVocabulary
from exosynth.trials.merge import TrialsResult, build_trials
from exosynth.vocabulary import Vocabulary

SHARED = shared_dir() / "trials"
DATA = Path(__file__).parent / "data" / "trials"
SOURCES = ["bone_marrow", "adipose", "umbilical_cord"]

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/trials/ (the real registry exports) is not here"
)


def build(
    terms: TrialVocabulary,
    vocabulary: Vocabulary,
    *exports: tuple[str, bytes],
    decisions: dict | None = None,
) -> TrialsResult:
    """The trials stage on (path, bytes) exports, with the shipped sources' order."""
    return build_trials(
        list(exports), terms, vocabulary, source_order=SOURCES, decisions=decisions,
        decision_file="raw/trials/decisions.yaml" if decisions else "",
    )  # fmt: skip


def exports_of(*paths: Path | str) -> list[tuple[str, bytes]]:
    """Files as the (path, bytes) exports :func:`build` takes."""
    return [(Path(p).as_posix(), Path(p).read_bytes()) for p in paths]
