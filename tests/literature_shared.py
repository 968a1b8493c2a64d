"""Where the real reference exports of ``shared/literature/`` are, for the literature tests.

The lead's checkout sits beside ``shared/`` (``../shared``); a helper's worktree one level
deeper (``../../shared``). Tests that need them skip, saying why, where neither is there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = next(
    (
        p
        for p in (
            REPO.parent / "shared" / "literature",
            REPO.parent.parent / "shared" / "literature",
        )
        if p.is_dir()
    ),
    REPO.parent / "shared" / "literature",
)
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="shared/literature/ (the real reference exports) is not here"
)
