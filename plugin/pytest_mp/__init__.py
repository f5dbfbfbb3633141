"""pytest-mp: run a pytest suite over many processes on many hosts, with the
grouping strategies and cross-process fixtures of the original pytest-mp."""

__version__ = "0.1.0"
