"""exosynth: reproducible evidence synthesis of MSC-exosome therapy studies.

One module per stage of the data flow: :mod:`ingest`, :mod:`validate`,
:mod:`normalize`, :mod:`stats`, :mod:`export`, :mod:`report`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("exosynth")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
