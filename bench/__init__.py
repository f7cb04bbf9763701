"""Shipmate's benchmark suite, run by `python -m bench`; docs/benchmarks.md has the figures and how to read them."""
