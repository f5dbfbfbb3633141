"""pytest-mp: run a pytest suite over many processes on many hosts, with the
grouping strategies and cross-process fixtures of the original pytest-mp."""

import os as _os


def _read_version():
    # VERSION is the one definition: an installed package carries a copy, a source
    # tree (an editable install) has it two levels up.
    here = _os.path.dirname(_os.path.abspath(__file__))
    for path in (_os.path.join(here, "VERSION"), _os.path.join(here, "..", "..", "VERSION")):
        try:
            with open(path, encoding="ascii") as f:
                return f.read().strip()
        except OSError:
            pass
    return "unknown"


__version__ = _read_version()
