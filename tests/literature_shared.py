"""Where the real reference exports of ``shared/literature/`` are, for the literature tests.

The lead's checkout sits beside ``shared/`` (``../shared``); a helper's worktree one level
deeper (``../../shared``); EXOSYNTH_SHARED names it in a scratch copy (conftest.shared_dir).
Tests that need them skip, saying why, where none is there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_dir

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_dir() / "literature"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="shared/literature/ (the real reference exports) is not here"
)
