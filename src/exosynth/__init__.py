"""exosynth: reproducible evidence synthesis of MSC-exosome therapy studies.

A wing (subpackage) per evidence stream and per kind of product (docs/architecture.md);
one module per stage of the data flow.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """``exosynth.__version__``, looked up only when asked for: the installed distributions'
    metadata takes about 50 ms to search, paid otherwise by every job and every Snakemake
    start, most of which never print the version."""
    if name != "__version__":
        raise AttributeError(f"module 'exosynth' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 (see above)

    try:
        return version("exosynth")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
